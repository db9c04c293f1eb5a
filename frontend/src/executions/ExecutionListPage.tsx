/** Executions, newest first, of every workflow or of one: filters by status and trigger, cancel and retry. */
import { useCallback, useEffect, useState } from "react";
import { api } from "../api/client";
import type { Execution, Workflow } from "../api/types";
import { Link } from "../app/router";
import { TopBar } from "../app/TopBar";
import { controlsFor } from "../editor/RunBar";
import { Button } from "../ui/Button";
import { Icon } from "../ui/Icon";
import { dateTimeSeconds } from "../ui/format";
import { toast } from "../ui/overlays";
import { FINAL_EXECUTION, formatDuration } from "./live";
import { heldText, priorityText } from "./operations";

/** Rows per page (the API pages with limit/offset). */
export const PAGE_SIZE = 100;
const STATUSES = ["queued", "running", "paused", "waiting", "succeeded", "failed", "cancelled", "timed_out"];
const TRIGGERS = ["manual", "schedule", "webhook", "variable"];
/** How often the list reloads when nothing in it is still going. */
const REFRESH_IDLE_MS = 10_000;

function fromUrl(key: string, allowed: readonly string[]): string {
  const value = new URLSearchParams(window.location.search).get(key) ?? "";
  return allowed.includes(value) ? value : "";
}

