/** JSON edited as text: the value changes only when the text parses; the parser's message shows otherwise. */
import { useEffect, useRef, useState } from "react";
import { parseJson } from "./schema";

function show(value: unknown): string {
  return value === undefined ? "" : JSON.stringify(value, null, 2);
}

export function JsonField({ id, value, onChange, placeholder, rows = 4, ariaLabel }: {
  id?: string;
  value: unknown;
  onChange: (value: unknown) => void;
  placeholder?: string;
  rows?: number;
  ariaLabel?: string;
}) {
  const [text, setText] = useState(() => show(value));
  const [error, setError] = useState<string | null>(null);
  const emitted = useRef<unknown>(value);

  // A change from elsewhere (undo, another field) replaces the text; our own echo does not.
  useEffect(() => {
    if (value !== emitted.current) {
      emitted.current = value;
      setText(show(value));
      setError(null);
    }
  }, [value]);

  return (
    <div className="nf-json">
      <textarea id={id} className="nf-input nf-textarea nf-mono" rows={Math.max(rows, Math.min(14, text.split("\n").length))} value={text}
        spellCheck={false} placeholder={placeholder} aria-label={ariaLabel} aria-invalid={error ? true : undefined}
        onChange={(event) => {
          setText(event.target.value);
          const parsed = parseJson(event.target.value);
          if (parsed.ok) {
            setError(null);
            emitted.current = parsed.value;
            onChange(parsed.value);
          } else setError(parsed.message);
        }} />
      {error && <div className="nf-field-error">Not JSON yet: {error}</div>}
    </div>
  );
}
