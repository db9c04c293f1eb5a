/**
 * The execution view's side panel: with no node selected, the run (its input, result or error,
 * its node runs in order); with one, that node's run — input, output, error, logs, attempts,
 * timings, the context after it and the change it made.
 */
import { useEffect, useState, type FormEvent } from "react";
import { toast } from "../ui/overlays";
import { api } from "../api/client";
import { formatDuration, timeline, type LiveState, type NodeRunDetail, type NodeRunSummary } from "../executions/live";
import { JsonTree } from "../ui/JsonTree";
import { useEditorContext, useEditorState } from "./context";

type Tab = "output" | "input" | "error" | "logs" | "attempts" | "context" | "diff";

function errorText(error: unknown): { message: string; traceback?: string } | null {
  if (!error) return null;
  if (typeof error === "string") return { message: error };
  const record = error as Record<string, unknown>;
  const message = typeof record.message === "string" ? record.message : JSON.stringify(error);
  const traceback = typeof record.traceback === "string" ? record.traceback : undefined;
  return { message, traceback };
}

function clock(ts: string | null | undefined): string {
  return ts ? new Date(ts).toLocaleTimeString(undefined, { hour12: false }) + `.${String(new Date(ts).getMilliseconds()).padStart(3, "0")}` : "—";
}

export function RunInspector({ executionId, live }: { executionId: string; live: LiveState }) {
  const selectedNodes = useEditorState((state) => state.selectedNodes);
  const [details, setDetails] = useState<Record<string, NodeRunDetail>>({});
  // Fetched again whenever a node run changes state (cheap: one request per change burst).
  const version = Object.values(live.nodes).map((run) => `${run.node_id}:${run.status}:${run.attempt ?? ""}`).join(",");
  useEffect(() => {
    let cancelled = false;
    const timer = window.setTimeout(() => {
      api.executions.nodeDetails(executionId).then(
        (runs) => !cancelled && setDetails(Object.fromEntries(runs.map((run) => [run.node_id, run]))),
        () => undefined,
      );
    }, 150);
    return () => {
      cancelled = true;
      window.clearTimeout(timer);
    };
  }, [executionId, version]);
  const nodeId = selectedNodes.size === 1 ? [...selectedNodes][0] : null;
  return (
    <aside className="nf-side nf-inspector" aria-label="Run details">
      {nodeId ? <NodeRunPanel key={nodeId} executionId={executionId} nodeId={nodeId} run={details[nodeId] ?? live.nodes[nodeId]} />
        : <ExecutionPanel live={live} details={details} />}
    </aside>
  );
}

function ExecutionPanel({ live, details }: { live: LiveState; details: Record<string, NodeRunDetail> }) {
  const { actions } = useEditorContext();
  const { execution } = live;
  if (!execution) return <div className="nf-panel-body nf-muted">Loading the run…</div>;
  const runs = Object.values(live.nodes);
  const error = errorText(execution.error);
  return (
    <div className="nf-panel-body">
      <h2 className="nf-panel-title">Run</h2>
      <dl className="nf-facts">
        <dt>Status</dt><dd>{String(execution.status)}</dd>
        <dt>Trigger</dt><dd>{String(execution.trigger ?? "")}</dd>
        <dt>Started</dt><dd>{clock(execution.started_at as string | null)}</dd>
        <dt>Duration</dt><dd>{formatDuration(execution.duration_ms as number | null) || "—"}</dd>
      </dl>
      {error && <div className="nf-run-error" role="alert"><strong>Error</strong><p>{error.message}</p></div>}
      <h3 className="nf-panel-subtitle">Node runs</h3>
      <ol className="nf-run-list" aria-label="Node runs in order">
        {runs.map((run) => (
          <li key={run.node_id}>
            <button type="button" className="nf-run-list-item" onClick={() => actions.focusNode(run.node_id)}>
              <span className={`nf-run-badge nf-run-badge--${run.status}`}>{run.status}</span>
              <span className="nf-run-list-name">{run.node_id}</span>
              <span className="nf-muted">{formatDuration(details[run.node_id]?.duration_ms ?? run.duration_ms)}</span>
            </button>
          </li>
        ))}
      </ol>
      <h3 className="nf-panel-subtitle">Timeline</h3>
      <Timeline runs={runs.map((run) => details[run.node_id] ?? run)} />
      <h3 className="nf-panel-subtitle">Logs</h3>
      <AllLogs runs={runs.map((run) => details[run.node_id] ?? run)} />
      <h3 className="nf-panel-subtitle">Input</h3>
      <JsonTree value={execution.input ?? {}} root="input" label="Run input" />
      {execution.result !== undefined && execution.result !== null && (
        <>
          <h3 className="nf-panel-subtitle">Result</h3>
          <JsonTree value={execution.result} root="result" label="Run result" />
        </>
      )}
    </div>
  );
}

