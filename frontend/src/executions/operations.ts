/** What an execution's operations fields say to a person: why a queued run waits, its priority, what it cost. */

/** The fields of the execution API this reads (issue 26): `held`, `priority`. */
export interface OperationsFields {
  status?: unknown;
  held?: string | null;
  priority?: string | null;
}

/** "queued: limit reached" with which limit, for a run held back by a concurrency limit; null otherwise. */
export function heldText(execution: OperationsFields): { label: string; title: string } | null {
  if (execution.status !== "queued" || !execution.held) return null;
  const which = execution.held === "owner" ? "your limit of running executions" : "this workflow's max_concurrent";
  return { label: "queued: limit reached", title: `Waits for ${which}; it starts when a running execution ends.` };
}

/** The priority to show beside a run: only when it is not the default. */
export function priorityText(execution: OperationsFields): string | null {
  return execution.priority && execution.priority !== "normal" ? `${execution.priority} priority` : null;
}
