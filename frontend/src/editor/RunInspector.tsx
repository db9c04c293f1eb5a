/**
 * The execution view's side panel: with no node selected, the run — its node runs in order, a
 * timeline, every node's logs, the global context, its input and result; with one, that node's
 * run — input, output, error, logs, attempts, timings, the context after it and the change it made.
 * Log lines and outputs that arrive over the socket show up in an open panel as they come.
 */
import { Fragment, memo, useCallback, useEffect, useRef, useState, type FormEvent } from "react";
import { toast } from "../ui/overlays";
import { api } from "../api/client";
import type { ExecutionContext } from "../api/types";
import {
  formatDuration,
  isFinished,
  mergeLogs,
  timeline,
  type LogLine,
  type NodeRunDetail,
  type NodeRunSummary,
} from "../executions/live";
import type { WatchedExecution } from "../executions/useExecution";
import { resourceFacts, totalResources } from "../executions/operations";
import { JsonTree } from "../ui/JsonTree";
import { useEditorContext, useEditorState } from "./context";
import { NodeTitle, useNodeNames } from "./NodeTitle";
import { inStartOrder } from "../executions/order";
import { LogTime } from "./LogTime";
import { PausedPanel, usePausedAt } from "./debug/PausedPanel";
import { PinOutput } from "./debug/PinOutput";
import { ChildRuns, isComposite } from "../executions/children/ChildRuns";
import { InnerNodeNote } from "../executions/children/InnerNodeNote";

type Tab = "output" | "input" | "error" | "logs" | "attempts" | "context" | "diff";
export type RunTab = "nodes" | "timeline" | "logs" | "context" | "data";

const RUN_TABS: [RunTab, string][] = [["nodes", "Nodes"], ["timeline", "Timeline"], ["logs", "Logs"], ["context", "Context"], ["data", "Result"]];
/** Least time between two fetches of the node runs' data while a selected node keeps changing. */
const NODE_REFETCH_MS = 300;
/** Least time between two fetches of everything (polling, or the global context) while the run goes on. */
const RUN_REFETCH_MS = 1000;

function errorText(error: unknown): { message: string; traceback?: string } | null {
  if (!error) return null;
  if (typeof error === "string") return { message: error };
  const record = error as Record<string, unknown>;
  const message = typeof record.message === "string" ? record.message : JSON.stringify(error);
  const traceback = typeof record.traceback === "string" ? record.traceback : undefined;
  return { message, traceback };
}

// One formatter for every time shown (toLocaleTimeString makes a new one on each call, which shows on a large run).
const TIME = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });

function clock(ts: string | null | undefined): string {
  if (!ts) return "—";
  const moment = new Date(ts);
  return `${TIME.format(moment)}.${String(moment.getMilliseconds()).padStart(3, "0")}`;
}

/**
 * Runs `effect` when `key` changes, at most once per `gapMs`: a key that changes on every frame of
 * a burst leads to one call now and one at the end, not one per frame (nor none until the burst ends).
 */
export function useThrottledEffect(key: string, effect: () => void, gapMs: number) {
  const latest = useRef(effect);
  latest.current = effect;
  const timing = useRef({ timer: 0, last: 0 });
  useEffect(() => {
    const state = timing.current;
    if (state.timer) return; // a call is due already: it runs the latest effect
    const wait = Math.max(30, state.last + gapMs - Date.now());
    state.timer = window.setTimeout(() => {
      state.timer = 0;
      state.last = Date.now();
      latest.current();
    }, wait);
  }, [key, gapMs]);
  useEffect(() => () => window.clearTimeout(timing.current.timer), []);
}

/** The node runs with their data (`…/nodes/`), fetched again when what `key` sums up changes ("": not needed now). */
function useNodeDetails(executionId: string, key: string, gapMs: number): Record<string, NodeRunDetail> {
  const [details, setDetails] = useState<Record<string, NodeRunDetail>>({});
  const asked = useRef(0);
  const wanted = useRef(false);
  wanted.current = key !== "";
  const mounted = useRef(true);
  useEffect(() => () => {
    mounted.current = false;
  }, []);
  const load = useCallback(() => {
    if (!wanted.current) return;
    const ticket = ++asked.current;
    api.executions.nodeDetails(executionId).then(
      (runs) => mounted.current && ticket === asked.current && setDetails(Object.fromEntries(runs.map((run) => [run.node_id, run]))),
      () => undefined,
    );
  }, [executionId]);
  useThrottledEffect(key, load, gapMs);
  return details;
}

