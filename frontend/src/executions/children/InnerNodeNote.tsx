/**
 * The run inspector for a node inside a body: it did not run in this execution but in the child
 * runs of its group or loop, which are listed to open (the node's runs are there).
 */
import type { NodeRunSummary } from "../live";
import { ChildRuns } from "./ChildRuns";

const FINAL = new Set(["completed", "failed", "skipped", "cancelled"]);

export function InnerNodeNote({ executionId, canvasId, group }: { executionId: string; canvasId: string; group: NodeRunSummary | undefined }) {
  const [top] = canvasId.split("/");
  const local = canvasId.slice(canvasId.lastIndexOf("/") + 1);
  return (
    <div className="nf-panel-body" data-panel="inner-node">
      <h2 className="nf-panel-title">{local}</h2>
      <p className="nf-muted">
        This node is inside <code>{top}</code>’s body: it runs in {group?.type === "flow.foreach" ? "each iteration" : "the group’s child run"}, a run of its own.
        Open one to see this node’s input, output and logs there.
      </p>
      {group ? <ChildRuns executionId={executionId} nodeId={top} type={group.type} active={!FINAL.has(group.status)} /> : <p className="nf-muted nf-small"><code>{top}</code> has not run yet.</p>}
    </div>
  );
}
