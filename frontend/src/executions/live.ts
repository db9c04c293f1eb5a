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
  /** A composite node's child executions, counted (issue 18): from the snapshot, then NODE_PROGRESS events. */
  children?: { total: number; succeeded: number; failed: number; running: number; queued: number } | null;
  /** What the run used: cpu_ms, and peak_memory_kb, bytes_in, bytes_out where they apply (issue 26);
   *  from the snapshot, then the event of the run's end. */
  resources?: unknown;
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

/** One line a node logged (`print` in a code node, `call.log` in a node type). */
export interface LogLine {
  ts?: string;
  level?: string;
  message?: string;
}

export interface LiveState {
  execution: Execution | null;
  nodes: Record<string, NodeRunSummary>;
  lastSeq: number;
  /** Log lines that LOG events brought since the view opened, per node (the node runs' stored logs hold the earlier ones). */
  logs: Record<string, LogLine[]>;
  /** Per node, the seq of the last event about it: its stored data (output, error, logs) may have changed since a fetch. */
  nodeSeq: Record<string, number>;
  /** The seq of the last event that changed the global context (a node's output became available). */
  contextSeq: number;
}

export const EMPTY_LIVE: LiveState = { execution: null, nodes: {}, lastSeq: 0, logs: {}, nodeSeq: {}, contextSeq: 0 };

const FINAL_NODE = new Set(["completed", "failed", "cancelled", "skipped"]);
export const FINAL_EXECUTION = new Set(["completed", "succeeded", "failed", "cancelled", "timed_out"]);

export function isFinished(state: LiveState): boolean {
  return Boolean(state.execution && FINAL_EXECUTION.has(state.execution.status as string));
}

/**
 * Applies one event to `next`, a copy of the state made for this frame: its maps are copied at
 * most once per frame (`owned`), so a burst of 500 events does not copy 500 nodes 500 times.
 */
function applyEvent(next: LiveState, event: LiveEvent, owned: Set<string>): void {
  if (event.seq <= next.lastSeq) return; // already applied (a resume may repeat)
  next.lastSeq = event.seq;
  const own = <K extends "nodes" | "logs" | "nodeSeq">(key: K): LiveState[K] => {
    if (!owned.has(key)) {
      owned.add(key);
      next[key] = { ...next[key] } as LiveState[K];
    }
    return next[key];
  };
  const status = typeof event.data?.status === "string" ? event.data.status : null;
  if (event.node_id) own("nodeSeq")[event.node_id] = event.seq;
  if (event.type === "NODE_STATE_CHANGED" && event.node_id && status) {
    const before = next.nodes[event.node_id] ?? { node_id: event.node_id, status: "pending" as NodeRunStatus };
    const run: NodeRunSummary = { ...before, status: status as NodeRunStatus };
    if (typeof event.data.attempt === "number") run.attempt = event.data.attempt;
    if (event.data.resources && typeof event.data.resources === "object") run.resources = event.data.resources;
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
    own("nodes")[event.node_id] = run;
  } else if (event.type === "NODE_PROGRESS" && event.node_id && event.data?.children && typeof event.data.children === "object") {
    const before = next.nodes[event.node_id] ?? { node_id: event.node_id, status: "waiting" as NodeRunStatus };
    own("nodes")[event.node_id] = { ...before, children: event.data.children as NodeRunSummary["children"] };
  } else if (event.type === "LOG" && event.node_id && Array.isArray(event.data?.lines)) {
    const logs = own("logs");
    logs[event.node_id] = [...(logs[event.node_id] ?? []), ...(event.data.lines as LogLine[])];
  } else if (event.type === "DATA_AVAILABLE") {
    next.contextSeq = event.seq;
  } else if (
    (event.type === "EXECUTION_STARTED" || event.type === "EXECUTION_STATE_CHANGED" || event.type === "EXECUTION_COMPLETED") &&
    status &&
    next.execution
  ) {
    const execution = { ...next.execution, status } as Execution;
    if (event.type === "EXECUTION_STARTED") execution.started_at = event.ts;
    if (event.type === "EXECUTION_COMPLETED") {
      execution.finished_at = event.ts;
      const duration = typeof event.data.duration_ms === "number" ? event.data.duration_ms
        : execution.started_at ? Date.parse(event.ts) - Date.parse(execution.started_at as string) : null;
      if (duration !== null) Object.assign(execution, { duration_ms: duration });
      if ("error" in event.data) execution.error = event.data.error as Execution["error"];
      if ("result" in event.data) execution.result = event.data.result as Execution["result"];
      next.contextSeq = event.seq;
    }
    next.execution = execution;
  }
}

