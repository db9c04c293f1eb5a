/**
 * Canvas node components, one memoised component per node category (the canvas node's
 * `type`), defined at module level as xyflow wants. Each shows its ports as the catalog
 * declares them, its problems, and — for issue 11's execution view — its run state.
 */
import { Handle, Position, useUpdateNodeInternals, type NodeProps } from "@xyflow/react";
import { memo, useEffect, useRef } from "react";
import type { CanvasNode } from "../document/convert";
import { shortMessage } from "../forms/problems";
import { Icon, nodeIcon } from "../ui/Icon";
import { isUntranslated } from "../workflows/imports";
import { nodeSummary } from "./summary";
import { NodeMarks } from "./debug/NodeMarks";

export type Variant = "trigger" | "http" | "code" | "logic" | "data" | "flow" | "custom" | "unknown";

/** Tells the canvas to measure a node's handles again when its ports change (a case added or renamed). */
export function useRemeasureOnPortChange(id: string, key: string) {
  const updateNodeInternals = useUpdateNodeInternals();
  const previous = useRef(key);
  useEffect(() => {
    if (previous.current === key) return;
    previous.current = key;
    updateNodeInternals(id);
  }, [id, key, updateNodeInternals]);
}

export function NodeCard({ id, data, selected, variant }: NodeProps<CanvasNode> & { variant: Variant }) {
  const { node, entry, ports, title, problems, runState, runNote } = data;
  useRemeasureOnPortChange(id, `${ports.in.join(",")}|${ports.out.join(",")}|${ports.unknownOut.join(",")}`);
  const untranslated = isUntranslated(node);
  const single = ports.out.length === 1 && ports.out[0] === "main" && ports.unknownOut.length === 0;
  const classes = [
    "nf-node",
    `nf-node--${variant}`,
    selected ? "is-selected" : "",
    problems.length ? "has-problems" : "",
    runState ? `nf-node--run-${runState}` : "",
    untranslated ? "is-untranslated" : "",
  ].join(" ");
  return (
    <div className={classes} data-node-id={node.id} aria-label={`${title} (${node.type})`}>
      <NodeMarks nodeId={node.id} />
      {ports.in.map((port) => (
        <Handle key={port} type="target" position={Position.Left} id={port} className="nf-handle nf-handle--in" />
      ))}
      <div className="nf-node-head">
        <span className="nf-node-icon"><Icon name={nodeIcon(node.type, entry?.category ?? "")} size={17} /></span>
        <div className="nf-node-titles">
          <div className="nf-node-title">{title}</div>
          <div className="nf-node-summary">{nodeSummary(node, entry)}</div>
        </div>
        {runState && (
          <span className={`nf-run-badge nf-run-badge--${runState}`} data-run-state={runState}>
            {(runState === "running" || runState === "retrying") && <span className="nf-spinner nf-spinner--tiny" aria-hidden="true" />}
            {runState}
          </span>
        )}
      </div>
      {/* In the execution view every node keeps a line for its note, so a node that finishes does not
          grow: a size change makes the canvas measure the node and route its edges again. */}
      {untranslated && (
        <div className="nf-node-untranslated" data-untranslated title={node.description}>
          <Icon name="alert" size={13} /><span>Not translated: rebuild this step</span>
        </div>
      )}
      {runState && <div className="nf-node-run-note" data-run-note>{runNote || "\u00a0"}</div>}
      {problems.length > 0 && (
        <div className="nf-node-problem" role="alert" title={problems.map((problem) => problem.message).join("\n")}>
          <Icon name="alert" size={13} />
          <span>{shortMessage(problems[0])}{problems.length > 1 ? ` (+${problems.length - 1})` : ""}</span>
        </div>
      )}
      {single ? (
        <Handle type="source" position={Position.Right} id="main" className="nf-handle nf-handle--out" />
      ) : (
        (ports.out.length > 0 || ports.unknownOut.length > 0) && (
          <div className="nf-node-ports">
            {ports.out.map((port) => (
              <div key={port} className={`nf-port nf-port--${port === "error" ? "error" : "ok"}`} data-port={port}>
                <span>{port}</span>
                <Handle type="source" position={Position.Right} id={port} className="nf-handle nf-handle--out" />
              </div>
            ))}
            {ports.unknownOut.map((port) => (
              <div key={port} className="nf-port nf-port--unknown" data-port={port} title="This node has no such port">
                <span>{port}?</span>
                <Handle type="source" position={Position.Right} id={port} className="nf-handle nf-handle--out" isConnectable={false} />
              </div>
            ))}
          </div>
        )
      )}
    </div>
  );
}

export const TriggerNode = memo((props: NodeProps<CanvasNode>) => <NodeCard {...props} variant="trigger" />);
export const HttpNode = memo((props: NodeProps<CanvasNode>) => <NodeCard {...props} variant="http" />);
export const CodeNode = memo((props: NodeProps<CanvasNode>) => <NodeCard {...props} variant="code" />);
export const LogicNode = memo((props: NodeProps<CanvasNode>) => <NodeCard {...props} variant="logic" />);
export const DataNode = memo((props: NodeProps<CanvasNode>) => <NodeCard {...props} variant="data" />);
export const FlowNode = memo((props: NodeProps<CanvasNode>) => <NodeCard {...props} variant="flow" />);
export const CustomNode = memo((props: NodeProps<CanvasNode>) => <NodeCard {...props} variant="custom" />);
export const UnknownNode = memo((props: NodeProps<CanvasNode>) => <NodeCard {...props} variant="unknown" />);

/** Canvas node type (a category, see convert.canvasNodeType) → component. */
export const nodeTypes = {
  trigger: TriggerNode,
  http: HttpNode,
  code: CodeNode,
  logic: LogicNode,
  data: DataNode,
  flow: FlowNode,
  custom: CustomNode,
  unknown: UnknownNode,
};
