/**
 * An execution as the live view keeps it: the SNAPSHOT of `/ws/executions/{id}/`, then each
 * event applied once, in `seq` order (a burst arrives as an array). Pure.
 */
import type { Execution, NodeRunStatus } from "../api/types";

export interface NodeRunSummary {
  node_id: string;
  type?: string;
  status: NodeRunStatus;
  attempt?: number;
  queued_at?: string | null;
  started_at?: string | null;
  finished_at?: string | null;
  duration_ms?: number | null;
  error?: unknown;
}

export interface NodeRunDetail extends NodeRunSummary {
  version?: number;
  attempts?: unknown;
  input?: unknown;
  output?: unknown;
  output_stored?: boolean;
  ports?: string[];
  logs?: unknown;
  worker?: string;
}

export interface LiveEvent {
  seq: number;
  type: string;
  node_id: string | null;
  ts: string;
  data: Record<string, unknown>;
}

export interface LiveState {
  execution: Execution | null;
  nodes: Record<string, NodeRunSummary>;
  lastSeq: number;
}

export const EMPTY_LIVE: LiveState = { execution: null, nodes: {}, lastSeq: 0 };

const FINAL_NODE = new Set(["completed", "failed", "cancelled", "skipped"]);
export const FINAL_EXECUTION = new Set(["completed", "succeeded", "failed", "cancelled", "timed_out"]);

export function isFinished(state: LiveState): boolean {
  return Boolean(state.execution && FINAL_EXECUTION.has(state.execution.status as string));
}

function applyEvent(state: LiveState, event: LiveEvent): LiveState {
  if (event.seq <= state.lastSeq) return state; // already applied (a resume may repeat)
  const next: LiveState = { ...state, lastSeq: event.seq };
  const status = typeof event.data?.status === "string" ? event.data.status : null;
  if (event.type === "NODE_STATE_CHANGED" && event.node_id && status) {
    const before = state.nodes[event.node_id] ?? { node_id: event.node_id, status: "pending" as NodeRunStatus };
    const run: NodeRunSummary = { ...before, status: status as NodeRunStatus };
    if (typeof event.data.attempt === "number") run.attempt = event.data.attempt;
    if (status === "queued") run.queued_at = event.ts;
    if (status === "running") {
      run.started_at = event.ts;
      run.finished_at = null;
      run.duration_ms = null;
    }
    if (FINAL_NODE.has(status)) {
      run.finished_at = event.ts;
      if (run.started_at) run.duration_ms = Date.parse(event.ts) - Date.parse(run.started_at);
    }
    next.nodes = { ...state.nodes, [event.node_id]: run };
  } else if (
    (event.type === "EXECUTION_STARTED" || event.type === "EXECUTION_STATE_CHANGED" || event.type === "EXECUTION_COMPLETED") &&
    status &&
    state.execution
  ) {
    const execution = { ...state.execution, status } as Execution;
    if (event.type === "EXECUTION_STARTED") execution.started_at = event.ts;
    if (event.type === "EXECUTION_COMPLETED") {
      execution.finished_at = event.ts;
      if ("error" in event.data) execution.error = event.data.error as Execution["error"];
      if ("result" in event.data) execution.result = event.data.result as Execution["result"];
    }
    next.execution = execution;
  }
  return next;
}

/** Applies one WebSocket frame: a SNAPSHOT, one event, or an array of events. */
export function applyMessage(state: LiveState, message: unknown): LiveState {
  if (Array.isArray(message)) return message.reduce<LiveState>((current, event) => applyMessage(current, event), state);
  if (!message || typeof message !== "object") return state;
  const frame = message as Record<string, unknown>;
  if (frame.type === "SNAPSHOT") {
    const nodes: Record<string, NodeRunSummary> = {};
    for (const run of (frame.nodes as NodeRunSummary[]) ?? []) nodes[run.node_id] = run;
    return { execution: frame.execution as Execution, nodes, lastSeq: Number(frame.last_seq) || 0 };
  }
  if (typeof frame.seq === "number") return applyEvent(state, frame as unknown as LiveEvent);
  return state;
}

/** {node id: status} for the canvas. */
export function runStates(state: LiveState): Record<string, NodeRunStatus> {
  return Object.fromEntries(Object.values(state.nodes).map((run) => [run.node_id, run.status]));
}

/** A note under each node: its duration (so far), and the attempt when it was retried. */
export function runNotes(state: LiveState): Record<string, string> {
  const notes: Record<string, string> = {};
  for (const run of Object.values(state.nodes)) {
    const parts: string[] = [];
    if (run.duration_ms != null) parts.push(formatDuration(run.duration_ms));
    if (run.attempt && run.attempt > 1) parts.push(`attempt ${run.attempt}`);
    if (parts.length) notes[run.node_id] = parts.join(" · ");
  }
  return notes;
}

const NOT_REACHED = new Set(["pending", "skipped", "cancelled"]);

/** Whether data went from `from`'s `port` to `to`: the port fired, or the source finished and the target ran. */
export function carried(state: LiveState, from: string, port: string, to: string): boolean {
  const source = state.nodes[from];
  if (!source) return false;
  const ports = (source as { ports?: unknown }).ports;
  if (Array.isArray(ports) && ports.length) return ports.includes(port);
  const target = state.nodes[to];
  return (source.status === "completed" || source.status === "failed") && Boolean(target) && !NOT_REACHED.has(target.status);
}

/** "850 ms", "2.4 s", "1 min 5 s". */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

export interface TimelineBar {
  nodeId: string;
  status: NodeRunStatus;
  /** Offset from the first node run's start and length, as fractions of the whole span (0..1). */
  left: number;
  width: number;
  duration_ms: number;
}

/** Bars for a Gantt chart of node runs: runs that overlap ran in parallel. `now` ends the runs still going. */
export function timeline(runs: readonly NodeRunSummary[], now = Date.now()): TimelineBar[] {
  const timed = runs.filter((run) => run.started_at);
  if (!timed.length) return [];
  const start = Math.min(...timed.map((run) => Date.parse(run.started_at as string)));
  const ends = timed.map((run) => (run.finished_at ? Date.parse(run.finished_at) : now));
  const span = Math.max(1, Math.max(...ends) - start);
  return timed.map((run, index) => {
    const begin = Date.parse(run.started_at as string) - start;
    const length = Math.max(0, ends[index] - start - begin);
    return { nodeId: run.node_id, status: run.status, left: begin / span, width: Math.max(length / span, 0.005), duration_ms: length };
  });
}
