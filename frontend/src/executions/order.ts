/**
 * Node runs in the order they started (issue 25, item 4 of the list): a live view gets node runs from
 * a snapshot and then from events, so their arrival order is not the order they ran in (a 60-node
 * chain listed step_12 first until a reload). Pure.
 */
import type { NodeRunSummary } from "./live";

function time(value: string | null | undefined): number {
  const parsed = value ? Date.parse(value) : Number.NaN;
  return Number.isNaN(parsed) ? Number.POSITIVE_INFINITY : parsed;
}

/** Started ones by start time, then queued ones by queue time, then the rest as they were; ties keep their order. */
export function inStartOrder<T extends NodeRunSummary>(runs: readonly T[]): T[] {
  return runs
    .map((run, index) => ({ run, index, started: time(run.started_at), queued: time(run.queued_at) }))
    .sort((a, b) => a.started - b.started || a.queued - b.queued || a.index - b.index)
    .map((item) => item.run);
}