/** What the panel shows of a node run: its data as last fetched, its state as last heard. */
function currentRun(detail: NodeRunDetail | undefined, summary: NodeRunSummary | undefined): NodeRunDetail | undefined {
  if (!summary) return detail;
  if (!detail) return summary;
  return {
    ...detail,
    status: summary.status,
    attempt: summary.attempt ?? detail.attempt,
    started_at: summary.started_at ?? detail.started_at,
    finished_at: summary.finished_at === undefined ? detail.finished_at : summary.finished_at,
    duration_ms: summary.duration_ms ?? detail.duration_ms,
    error: detail.error ?? summary.error,
  };
}

export function RunInspector({ executionId, live }: { executionId: string; live: WatchedExecution }) {
  const selectedNodes = useEditorState((state) => state.selectedNodes);
  const [runTab, setRunTab] = useState<RunTab>("nodes");
  const nodeId = selectedNodes.size === 1 ? [...selectedNodes][0] : null;
  const summary = nodeId ? live.nodes[nodeId] : undefined;
  const finished = isFinished(live);
  // The node runs' data (every one of them, a large answer on a large run) is asked for when something
  // shows it: a node's panel, or the logs of all nodes. Again when the selected node changes in any way
  // (a state, an output, an error, log lines), when the run ends, and — without a socket, so without
  // those events — when any node changes.
  const needed = nodeId !== null || runTab === "logs";
  const polled = live.transport === "polling" && !finished ? `${live.lastSeq}:${Object.keys(live.nodes).length}` : "";
  const key = needed ? [executionId, finished, live.execution?.status ?? "", polled,
    nodeId ?? "", summary?.status ?? "", summary?.attempt ?? "", nodeId ? live.nodeSeq[nodeId] ?? "" : ""].join("|") : "";
  const details = useNodeDetails(executionId, key, polled ? RUN_REFETCH_MS : NODE_REFETCH_MS);
  const heldAt = usePausedAt(live);
  return (
    <aside className="nf-side nf-inspector" aria-label="Run details">
      <PausedPanel executionId={executionId} live={live} />
      {nodeId?.includes("/") ? (
        <InnerNodeNote executionId={executionId} canvasId={nodeId} group={live.nodes[nodeId.split("/")[0]]} />
      ) : nodeId ? (
        <NodeRunPanel key={nodeId} executionId={executionId} nodeId={nodeId} run={currentRun(details[nodeId], summary)} streamed={live.logs[nodeId]}
          held={heldAt.includes(nodeId)} />
      ) : (
        <ExecutionPanel executionId={executionId} live={live} details={details} tab={runTab} onTab={setRunTab} />
      )}
    </aside>
  );
}

function ExecutionPanel({ executionId, live, details, tab, onTab }: {
  executionId: string;
  live: WatchedExecution;
  details: Record<string, NodeRunDetail>;
  tab: RunTab;
  onTab: (tab: RunTab) => void;
}) {
  const { execution } = live;
  if (!execution) return <div className="nf-panel-body nf-muted">Loading the run…</div>;
  const runs = inStartOrder(Object.values(live.nodes));
  const error = errorText(execution.error);
  return (
    <div className="nf-panel-body">
      <h2 className="nf-panel-title">Run</h2>
      <dl className="nf-facts">
        <dt>Status</dt><dd>{String(execution.status)}</dd>
        <dt>Trigger</dt><dd>{String(execution.trigger ?? "")}</dd>
        <dt>Started</dt><dd>{clock(execution.started_at as string | null)}</dd>
        <dt>Duration</dt><dd>{formatDuration(execution.duration_ms as number | null) || "—"}</dd>
        {resourceFacts(totalResources(Object.values(live.nodes).map((run) => run.resources))).map(([label, text]) => (
          <Fragment key={label}><dt>{label}</dt><dd data-testid={`run-total-${label}`}>{text}</dd></Fragment>
        ))}
      </dl>
      {error && <div className="nf-run-error" role="alert"><strong>Error</strong><p>{error.message}</p></div>}
      <div className="nf-tabs" role="tablist" aria-label="Run views">
        {RUN_TABS.map(([name, label]) => (
          <button key={name} type="button" role="tab" aria-selected={tab === name} className={`nf-tab ${tab === name ? "is-active" : ""}`} onClick={() => onTab(name)}>{label}</button>
        ))}
      </div>
      <div role="tabpanel" className="nf-tabpanel" aria-label={RUN_TABS.find(([name]) => name === tab)?.[1]}>
        {tab === "nodes" && <NodeRunList runs={runs} />}
        {tab === "timeline" && <Timeline runs={runs} />}
        {tab === "logs" && <AllLogs runs={runs} details={details} streamed={live.logs} />}
        {tab === "context" && <GlobalContext executionId={executionId} refreshKey={`${live.contextSeq}:${String(execution.status)}`} />}
        {tab === "data" && (
          <>
            <h3 className="nf-panel-subtitle">Result</h3>
            {execution.result !== undefined && execution.result !== null
              ? <JsonTree value={execution.result} root="result" label="Run result" />
              : <p className="nf-muted nf-small">{isFinished(live) ? "This run has no result." : "No result yet."}</p>}
            <h3 className="nf-panel-subtitle">Input</h3>
            <JsonTree value={execution.input ?? {}} root="input" label="Run input" />
          </>
        )}
      </div>
    </div>
  );
}