function isEvent(message: unknown): message is LiveEvent {
  return Boolean(message) && typeof message === "object" && typeof (message as { seq?: unknown }).seq === "number";
}

/** Applies one WebSocket frame: a SNAPSHOT, one event, or an array of events. */
export function applyMessage(state: LiveState, message: unknown): LiveState {
  if (Array.isArray(message)) {
    let current = state;
    let next: LiveState | null = null;
    let owned = new Set<string>();
    for (const item of message) {
      if (isEvent(item)) {
        if (!next) {
          next = { ...current };
          owned = new Set();
        }
        applyEvent(next, item, owned);
      } else {
        current = applyMessage(next ?? current, item);
        next = null;
      }
    }
    return next ?? current;
  }
  if (!message || typeof message !== "object") return state;
  const frame = message as Record<string, unknown>;
  if (frame.type === "SNAPSHOT") {
    const nodes: Record<string, NodeRunSummary> = {};
    for (const run of (frame.nodes as NodeRunSummary[]) ?? []) nodes[run.node_id] = run;
    const lastSeq = Number(frame.last_seq) || 0;
    // Lines streamed before a snapshot are in the node runs' stored logs by now; the live extras are kept
    // only when this is the same view catching up (a resumed socket), never across executions.
    const sameRun = state.execution && frame.execution && (state.execution as Execution).id === (frame.execution as Execution).id;
    return {
      execution: frame.execution as Execution,
      nodes,
      lastSeq,
      logs: sameRun ? state.logs : {},
      nodeSeq: sameRun ? state.nodeSeq : {},
      contextSeq: sameRun ? Math.max(state.contextSeq, lastSeq) : lastSeq,
    };
  }
  if (isEvent(frame)) {
    const next = { ...state };
    applyEvent(next, frame, new Set());
    return next.lastSeq === state.lastSeq ? state : next;
  }
  return state;
}

/** A node run's log: the lines stored with it, then the ones streamed since that are not among them. */
export function mergeLogs(stored: unknown, streamed: readonly LogLine[] | undefined): LogLine[] {
  const lines = Array.isArray(stored) ? (stored as LogLine[]) : [];
  if (!streamed?.length) return lines;
  const key = (line: LogLine) => `${line.ts ?? ""}\u0000${line.level ?? ""}\u0000${line.message ?? ""}`;
  const known = new Set(lines.map(key));
  const extra = streamed.filter((line) => !known.has(key(line)));
  return extra.length ? [...lines, ...extra] : lines;
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
  const begins = timed.map((run) => Date.parse(run.started_at as string));
  const ends = timed.map((run, index) => Math.max(begins[index], run.finished_at ? Date.parse(run.finished_at) : now));
  const axis = squeezedAxis(begins.map((begin, index) => [begin, ends[index]]));
  return timed.map((run, index) => {
    const left = axis(begins[index]);
    return { nodeId: run.node_id, status: run.status, left, width: Math.max(axis(ends[index]) - left, 0.005), duration_ms: ends[index] - begins[index] };
  });
}

/**
 * Time → position (0…1) on the timeline, with idle stretches cut short: a retried run's axis spans the
 * first run and the retry, and the wait between them (minutes, days) squeezed its bars into slivers
 * (issue 25). A gap longer than the time spent running becomes a thin fixed slice.
 */
function squeezedAxis(intervals: [number, number][]): (time: number) => number {
  const sorted = [...intervals].sort((a, b) => a[0] - b[0]);
  const busy: [number, number][] = [];
  for (const [begin, end] of sorted) {
    const last = busy[busy.length - 1];
    if (last && begin <= last[1]) last[1] = Math.max(last[1], end);
    else busy.push([begin, end]);
  }
  const running = busy.reduce((total, [begin, end]) => total + (end - begin), 0);
  const gapWidth = Math.max(running, 1) * 0.04;
  // Each busy stretch keeps its length; each gap keeps its own when short, else becomes `gapWidth`.
  const starts: number[] = [];
  let position = 0;
  busy.forEach(([begin, end], index) => {
    if (index > 0) {
      const gap = begin - busy[index - 1][1];
      position += gap > running ? gapWidth : gap;
    }
    starts.push(position);
    position += end - begin;
  });
  const total = Math.max(position, 1);
  return (time: number) => {
    let index = busy.length - 1;
    while (index > 0 && time < busy[index][0]) index--;
    const within = Math.min(Math.max(time - busy[index][0], 0), busy[index][1] - busy[index][0]);
    return (starts[index] + within) / total;
  };
}
