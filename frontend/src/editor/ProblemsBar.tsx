/** The validation summary under the canvas: every problem the server found, each leading to its node. */
import { useState } from "react";
import { Icon } from "../ui/Icon";
import { problemCanvasId } from "../document/groups";
import { useEditorContext, useEditorState } from "./context";
import { nodeName, readableMessage } from "../document/labels";
import { ValidationWarnings } from "../variables/ValidationWarnings";

export function ProblemsBar() {
  const { actions } = useEditorContext();
  const problems = useEditorState((state) => state.problems);
  const doc = useEditorState((state) => state.history.present);
  const checked = useEditorState((state) => state.problemsOf !== null);
  const current = useEditorState((state) => state.problemsOf === state.history.present);
  const [open, setOpen] = useState(false);
  if (!checked) return null;
  if (!problems.length && !current) {
    return (
      <div className="nf-problems nf-problems--checking" data-testid="problems" data-count="checking">
        <span className="nf-spinner" aria-hidden="true" /> Checking…
      </div>
    );
  }
  if (!problems.length) {
    return (
      <div className="nf-problems nf-problems--ok" data-testid="problems" data-count="0">
        <Icon name="check" size={14} /> No problems — ready to publish
        <ValidationWarnings />
      </div>
    );
  }
  return (
    <div className={`nf-problems nf-problems--bad ${open ? "is-open" : ""}`} data-testid="problems" data-count={problems.length}>
      <button type="button" className="nf-problems-toggle" aria-expanded={open} onClick={() => setOpen(!open)}>
        <Icon name="alert" size={14} /> {problems.length} problem{problems.length === 1 ? "" : "s"}
        <span className="nf-muted"> · {open ? "hide" : "show"}</span>
      </button>
      {open && (
        <ul>
          {problems.map((problem, index) => (
            <li key={index}>
              {problem.node_id ? (
                <button type="button" className="nf-link-button" title={`id ${problemCanvasId(doc, problem)}`} onClick={() => actions.focusNode(problemCanvasId(doc, problem) ?? (problem.node_id as string))}>{nodeName(doc, problemCanvasId(doc, problem) ?? (problem.node_id as string))}</button>
              ) : (
                <span className="nf-muted">workflow</span>
              )}
              <span title={problem.message}>{readableMessage(problem.message, doc)}</span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