/** One row of the node runs list: memoised, so a burst of events redraws the rows that changed, not all of them. */
const NodeRunRow = memo(function NodeRunRow({ run, name, onOpen }: { run: NodeRunSummary; name: string; onOpen: (id: string) => void }) {
  return (
    <li>
      <button type="button" className="nf-run-list-item" onClick={() => onOpen(run.node_id)}>
        <span className={`nf-run-badge nf-run-badge--${run.status}`}>{run.status}</span>
        <span className="nf-run-list-name" title={name === run.node_id ? undefined : `id ${run.node_id}`}>{name}</span>
        <span className="nf-muted">{formatDuration(run.duration_ms)}</span>
      </button>
    </li>
  );
});

function NodeRunList({ runs }: { runs: NodeRunSummary[] }) {
  const { actions } = useEditorContext();
  const open = useCallback((id: string) => actions.focusNode(id), [actions]);
  const name = useNodeNames();
  return (
    <ol className="nf-run-list" aria-label="Node runs in order">
      {runs.map((run) => <NodeRunRow key={run.node_id} run={run} name={name(run.node_id)} onOpen={open} />)}
    </ol>
  );
}

/** The global context of the run: after the last node that finished, fetched again as nodes finish. */
function GlobalContext({ executionId, refreshKey }: { executionId: string; refreshKey: string }) {
  const [answer, setAnswer] = useState<{ after: string | null; context: unknown; at: number } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const asked = useRef(0);
  const mounted = useRef(true);
  useEffect(() => () => {
    mounted.current = false;
  }, []);
  const load = useCallback(() => {
    const ticket = ++asked.current;
    api.executions.globalContext(executionId).then(
      (value) => {
        if (!mounted.current || ticket !== asked.current) return;
        setAnswer({ after: value.after, context: value.context ?? {}, at: Date.now() });
        setError(null);
      },
      (reason: Error) => mounted.current && ticket === asked.current && setError(reason.message),
    );
  }, [executionId]);
  useThrottledEffect(refreshKey, load, RUN_REFETCH_MS);
  if (error) return <p className="nf-field-error" role="alert">{error}</p>;
  if (!answer) return <p className="nf-muted"><span className="nf-spinner" /> Loading…</p>;
  return (
    <div className="nf-global-context" data-after={answer.after ?? ""}>
      <p className="nf-muted nf-small">
        {answer.after ? <>After <code>{answer.after}</code></> : "Before any node ran"} · updated {clock(new Date(answer.at).toISOString())}
      </p>
      <JsonTree value={answer.context} root="" label="Global context" />
    </div>
  );
}

