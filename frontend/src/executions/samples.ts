/**
 * The last run's input and node outputs of the workflow open in the editor, for the suggestions in
 * expression fields (document/samples.ts). Loaded when the draft is opened (and again on coming back
 * from a run); one workflow at a time, shared by every field.
 */
import { useEffect } from "react";
import { api } from "../api/client";
import type { RunSamples } from "../document/samples";

let current: { workflowId: string; samples: RunSamples } | null = null;
const listeners = new Set<() => void>();

export const runSamples = {
  get: (): RunSamples | null => current?.samples ?? null,
  subscribe(listener: () => void): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
  /** Loads the samples of the workflow's newest finished run (none: nothing is offered from runs). */
  async load(workflowId: string): Promise<void> {
    const page = await api.executions.list({ workflow: workflowId, limit: 10 });
    const last = page.results.find((execution) => ["succeeded", "failed"].includes(String(execution.status)));
    if (!last) return;
    const runs = await api.executions.nodeDetails(String(last.id));
    const outputs: Record<string, unknown> = {};
    for (const run of runs) {
      // A large output stored as a file is a reference here, not its fields.
      if (run.status === "completed" && run.output !== undefined && !run.output_stored) outputs[run.node_id] = run.output;
    }
    current = { workflowId, samples: { input: last.input, outputs } };
    listeners.forEach((listener) => listener());
  },
};

/** Loads the samples of `workflowId` while mounted (renders nothing). */
export function RunSamplesLoader({ workflowId }: { workflowId: string }): null {
  useEffect(() => {
    if (current && current.workflowId !== workflowId) {
      current = null;
      listeners.forEach((listener) => listener());
    }
    runSamples.load(workflowId).catch(() => undefined); // suggestions only: the static ones stay
  }, [workflowId]);
  return null;
}