function NodeRunPanel({ executionId, nodeId, run }: { executionId: string; nodeId: string; run: NodeRunDetail | undefined }) {
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
      (value) => !cancelled && setContext({ tab, value }),
      (reason: Error) => !cancelled && setContext({ tab, value: null, error: reason.message }),
    );
    return () => {
      cancelled = true;
    };
  }, [executionId, nodeId, tab, run?.status]);
  if (!run) {
    return (
      <div className="nf-panel-body">
        <h2 className="nf-panel-title">{nodeId}</h2>
        <p className="nf-muted">This node has not run in this execution.</p>
      </div>
    );
  }
  const logs = Array.isArray(run.logs) ? (run.logs as { level?: string; message?: string; ts?: string }[]) : [];
  const tabs: [Tab, string][] = [["output", "Output"], ["input", "Input"], ["error", "Error"], ["logs", `Logs (${logs.length})`], ["attempts", "Attempts"], ["context", "Context after"], ["diff", "Changes"]];
  return (
    <div className="nf-panel-body">
      <h2 className="nf-panel-title">{nodeId} <span className={`nf-run-badge nf-run-badge--${run.status}`}>{run.status}</span></h2>
      <dl className="nf-facts">
        <dt>Type</dt><dd>{run.type}</dd>
        <dt>Queued</dt><dd>{clock(run.queued_at)}</dd>
        <dt>Started</dt><dd>{clock(run.started_at)}</dd>
        <dt>Finished</dt><dd>{clock(run.finished_at)}</dd>
        <dt>Duration</dt><dd>{formatDuration(run.duration_ms) || "—"}</dd>
        <dt>Attempt</dt><dd>{run.attempt ?? 1}</dd>
        {run.worker && <><dt>Worker</dt><dd className="nf-ellipsis" title={run.worker}>{run.worker}</dd></>}
      </dl>
      {run.status === "waiting" && <ProvideInput executionId={executionId} nodeId={nodeId} />}
      <div className="nf-tabs" role="tablist">
        {tabs.map(([name, label]) => (
          <button key={name} type="button" role="tab" aria-selected={tab === name} className={`nf-tab ${tab === name ? "is-active" : ""} ${name === "error" && error ? "nf-tab--error" : ""}`} onClick={() => setTab(name)}>{label}</button>
        ))}
      </div>
      <div role="tabpanel" className="nf-tabpanel" aria-label={tabs.find(([name]) => name === tab)?.[1]}>
        {tab === "output" && (run.output === undefined || run.output === null ? <p className="nf-muted">No output.</p> : <JsonTree value={run.output} root={`nodes.${nodeId}.output`} label="Output" />)}
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
                <span className="nf-log-level">{line.level ?? "info"}</span> <span className="nf-log-message">{line.message ?? JSON.stringify(line)}</span>
              </li>
            ))}
          </ol>
        ) : <p className="nf-muted">No logs.</p>)}
        {tab === "attempts" && <JsonTree value={run.attempts ?? []} root="attempts" label="Attempts" />}
        {(tab === "context" || tab === "diff") && (
          context === null ? <p className="nf-muted"><span className="nf-spinner" /> Loading…</p>
            : context.error ? <p className="nf-field-error" role="alert">{context.error}</p>
              : <JsonTree value={context.value} root={tab === "diff" ? "" : ""} label={tab === "diff" ? "Changes (JSON Patch)" : "Context after"} />
        )}
      </div>
    </div>
  );
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
  if (!bars.length) return <p className="nf-muted nf-small">Nothing has started yet.</p>;
  return (
    <ol className="nf-timeline" aria-label="Timeline">
      {bars.map((bar) => (
        <li key={bar.nodeId} className="nf-timeline-row" data-node-id={bar.nodeId}>
          <span className="nf-timeline-name">{bar.nodeId}</span>
          <span className="nf-timeline-track">
            <span className={`nf-timeline-bar nf-timeline-bar--${bar.status}`} title={`${bar.nodeId}: ${formatDuration(bar.duration_ms)}`}
              style={{ left: `${(bar.left * 100).toFixed(2)}%`, width: `${(bar.width * 100).toFixed(2)}%` }} />
          </span>
        </li>
      ))}
    </ol>
  );
}

type LogLine = { level?: string; message?: string };

/** Every node's log lines, in node-run order, filtered by node and level. */
function AllLogs({ runs }: { runs: NodeRunDetail[] }) {
  const [node, setNode] = useState("");
  const [level, setLevel] = useState("");
  const lines = runs.flatMap((run) => (Array.isArray(run.logs) ? (run.logs as LogLine[]) : []).map((line) => ({ node: run.node_id, ...line })));
  const levels = [...new Set(lines.map((line) => line.level ?? "info"))];
  const shown = lines.filter((line) => (!node || line.node === node) && (!level || (line.level ?? "info") === level));
  if (!lines.length) return <p className="nf-muted nf-small">No logs.</p>;
  return (
    <div className="nf-all-logs">
      <div className="nf-json-tools">
        <select className="nf-input" aria-label="Logs of node" value={node} onChange={(event) => setNode(event.target.value)}>
          <option value="">All nodes</option>
          {[...new Set(lines.map((line) => line.node))].map((id) => <option key={id} value={id}>{id}</option>)}
        </select>
        <select className="nf-input" aria-label="Log level" value={level} onChange={(event) => setLevel(event.target.value)}>
          <option value="">All levels</option>
          {levels.map((value) => <option key={value} value={value}>{value}</option>)}
        </select>
      </div>
      <ol className="nf-logs" aria-label="All logs">
        {shown.map((line, index) => (
          <li key={index} className={`nf-log nf-log--${line.level ?? "info"}`}>
            <span className="nf-log-level">{line.node} · {line.level ?? "info"}</span> <span className="nf-log-message">{line.message ?? JSON.stringify(line)}</span>
          </li>
        ))}
      </ol>
    </div>
  );
}