export function ExecutionListPage({ workflowId }: { workflowId?: string }) {
  const [executions, setExecutions] = useState<Execution[] | null>(null);
  // The page asked for, and the one shown (they differ while it loads): with its total.
  const [offset, setOffset] = useState(0);
  const [shown, setShown] = useState({ offset: 0, count: 0 });
  const [names, setNames] = useState<Map<string, string>>(new Map());
  // Filters live in the URL (?status=&trigger=): a filtered list can be bookmarked, shared and reloaded.
  const [status, setStatus] = useState(() => fromUrl("status", STATUSES));
  const [trigger, setTrigger] = useState(() => fromUrl("trigger", TRIGGERS));
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);

  useEffect(() => {
    api.workflows.list().then((page) => setNames(new Map(page.results.map((workflow: Workflow) => [workflow.id, workflow.name ?? ""]))), () => undefined);
  }, []);

  const load = useCallback(async () => {
    try {
      const page = await api.executions.list({ workflow: workflowId, status, trigger, limit: PAGE_SIZE, offset });
      if (offset > 0 && page.results.length === 0 && page.count > 0) {
        // The page emptied (runs deleted, a filter narrowed): show the last one there is.
        setOffset(Math.floor((page.count - 1) / PAGE_SIZE) * PAGE_SIZE);
        return null;
      }
      setExecutions(page.results);
      setShown({ offset, count: page.count });
      setError(null);
      return page.results;
    } catch (reason) {
      setError(reason instanceof Error ? reason.message : String(reason));
      return null;
    }
  }, [workflowId, status, trigger, offset]);

  useEffect(() => {
    const query = new URLSearchParams(window.location.search);
    for (const [key, value] of [["status", status], ["trigger", trigger]]) {
      if (value) query.set(key, value);
      else query.delete(key);
    }
    const search = query.toString();
    window.history.replaceState(window.history.state, "", `${window.location.pathname}${search ? `?${search}` : ""}`);
  }, [status, trigger]);

  // Reloads by itself: every 2 s while something in the list is still going, else every 10 s (new runs appear).
  useEffect(() => {
    let timer: number | undefined;
    let stopped = false;
    void load().then((results) => {
      if (stopped) return;
      const going = results?.some((execution) => !FINAL_EXECUTION.has(execution.status as string));
      timer = window.setTimeout(() => setTick((value) => value + 1), going ? 2000 : REFRESH_IDLE_MS);
    });
    return () => {
      stopped = true;
      window.clearTimeout(timer);
    };
  }, [load, tick]);

  useEffect(() => {
    document.title = `Executions · NodeFlow`;
  }, []);

  const control = async (execution: Execution, action: "cancel" | "pause" | "resume" | "retry") => {
    try {
      await api.executions.control(String(execution.id), action);
      toast(`${action[0].toUpperCase()}${action.slice(1)}: requested.`);
      setTick((value) => value + 1);
    } catch (reason) {
      toast(reason instanceof Error ? reason.message : String(reason), "error");
    }
  };

  const title = workflowId ? `Executions of ${names.get(workflowId) || "this workflow"}` : "Executions";
  return (
    <div className="nf-page">
      <TopBar />
      <main className="nf-list-page">
        <div className="nf-list-head">
          <div>
            <h1>{title}</h1>
            <p className="nf-muted">{workflowId ? <Link to={{ name: "editor", workflowId }}>Open the workflow</Link> : "Every run of your workflows, newest first."}</p>
          </div>
          <div className="nf-list-tools">
            <label className="nf-filter">
              <span>Status</span>
              <select className="nf-input" aria-label="Status" value={status} onChange={(event) => {
                setStatus(event.target.value);
                setOffset(0);
              }}>
                <option value="">Any</option>
                {STATUSES.map((value) => <option key={value} value={value}>{value}</option>)}
              </select>
            </label>
            <label className="nf-filter">
              <span>Trigger</span>
              <select className="nf-input" aria-label="Trigger" value={trigger} onChange={(event) => {
                setTrigger(event.target.value);
                setOffset(0);
              }}>
                <option value="">Any</option>
                {TRIGGERS.map((value) => <option key={value} value={value}>{value}</option>)}
              </select>
            </label>
          </div>
        </div>
        {error && <div className="nf-banner nf-banner--error" role="alert"><Icon name="alert" /> Could not load the executions: {error}</div>}
        {executions && executions.length === 0 && <p className="nf-muted">No executions{status || trigger ? " match these filters" : " yet"}.</p>}
        {executions && executions.length > 0 && (
          <table className="nf-table" aria-label="Executions">
            <thead>
              <tr>
                <th>Status</th>
                {!workflowId && <th>Workflow</th>}
                <th>Trigger</th>
                <th>Created</th>
                <th>Duration</th>
                <th>Nodes</th>
                <th aria-label="Actions" />
              </tr>
            </thead>
            <tbody>
              {executions.map((execution) => {
                const counts = (execution.node_counts ?? {}) as Record<string, number>;
                const id = String(execution.id);
                const held = heldText(execution);
                const priority = priorityText(execution);
                return (
                  <tr key={id} data-execution-id={id}>
                    <td>
                      {execution.workflow ? (
                        <Link to={{ name: "execution", workflowId: String(execution.workflow), executionId: id }} className="nf-run-link" aria-label={`Open run ${id.slice(0, 8)}`}>
                          <span className={`nf-run-badge nf-run-badge--${execution.status}`}>{execution.status}</span>
                        </Link>
                      ) : <span className={`nf-run-badge nf-run-badge--${execution.status}`}>{execution.status}</span>}
                      {held && <span className="nf-muted nf-held" data-testid="held" title={held.title}> {held.label}</span>}
                      {priority && <span className="nf-muted nf-priority"> · {priority}</span>}
                    </td>
                    {!workflowId && <td>{execution.workflow ? <Link to={{ name: "editor", workflowId: String(execution.workflow) }}>{names.get(String(execution.workflow)) ?? "…"}</Link> : "(deleted or inline)"}</td>}
                    <td>{execution.trigger}</td>
                    <td>{execution.created_at ? (execution.workflow
                      ? <Link to={{ name: "execution", workflowId: String(execution.workflow), executionId: id }}>{dateTimeSeconds(execution.created_at)}</Link>
                      : dateTimeSeconds(execution.created_at)) : ""}</td>
                    <td>{formatDuration(execution.duration_ms as number | null) || "—"}</td>
                    <td className="nf-muted">{Object.entries(counts).map(([key, value]) => `${value} ${key}`).join(", ")}</td>
                    <td className="nf-table-actions">
                      {controlsFor(String(execution.status)).filter((action) => action === "cancel" || action === "retry").map((action) => (
                        <Button key={action} size="small" variant={action === "cancel" ? "danger" : "secondary"} onClick={() => void control(execution, action)}>
                          {action === "cancel" ? "Cancel" : "Retry"}
                        </Button>
                      ))}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
        {executions && shown.count > PAGE_SIZE && (
          <nav className="nf-pager" aria-label="Pages">
            <Button size="small" disabled={shown.offset === 0} onClick={() => setOffset(Math.max(0, shown.offset - PAGE_SIZE))}>Newer</Button>
            <span className="nf-muted" data-testid="page-range">{shown.offset + 1}–{shown.offset + executions.length} of {shown.count}</span>
            <Button size="small" disabled={shown.offset + PAGE_SIZE >= shown.count} onClick={() => setOffset(shown.offset + PAGE_SIZE)}>Older</Button>
          </nav>
        )}
      </main>
    </div>
  );
}
