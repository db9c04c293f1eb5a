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

/** A node run's or an execution's resource figures (the API's `resources`). */
export interface Resources {
  cpu_ms?: number;
  sandbox_cpu_ms?: number;
  peak_memory_kb?: number;
  bytes_in?: number;
  bytes_out?: number;
}

function asResources(value: unknown): Resources {
  return value && typeof value === "object" && !Array.isArray(value) ? (value as Resources) : {};
}

/** An execution's figures from its node runs': sums, and the largest peak memory (as the API totals them). */
export function totalResources(runs: unknown[]): Resources {
  const total: Resources = {};
  for (const run of runs.map(asResources)) {
    for (const key of ["cpu_ms", "sandbox_cpu_ms", "bytes_in", "bytes_out"] as const) {
      if (typeof run[key] === "number") total[key] = (total[key] ?? 0) + (run[key] as number);
    }
    if (typeof run.peak_memory_kb === "number") total.peak_memory_kb = Math.max(total.peak_memory_kb ?? 0, run.peak_memory_kb);
  }
  return total;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function formatMs(ms: number): string {
  return ms < 10 ? `${ms.toFixed(2)} ms` : ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

/** [label, text] rows for the figures there are, in a fixed order. */
export function resourceFacts(value: unknown): [string, string][] {
  const figures = asResources(value);
  const facts: [string, string][] = [];
  if (typeof figures.cpu_ms === "number") {
    const sandbox = typeof figures.sandbox_cpu_ms === "number" ? ` (sandbox ${formatMs(figures.sandbox_cpu_ms)})` : "";
    facts.push(["CPU", `${formatMs(figures.cpu_ms)}${sandbox}`]);
  }
  if (typeof figures.peak_memory_kb === "number") facts.push(["Peak memory", formatBytes(figures.peak_memory_kb * 1024)]);
  if (typeof figures.bytes_out === "number") facts.push(["Sent", formatBytes(figures.bytes_out)]);
  if (typeof figures.bytes_in === "number") facts.push(["Received", formatBytes(figures.bytes_in)]);
  return facts;
}