function NodeRunPanel({ executionId, nodeId, run, streamed, held }: {
  executionId: string;
  nodeId: string;
  run: NodeRunDetail | undefined;
  streamed: readonly LogLine[] | undefined;
  /** It waits at a breakpoint of a paused debug run: Step or Continue runs it, not input. */
  held: boolean;
}) {
  const error = errorText(run?.error);
  // Opens on the error when there is one (also when it arrives after the panel opened), until a tab is picked.
  const [picked, setTab] = useState<Tab | null>(null);
  const tab: Tab = picked ?? (error ? "error" : "output");
  const [context, setContext] = useState<{ tab: Tab; value: unknown; error?: string } | null>(null);
  useEffect(() => {
    if (tab !== "context" && tab !== "diff") return;
    let cancelled = false;
    setContext(null);
    api.executions.context(executionId, nodeId, tab === "diff").then(
      (answer) => !cancelled && setContext({ tab, value: (answer as ExecutionContext)[tab === "diff" ? "diff" : "context"] ?? null }),
      (reason: Error) => !cancelled && setContext({ tab, value: null, error: reason.message }),
    );
    return () => {
      cancelled = true;
    };
  }, [executionId, nodeId, tab, run?.status]);
  if (!run) {
    return (
      <div className="nf-panel-body">
        <h2 className="nf-panel-title"><NodeTitle id={nodeId} /></h2>
        <p className="nf-muted">This node has not run in this execution.</p>
      </div>
    );
  }
  const logs = mergeLogs(run.logs, streamed);
  const tabs: [Tab, string][] = [["output", "Output"], ["input", "Input"], ["error", "Error"], ["logs", `Logs (${logs.length})`], ["attempts", "Attempts"], ["context", "Context after"], ["diff", "Changes"]];
  return (
    <div className="nf-panel-body">
      <h2 className="nf-panel-title"><NodeTitle id={nodeId} /> <span className={`nf-run-badge nf-run-badge--${run.status}`} data-testid="node-run-status">{run.status}</span></h2>
      <dl className="nf-facts">
        <dt>Type</dt><dd>{run.type}</dd>
        <dt>Queued</dt><dd>{clock(run.queued_at)}</dd>
        <dt>Started</dt><dd>{clock(run.started_at)}</dd>
        <dt>Finished</dt><dd>{clock(run.finished_at)}</dd>
        <dt>Duration</dt><dd>{formatDuration(run.duration_ms) || "—"}</dd>
        <dt>Attempt</dt><dd>{run.attempt ?? 1}</dd>
        {run.worker && <><dt>Worker</dt><dd className="nf-ellipsis" title={run.worker}>{run.worker}</dd></>}
        {resourceFacts(run.resources).map(([label, text]) => (
          <Fragment key={label}><dt>{label}</dt><dd data-testid={`node-run-${label}`}>{text}</dd></Fragment>
        ))}
      </dl>
      <PinOutput nodeId={nodeId} run={run} />
      {run.status === "waiting" && !isComposite(run.type) && (held
        ? <p className="nf-muted" data-testid="held-at-breakpoint">Held at a breakpoint: Step or Continue in the run bar runs it.</p>
        : <ProvideInput executionId={executionId} nodeId={nodeId} />)}
      {isComposite(run.type) && <ChildRuns executionId={executionId} nodeId={nodeId} type={run.type} active={!isDone(run.status)} />}
      <div className="nf-tabs" role="tablist">
        {tabs.map(([name, label]) => (
          <button key={name} type="button" role="tab" aria-selected={tab === name} className={`nf-tab ${tab === name ? "is-active" : ""} ${name === "error" && error ? "nf-tab--error" : ""}`} onClick={() => setTab(name)}>{label}</button>
        ))}
      </div>
      <div role="tabpanel" className="nf-tabpanel" aria-label={tabs.find(([name]) => name === tab)?.[1]}>
        {tab === "output" && (run.output === undefined || run.output === null ? <p className="nf-muted">No output{isDone(run.status) ? "." : " yet."}</p> : <JsonTree value={run.output} root={`nodes.${nodeId}.output`} label="Output" />)}
        {tab === "output" && run.output_stored && <p className="nf-muted nf-small">This output is large: a preview is shown.</p>}
        {tab === "input" && <JsonTree value={run.input ?? {}} root="params" label="Input" />}
        {tab === "error" && (error ? (
          <div className="nf-run-error" role="alert">
            <p>{error.message}</p>
            {error.traceback && <pre className="nf-traceback">{error.traceback}</pre>}
            {typeof run.error === "object" && <JsonTree value={run.error} root="error" label="Error details" />}
          </div>
        ) : <p className="nf-muted">No error.</p>)}
        {tab === "logs" && (logs.length ? (
          <ol className="nf-logs" aria-label="Logs">
            {logs.map((line, index) => (
              <li key={index} className={`nf-log nf-log--${line.level ?? "info"}`}>
                <LogTime ts={line.ts} /><span className="nf-log-level">{line.level ?? "info"}</span> <span className="nf-log-message">{line.message ?? JSON.stringify(line)}</span>
              </li>
            ))}
          </ol>
        ) : <p className="nf-muted">No logs{isDone(run.status) ? "." : " yet."}</p>)}
        {tab === "attempts" && <JsonTree value={run.attempts ?? []} root="attempts" label="Attempts" />}
        {(tab === "context" || tab === "diff") && (
          context === null ? <p className="nf-muted"><span className="nf-spinner" /> Loading…</p>
            : context.error ? <p className="nf-field-error" role="alert">{context.error}</p>
              : <JsonTree value={context.value} root="" label={tab === "diff" ? "Changes (JSON Patch)" : "Context after"} />
        )}
      </div>
    </div>
  );
}

