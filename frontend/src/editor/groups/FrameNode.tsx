/**
 * A group-like node (flow.group, flow.foreach) on the canvas: open, a frame with the node's own
 * header (title, ports, run state, a loop's progress) and its body's nodes inside (xyflow draws
 * them as the frame's children); collapsed, the usual node card with what the body holds.
 */
import { Handle, Position, type NodeProps } from "@xyflow/react";
import { memo, type MouseEvent } from "react";
import type { CanvasNode } from "../../document/convert";
import { frameOf } from "../../document/frames";
import { progressShare, progressText, useChildCounts, type ChildCounts } from "../../executions/children/progress";
import { Icon, nodeIcon } from "../../ui/Icon";
import { NodeCard, useRemeasureOnPortChange } from "../nodes";
import { nodeSummary } from "../summary";
import { useFrameToggles } from "./frameState";
import "../../styles/composition.css";

function Progress({ counts }: { counts: ChildCounts }) {
  return (
    <div className="nf-frame-progress" data-progress data-total={counts.total} data-succeeded={counts.succeeded} data-failed={counts.failed} data-running={counts.running}>
      <div className="nf-progress-bar" aria-hidden="true">
        <span className="nf-progress-done" style={{ width: `${(counts.succeeded / Math.max(1, counts.total)) * 100}%` }} />
        <span className="nf-progress-failed" style={{ width: `${(counts.failed / Math.max(1, counts.total)) * 100}%` }} />
      </div>
      <span className="nf-progress-text" title={`${Math.round(progressShare(counts) * 100)}%`}>{progressText(counts)}</span>
    </div>
  );
}

function ToggleButton({ id, collapsed }: { id: string; collapsed: boolean }) {
  const { toggle } = useFrameToggles();
  const onClick = (event: MouseEvent) => {
    event.stopPropagation();
    toggle(id);
  };
  return (
    <button type="button" className="nf-frame-toggle nodrag" data-frame-toggle={collapsed ? "expand" : "collapse"} onClick={onClick}
      title={collapsed ? "Show the body" : "Hide the body"} aria-label={collapsed ? "Expand" : "Collapse"} aria-expanded={!collapsed}>
      <span aria-hidden="true">{collapsed ? "▸" : "▾"}</span>
    </button>
  );
}

function FrameNodeView(props: NodeProps<CanvasNode>) {
  const { id, data, selected } = props;
  const frame = frameOf(props as unknown as CanvasNode) ?? { scope: [], collapsed: true, inside: 0, problemsInside: 0 };
  const counts = useChildCounts(id);
  const { node, entry, ports, title, problems, runState, runNote } = data;
  useRemeasureOnPortChange(id, `${frame.collapsed}|${ports.in.join(",")}|${ports.out.join(",")}|${ports.unknownOut.join(",")}`);
  const inside = `${frame.inside} node${frame.inside === 1 ? "" : "s"} inside`;
  if (frame.collapsed) {
    return (
      <div className="nf-frame-card" data-frame={id} data-collapsed="true">
        <NodeCard {...props} variant="flow" />
        <div className="nf-frame-card-foot">
          <ToggleButton id={id} collapsed />
          <span className="nf-muted nf-small">{inside}</span>
          {frame.problemsInside > 0 && <span className="nf-frame-problems" title="Problems inside the body"><Icon name="alert" size={12} /> {frame.problemsInside}</span>}
        </div>
        {counts && <Progress counts={counts} />}
      </div>
    );
  }
  const single = ports.out.length === 1 && ports.out[0] === "main" && ports.unknownOut.length === 0;
  const classes = ["nf-node", "nf-node--flow", "nf-frame", selected ? "is-selected" : "", problems.length ? "has-problems" : "", runState ? `nf-node--run-${runState}` : ""].join(" ");
  return (
    <div className={classes} data-node-id={node.id} data-frame={id} data-collapsed="false" aria-label={`${title} (${node.type})`}>
      {ports.in.map((port) => <Handle key={port} type="target" position={Position.Left} id={port} className="nf-handle nf-handle--in" />)}
      <div className="nf-frame-head">
        <ToggleButton id={id} collapsed={false} />
        <span className="nf-node-icon"><Icon name={nodeIcon(node.type, entry?.category ?? "")} size={17} /></span>
        <div className="nf-node-titles">
          <div className="nf-node-title">{title}</div>
          <div className="nf-node-summary">{nodeSummary(node, entry)}</div>
        </div>
        {frame.problemsInside > 0 && <span className="nf-frame-problems" title="Problems inside the body"><Icon name="alert" size={12} /> {frame.problemsInside}</span>}
        {problems.length > 0 && <span className="nf-frame-problems" title={problems.map((problem) => problem.message).join("\n")} role="alert"><Icon name="alert" size={12} /> {problems.length}</span>}
        {runState && (
          <span className={`nf-run-badge nf-run-badge--${runState}`} data-run-state={runState} title={runNote}>
            {(runState === "running" || runState === "retrying") && <span className="nf-spinner nf-spinner--tiny" aria-hidden="true" />}
            {runState}
          </span>
        )}
        {!single && (
          <div className="nf-frame-ports">
            {ports.out.map((port) => (
              <div key={port} className={`nf-port nf-port--${port === "error" || port === "errors" ? "error" : "ok"}`} data-port={port}>
                <span>{port}</span>
                <Handle type="source" position={Position.Right} id={port} className="nf-handle nf-handle--out" />
              </div>
            ))}
            {ports.unknownOut.map((port) => (
              <div key={port} className="nf-port nf-port--unknown" data-port={port}>
                <span>{port}?</span>
                <Handle type="source" position={Position.Right} id={port} className="nf-handle nf-handle--out" isConnectable={false} />
              </div>
            ))}
          </div>
        )}
      </div>
      {counts && <Progress counts={counts} />}
      {single && <Handle type="source" position={Position.Right} id="main" className="nf-handle nf-handle--out" />}
    </div>
  );
}

export const FrameNode = memo(FrameNodeView);
