/** Above the canvas in the execution view: the run's status, its node counts and duration, a way back. */
import { useState } from "react";
import { api } from "../api/client";
import { Link } from "../app/router";
import { formatDuration, isFinished } from "../executions/live";
import { ranRevisionLabel } from "../executions/revision";
import type { WatchedExecution } from "../executions/useExecution";
import { Button } from "../ui/Button";
import { Icon } from "../ui/Icon";
import { toast } from "../ui/overlays";
import { usePausedAt } from "./debug/PausedPanel";
import { RunDebugControls } from "./debug/RunDebugControls";

type Action = "cancel" | "pause" | "resume" | "retry";
const LABELS: Record<Action, string> = { cancel: "Cancel", pause: "Pause", resume: "Resume", retry: "Retry" };

/** Which controls an execution in `status` offers. */
export function controlsFor(status: string): Action[] {
  switch (status) {
    case "queued":
    case "running":
    case "waiting":
      return ["pause", "cancel"];
    case "paused":
      return ["resume", "cancel"];
    case "failed":
    case "cancelled":
    case "timed_out":
      return ["retry"];
    default:
      return [];
  }
}

export function RunBar({ workflowId, live }: { workflowId: string; live: WatchedExecution }) {
  const [busy, setBusy] = useState(false);
  const atBreakpoint = usePausedAt(live).length > 0;
  const control = async (action: Action) => {
    if (!live.execution) return;
    setBusy(true);
    try {
      await api.executions.control(String(live.execution.id), action);
      toast(action === "retry" ? `Retry: requested. It runs ${ran}, as this run did, not the current draft.` : `${LABELS[action]}: requested.`);
      live.refresh();
    } catch (reason) {
      toast(reason instanceof Error ? reason.message : String(reason), "error");
    } finally {
      setBusy(false);
    }
  };
  const { execution } = live;
  // A retry runs the document this execution ran (its version or draft revision), never the draft as it is now.
  const ran = ranRevisionLabel({ version: (execution?.version as number | null | undefined) ?? null, revision: (execution?.revision as number | null | undefined) ?? null });
  const status = (execution?.status as string | undefined) ?? "connecting";
  const runs = Object.values(live.nodes);
  const done = runs.filter((run) => run.status === "completed").length;
  const failed = runs.filter((run) => run.status === "failed").length;
  const error = execution?.error as { message?: string } | string | null | undefined;
  const message = typeof error === "string" ? error : error?.message;
  return (
    <div className={`nf-run-bar nf-run-bar--${status}`} role="status" aria-label="Execution" data-status={status} data-transport={live.transport}>
      {!isFinished(live) && <span className="nf-spinner" aria-hidden="true" />}
      <strong>Run {execution ? String(execution.id).slice(0, 8) : ""}</strong>
      <span className={`nf-run-badge nf-run-badge--${status}`} data-testid="execution-status">{status}</span>
      <span className="nf-muted">{done} completed{failed ? `, ${failed} failed` : ""} · {runs.length} node runs</span>
      {execution?.duration_ms != null && <span className="nf-muted">{formatDuration(execution.duration_ms)}</span>}
      {!isFinished(live) && live.transport !== "connecting" && (
        <span className={`nf-run-transport nf-run-transport--${live.transport}`}
          title={live.transport === "websocket" ? "Live: every change arrives as it happens" : "No live connection: the page asks the server every moment"}>
          {live.transport === "websocket" ? "live" : "polling"}
        </span>
      )}
      {message && <span className="nf-run-bar-error" title={message}><Icon name="alert" size={13} /> {message}</span>}
      {live.error && <span className="nf-run-bar-error">{live.error}</span>}
      <RunDebugControls workflowId={workflowId} live={live} />
      {controlsFor(status).filter((action) => !(action === "resume" && atBreakpoint)).map((action) => (
        <Button key={action} size="small" variant={action === "cancel" ? "danger" : "secondary"} disabled={busy} onClick={() => void control(action)}
          title={action === "retry" ? `Runs the failed nodes again with ${ran}, the document this run used` : undefined}>
          {action === "retry" ? `Retry ${ran}` : LABELS[action]}
        </Button>
      ))}
      <Link to={{ name: "editor", workflowId }} className="nf-button nf-button--ghost nf-button--small nf-run-bar-back">Back to editing</Link>
    </div>
  );
}