function isDone(status: string): boolean {
  return status === "completed" || status === "failed" || status === "skipped" || status === "cancelled";
}

/** A waiting node's input: JSON, sent with `POST …/input/`. */
function ProvideInput({ executionId, nodeId }: { executionId: string; nodeId: string }) {
  const [text, setText] = useState("{}");
  const [error, setError] = useState<string | null>(null);
  const [sending, setSending] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      setError("This is not valid JSON.");
      return;
    }
    setSending(true);
    setError(null);
    try {
      await api.executions.provideInput(executionId, nodeId, data);
      toast("Input sent.");
    } catch (reason) {
      setError(reason instanceof Error ? reason.message : String(reason));
    } finally {
      setSending(false);
    }
  };
  return (
    <form className="nf-provide-input" onSubmit={(event) => void submit(event)}>
      <label className="nf-field">
        <span className="nf-field-label">This node waits for input (JSON)</span>
        <textarea className="nf-input nf-code-input" rows={4} value={text} onChange={(event) => setText(event.target.value)} spellCheck={false} />
      </label>
      {error && <p className="nf-field-error" role="alert">{error}</p>}
      <button type="submit" className="nf-button nf-button--primary nf-button--small" disabled={sending}>Send input</button>
    </form>
  );
}

/** A Gantt chart of the node runs: one row each, on one time axis, so parallel runs overlap. */
function Timeline({ runs }: { runs: NodeRunSummary[] }) {
  const bars = timeline(runs);
  const name = useNodeNames();
  if (!bars.length) return <p className="nf-muted nf-small">Nothing has started yet.</p>;
  return (
    <ol className="nf-timeline" aria-label="Timeline">
      {bars.map((bar) => (
        <li key={bar.nodeId} className="nf-timeline-row" data-node-id={bar.nodeId}>
          <span className="nf-timeline-name" title={bar.nodeId}>{name(bar.nodeId)}</span>
          <span className="nf-timeline-track">
            <span className={`nf-timeline-bar nf-timeline-bar--${bar.status}`} title={`${name(bar.nodeId)}: ${formatDuration(bar.duration_ms)}`}
              style={{ left: `${(bar.left * 100).toFixed(2)}%`, width: `${(bar.width * 100).toFixed(2)}%` }} />
          </span>
        </li>
      ))}
    </ol>
  );
}

/** Every node's log lines (stored, then streamed), in node-run order, filtered by node and level. */
function AllLogs({ runs, details, streamed }: {
  runs: NodeRunSummary[];
  details: Record<string, NodeRunDetail>;
  streamed: Record<string, LogLine[]>;
}) {
  const [node, setNode] = useState("");
  const [level, setLevel] = useState("");
  const name = useNodeNames();
  const lines = runs.flatMap((run) => mergeLogs(details[run.node_id]?.logs, streamed[run.node_id]).map((line) => ({ node: run.node_id, ...line })));
  const levels = [...new Set(lines.map((line) => line.level ?? "info"))];
  const shown = lines.filter((line) => (!node || line.node === node) && (!level || (line.level ?? "info") === level));
  if (!lines.length) return <p className="nf-muted nf-small">No logs.</p>;
  return (
    <div className="nf-all-logs">
      <div className="nf-json-tools">
        <select className="nf-input" aria-label="Logs of node" value={node} onChange={(event) => setNode(event.target.value)}>
          <option value="">All nodes</option>
          {[...new Set(lines.map((line) => line.node))].map((id) => <option key={id} value={id}>{name(id)}</option>)}
        </select>
        <select className="nf-input" aria-label="Log level" value={level} onChange={(event) => setLevel(event.target.value)}>
          <option value="">All levels</option>
          {levels.map((value) => <option key={value} value={value}>{value}</option>)}
        </select>
      </div>
      <ol className="nf-logs" aria-label="All logs">
        {shown.map((line, index) => (
          <li key={index} className={`nf-log nf-log--${line.level ?? "info"}`}>
            <LogTime ts={line.ts} /><span className="nf-log-level">{name(line.node)} · {line.level ?? "info"}</span> <span className="nf-log-message">{line.message ?? JSON.stringify(line)}</span>
          </li>
        ))}
      </ol>
    </div>
  );
}
