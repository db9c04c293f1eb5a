/** The Run dialog: the input as JSON; saves the draft if it changed, runs it, opens the live run. */
import { useEffect, useRef, useState, type FormEvent } from "react";
import { ApiError, api } from "../api/client";
import { navigate } from "../app/router";
import { isRecord } from "../document/types";
import { Button } from "../ui/Button";
import { useEditorContext } from "./context";

/** A starting input from the workflow's input_schema: each property's default, else an empty value. */
export function initialInput(inputSchema: unknown): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  if (!isRecord(inputSchema) || !isRecord(inputSchema.properties)) return input;
  for (const [name, property] of Object.entries(inputSchema.properties)) {
    if (!isRecord(property)) continue;
    if ("default" in property) input[name] = property.default;
    else if (property.type === "number" || property.type === "integer") input[name] = 0;
    else if (property.type === "boolean") input[name] = false;
    else if (property.type === "array") input[name] = [];
    else if (property.type === "object") input[name] = {};
    else input[name] = "";
  }
  return input;
}

export function RunDialog({ onClose }: { onClose: () => void }) {
  const { store } = useEditorContext();
  const [text, setText] = useState(() => JSON.stringify(initialInput(store.doc.input_schema), null, 2));
  const [error, setError] = useState<string | null>(null);
  const [running, setRunning] = useState(false);
  const field = useRef<HTMLTextAreaElement>(null);
  useEffect(() => field.current?.focus(), []);
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => event.key === "Escape" && onClose();
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [onClose]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    let input: unknown;
    try {
      input = text.trim() ? JSON.parse(text) : {};
    } catch (reason) {
      setError(`The input is not valid JSON: ${reason instanceof Error ? reason.message : reason}`);
      return;
    }
    setRunning(true);
    setError(null);
    try {
      if (store.isDirty() && !(await store.save())) {
        setError("The draft could not be saved, so it was not run.");
        return;
      }
      const workflowId = store.getState().workflow.id as string;
      const started = await api.executions.run(workflowId, input, "draft");
      onClose();
      await navigate({ name: "execution", workflowId, executionId: started.execution_id }, { force: true });
    } catch (reason) {
      setError(reason instanceof ApiError || reason instanceof Error ? reason.message : String(reason));
    } finally {
      setRunning(false);
    }
  };

  return (
    <div className="nf-modal-backdrop" onMouseDown={(event) => event.target === event.currentTarget && onClose()}>
      <form className="nf-modal nf-run-dialog" role="dialog" aria-modal="true" aria-labelledby="nf-run-title" onSubmit={(event) => void submit(event)}>
        <h2 id="nf-run-title">Run the draft</h2>
        <p className="nf-modal-message">Unsaved changes are saved first. The canvas then shows the run live.</p>
        <label className="nf-field">
          <span className="nf-field-label">Input (JSON)</span>
          <textarea ref={field} className="nf-input nf-code-input" rows={8} spellCheck={false} value={text} onChange={(event) => setText(event.target.value)} />
        </label>
        {error && <p className="nf-field-error" role="alert">{error}</p>}
        <div className="nf-modal-actions">
          <Button onClick={onClose}>Cancel</Button>
          <button type="submit" className="nf-button nf-button--primary" disabled={running}>{running ? "Starting…" : "Run"}</button>
        </div>
      </form>
    </div>
  );
}
