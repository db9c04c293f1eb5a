/** Above the canvas in the execution view: the run's status, its node counts and duration, a way back. */
import { Link } from "../app/router";
import { formatDuration, isFinished, type LiveState } from "../executions/live";
import { Icon } from "../ui/Icon";

export function RunBar({ workflowId, live }: { workflowId: string; live: LiveState & { error: string | null } }) {
  const { execution } = live;
  const status = (execution?.status as string | undefined) ?? "connecting";
  const runs = Object.values(live.nodes);
  const done = runs.filter((run) => run.status === "completed").length;
  const failed = runs.filter((run) => run.status === "failed").length;
  const error = execution?.error as { message?: string } | string | null | undefined;
  const message = typeof error === "string" ? error : error?.message;
  return (
    <div className={`nf-run-bar nf-run-bar--${status}`} role="status" aria-label="Execution" data-status={status}>
      {!isFinished(live) && <span className="nf-spinner" aria-hidden="true" />}
      <strong>Run {execution ? String(execution.id).slice(0, 8) : ""}</strong>
      <span className={`nf-run-badge nf-run-badge--${status}`} data-testid="execution-status">{status}</span>
      <span className="nf-muted">{done} completed{failed ? `, ${failed} failed` : ""} · {runs.length} node runs</span>
      {execution?.duration_ms != null && <span className="nf-muted">{formatDuration(execution.duration_ms)}</span>}
      {message && <span className="nf-run-bar-error" title={message}><Icon name="alert" size={13} /> {message}</span>}
      {live.error && <span className="nf-run-bar-error">{live.error}</span>}
      <Link to={{ name: "editor", workflowId }} className="nf-button nf-button--ghost nf-button--small nf-run-bar-back">Back to editing</Link>
    </div>
  );
}
