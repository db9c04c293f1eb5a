/**
 * The Run dialog: the input, as a form generated from the workflow's `input_schema` or as JSON
 * (both edit the same value); saves the draft if it changed, runs it, opens the live run.
 */
import { useEffect, useMemo, useRef, useState, type FormEvent } from "react";
import { ApiError, api } from "../api/client";
import { navigate } from "../app/router";
import { isRecord } from "../document/types";
import { nodeLabel } from "../document/labels";
import { toast } from "../ui/overlays";
import { SchemaForm, type FormContext } from "../forms/SchemaForm";
import { propertiesOf } from "../forms/schema";
import { fieldMessages, formFits, initialInput, serverInputProblems, validateValue, type FieldProblem } from "../forms/validate";
import { Button } from "../ui/Button";
import { useEditorContext } from "./context";
import { lastInput, rememberInput } from "./lastInput";
import { breakpointsOf } from "./debug/breakpoints";
import { debugApi } from "./debug/debugApi";

type Mode = "form" | "json";
const NO_PATHS: readonly string[] = [];

function show(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

export function RunDialog({ onClose }: { onClose: () => void }) {
  const { store } = useEditorContext();
  const schema = store.doc.input_schema;
  const hasForm = formFits(schema);
  const [mode, setMode] = useState<Mode>(hasForm ? "form" : "json");
  // One value, two editors: the form edits `value` (and rewrites the text); the JSON text sets `value` whenever it parses.
  const [value, setValue] = useState<unknown>(() => lastInput(String(store.getState().workflow.id)) ?? initialInput(schema));
  const [text, setText] = useState(() => show(value));
  const [jsonError, setJsonError] = useState<string | null>(null);
  const [attempted, setAttempted] = useState(false);
  const [serverProblems, setServerProblems] = useState<FieldProblem[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [running, setRunning] = useState(false);
  const field = useRef<HTMLTextAreaElement>(null);
  const dialog = useRef<HTMLFormElement>(null);
  useEffect(() => {
    if (mode === "json") field.current?.focus();
    else dialog.current?.querySelector<HTMLElement>(".nf-form input, .nf-form select, .nf-form textarea")?.focus();
    // Only when the dialog opens: switching modes keeps the focus on the switch.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => event.key === "Escape" && onClose();
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [onClose]);

  const problems = useMemo(() => (schema ? validateValue(schema, value) : []), [schema, value]);
  // Field problems show once a run was attempted (not while someone is still filling in the form);
  // the server's stay until the input changes.
  const shown = attempted ? [...problems, ...serverProblems] : serverProblems;
  const messagesAt = useMemo(() => fieldMessages(shown), [shown]);
  const formContext = useMemo<FormContext>(
    () => ({ paths: NO_PATHS, messagesAt, raw: new Set(hasForm ? propertiesOf(schema).map(([name]) => name) : []) }),
    [messagesAt, hasForm, schema],
  );

  const changeValue = (next: unknown) => {
    setValue(next);
    setText(show(next));
    setJsonError(null);
    setServerProblems([]);
  };
  const changeText = (next: string) => {
    setText(next);
    setServerProblems([]);
    if (!next.trim()) {
      setValue({});
      setJsonError(null);
      return;
    }
    try {
      setValue(JSON.parse(next));
      setJsonError(null);
    } catch (reason) {
      setJsonError(`The input is not valid JSON: ${reason instanceof Error ? reason.message : reason}`);
    }
  };
  const switchTo = (next: Mode) => {
    if (next === mode) return;
    if (next === "form" && jsonError) return; // the form cannot show text that is not JSON yet
    if (next === "form" && !isRecord(value)) {
      setJsonError("The form edits an object: make the input a JSON object first.");
      return;
    }
    setMode(next);
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setAttempted(true);
    if (jsonError) {
      setMode("json");
      return;
    }
    if (problems.length) return;
    setRunning(true);
    setError(null);
    setServerProblems([]);
    try {
      if (store.isDirty() && !(await store.save())) {
        setError("The draft could not be saved, so it was not run.");
        return;
      }
      const workflowId = store.getState().workflow.id as string;
      const breakpoints = breakpointsOf(workflowId);
      // With breakpoints set, a debug run: it pauses before them (DEBUGGING.md).
      const started = breakpoints.length ? await debugApi.run(workflowId, { input: value, debug: { breakpoints } })
        : await api.executions.run(workflowId, value, "draft");
      rememberInput(workflowId, value);
      onClose();
      if (started.left_out?.length) {
        toast(`Ran the part connected to the trigger; left out ${started.left_out.map((id) => nodeLabel(store.doc, id)).join(", ")} (not connected, with problems).`);
      }
      await navigate({ name: "execution", workflowId, executionId: started.execution_id }, { force: true });
    } catch (reason) {
      if (reason instanceof ApiError && reason.code === "invalid_input") {
        setServerProblems(serverInputProblems(reason.message));
        setError(`The server refused this input: ${reason.message}`);
      } else setError(reason instanceof Error ? reason.message : String(reason));
    } finally {
      setRunning(false);
    }
  };

  // In the form, a field shows its own problems; the list below takes the rest (all of them for the JSON).
  const fields = new Set(hasForm ? propertiesOf(schema).map(([name]) => name) : []);
  const rootMessages = shown
    .filter((problem) => mode === "json" || !fields.has(problem.path.split(".")[0]))
    .map((problem) => (problem.path ? `${problem.path}: ${problem.message}` : problem.message));
  const blocked = attempted && (problems.length > 0 || Boolean(jsonError));
  return (
    <div className="nf-modal-backdrop" onMouseDown={(event) => event.target === event.currentTarget && onClose()}>
      <form ref={dialog} className="nf-modal nf-run-dialog" role="dialog" aria-modal="true" aria-labelledby="nf-run-title" onSubmit={(event) => void submit(event)} noValidate>
        <h2 id="nf-run-title">Run the draft</h2>
        <p className="nf-modal-message">Unsaved changes are saved first. The canvas then shows the run live.</p>
        {hasForm && (
          <div className="nf-segmented" role="radiogroup" aria-label="Input as">
            <button type="button" role="radio" aria-checked={mode === "form"} className={mode === "form" ? "is-on" : ""} disabled={Boolean(jsonError)}
              title={jsonError ? "Fix the JSON to go back to the form" : undefined} onClick={() => switchTo("form")}>Form</button>
            <button type="button" role="radio" aria-checked={mode === "json"} className={mode === "json" ? "is-on" : ""} onClick={() => switchTo("json")}>JSON</button>
          </div>
        )}
        {mode === "form" && hasForm ? (
          <div className="nf-run-form" aria-label="Input">
            <SchemaForm schema={schema} value={isRecord(value) ? value : {}} defaults={{}} context={formContext}
              onChange={(name, next) => {
                const copy: Record<string, unknown> = { ...(isRecord(value) ? value : {}) };
                if (next === undefined) delete copy[name];
                else copy[name] = next;
                changeValue(copy);
              }} />
          </div>
        ) : (
          <label className="nf-field">
            <span className="nf-field-label">Input (JSON)</span>
            <textarea ref={field} className="nf-input nf-code-input" rows={8} spellCheck={false} value={text} aria-invalid={jsonError ? true : undefined}
              onChange={(event) => changeText(event.target.value)} />
          </label>
        )}
        {jsonError && <p className="nf-field-error" role="alert">{jsonError}</p>}
        {rootMessages.length > 0 && (
          <ul className="nf-field-error nf-run-problems" role="alert" aria-label="Problems with the input">
            {rootMessages.map((message, index) => <li key={index}>{message}</li>)}
          </ul>
        )}
        {error && <p className="nf-field-error" role="alert">{error}</p>}
        <div className="nf-modal-actions">
          <Button onClick={onClose}>Cancel</Button>
          <button type="submit" className="nf-button nf-button--primary" disabled={running || blocked}
            title={blocked ? "Fix the input first" : undefined}>{running ? "Starting…" : "Run"}</button>
        </div>
      </form>
    </div>
  );
}
