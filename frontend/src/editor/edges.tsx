/** The canvas edge: a curve, red with its problem when the server found one, a delete button when selected. */
import { BaseEdge, EdgeLabelRenderer, getBezierPath, type EdgeProps } from "@xyflow/react";
import { memo } from "react";
import type { CanvasEdge } from "../document/convert";
import { Icon } from "../ui/Icon";
import { useEditorContext } from "./context";

function WorkflowEdgeView({ id, sourceX, sourceY, targetX, targetY, sourcePosition, targetPosition, data, selected, markerEnd }: EdgeProps<CanvasEdge>) {
  const { actions, readOnly } = useEditorContext();
  const [path, labelX, labelY] = getBezierPath({ sourceX, sourceY, targetX, targetY, sourcePosition, targetPosition });
  const problems = data?.problems ?? [];
  const className = `nf-edge ${problems.length ? "has-problems" : ""} ${data?.port === "error" ? "nf-edge--error-port" : ""} ${selected ? "is-selected" : ""} ${data?.runState ? "nf-edge--carried" : ""}`;
  return (
    <>
      <BaseEdge id={id} path={path} className={className} markerEnd={markerEnd} interactionWidth={18} />
      {(problems.length > 0 || (selected && !readOnly)) && (
        <EdgeLabelRenderer>
          <div className="nf-edge-label nodrag nopan" style={{ transform: `translate(-50%, -50%) translate(${labelX}px, ${labelY}px)` }} data-edge-id={id}>
            {problems.length > 0 && (
              <span className="nf-edge-problem" role="alert" title={problems.map((problem) => problem.message).join("\n")}>
                <Icon name="alert" size={12} /> {problems[0].message}
              </span>
            )}
            {selected && !readOnly && (
              <button type="button" className="nf-edge-delete" aria-label="Delete connection" title="Delete connection" onClick={() => actions.deleteSelection()}>
                <Icon name="x" size={12} />
              </button>
            )}
          </div>
        </EdgeLabelRenderer>
      )}
    </>
  );
}

export const WorkflowEdge = memo(WorkflowEdgeView);

export const edgeTypes = { nodeflow: WorkflowEdge };
