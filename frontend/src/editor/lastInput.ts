/**
 * The Run dialog's last input, per workflow, kept in this browser (issue 25, item 13 of the list): the
 * next run starts from what was run last instead of an empty form.
 */
const KEY = "nodeflow:run-input:";

export function lastInput(workflowId: string): unknown {
  try {
    const text = window.localStorage.getItem(KEY + workflowId);
    return text === null ? undefined : JSON.parse(text);
  } catch {
    return undefined; // storage off or a stale entry: start from the schema's defaults
  }
}

export function rememberInput(workflowId: string, value: unknown): void {
  try {
    window.localStorage.setItem(KEY + workflowId, JSON.stringify(value));
  } catch {
    // storage full or off: the next run starts from the defaults
  }
}
