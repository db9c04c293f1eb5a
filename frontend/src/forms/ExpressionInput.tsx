/** A text input (or textarea) that accepts `{{ … }}` expressions and offers the paths it may read. */
import { useId, useMemo, useRef, useState, useSyncExternalStore, type ChangeEvent, type KeyboardEvent } from "react";
import { expressionAt, hasExpression, matchPaths } from "../document/expressions";
import { insertSuggestion, withRunPaths } from "../document/samples";
import { runSamples } from "../executions/samples";

export interface ExpressionInputProps {
  id?: string;
  value: string;
  onChange: (value: string) => void;
  /** Paths offered inside `{{ … }}`; none: a plain text field. */
  paths?: readonly string[];
  multiline?: boolean;
  placeholder?: string;
  invalid?: boolean;
  ariaLabel?: string;
  onBlur?: () => void;
}

export function ExpressionInput({ id, value, onChange, paths, multiline, placeholder, invalid, ariaLabel, onBlur }: ExpressionInputProps) {
  const ref = useRef<HTMLInputElement & HTMLTextAreaElement>(null);
  const listId = useId();
  const [suggestions, setSuggestions] = useState<string[]>([]);
  const [active, setActive] = useState(0);
  // The last run's actual fields join the static paths (only under nodes already offered: upstream ones).
  const samples = useSyncExternalStore(runSamples.subscribe, runSamples.get);
  const offered = useMemo(() => (paths?.length ? withRunPaths(paths, samples) : null), [paths, samples]);

  const refresh = (text: string, caret: number | null) => {
    if (!offered || caret === null) return setSuggestions([]);
    const open = expressionAt(text, caret);
    setSuggestions(open ? matchPaths(offered.paths, open.prefix) : []);
    setActive(0);
  };

  const change = (event: ChangeEvent<HTMLInputElement | HTMLTextAreaElement>) => {
    onChange(event.target.value);
    refresh(event.target.value, event.target.selectionStart);
  };

  const accept = (path: string) => {
    const element = ref.current;
    if (!element) return;
    const caret = element.selectionStart ?? value.length;
    const open = expressionAt(value, caret);
    if (!open) return;
    const next = insertSuggestion(value, open.start, caret, path);
    onChange(next.text);
    setSuggestions([]);
    requestAnimationFrame(() => {
      element.focus();
      element.setSelectionRange(next.caret, next.caret);
    });
  };

  const keyDown = (event: KeyboardEvent<HTMLInputElement | HTMLTextAreaElement>) => {
    if (!suggestions.length) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : -1;
      setActive((index) => (index + step + suggestions.length) % suggestions.length);
    } else if (event.key === "Enter" || event.key === "Tab") {
      event.preventDefault();
      accept(suggestions[active]);
    } else if (event.key === "Escape") {
      event.stopPropagation();
      setSuggestions([]);
    }
  };

  const common = {
    id,
    ref,
    value,
    placeholder,
    spellCheck: false,
    "aria-label": ariaLabel,
    "aria-invalid": invalid || undefined,
    "aria-autocomplete": paths?.length ? ("list" as const) : undefined,
    "aria-controls": suggestions.length ? listId : undefined,
    "aria-expanded": paths?.length ? suggestions.length > 0 : undefined,
    className: `nf-input ${multiline ? "nf-textarea" : ""} ${hasExpression(value) ? "nf-input--expression" : ""}`,
    onChange: change,
    onKeyDown: keyDown,
    onClick: (event: { currentTarget: HTMLInputElement | HTMLTextAreaElement }) => refresh(value, event.currentTarget.selectionStart),
    onBlur: () => {
      // Let a click on a suggestion land first.
      setTimeout(() => setSuggestions([]), 150);
      onBlur?.();
    },
  };

  return (
    <div className="nf-expression">
      {multiline ? <textarea rows={3} {...common} /> : <input type="text" {...common} />}
      {suggestions.length > 0 && (
        <ul className="nf-suggestions" id={listId} role="listbox" aria-label="Context paths">
          {suggestions.map((path, index) => (
            <li key={path} role="option" aria-selected={index === active} className={index === active ? "is-active" : ""}
              title={offered?.samples.has(path) ? `In the last run: ${offered.samples.get(path)}` : undefined}
              onMouseDown={(event) => {
                event.preventDefault();
                accept(path);
              }}>
              {path}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
