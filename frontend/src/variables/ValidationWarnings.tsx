/** The validation bar's note about warnings: reads of global variables that do not exist yet. */
import { useEditorState } from "../editor/context";

export function ValidationWarnings() {
  const warnings = useEditorState((state) => state.warnings);
  if (!warnings.length) return null;
  return (
    <span className="nf-muted" data-testid="warnings" title={warnings.map((warning) => `${warning.node_id ?? "workflow"}: ${warning.message}`).join("\n")}>
      {" "}· {warnings.length} warning{warnings.length === 1 ? "" : "s"}: {warnings[0].node_id ? `${warnings[0].node_id} ` : ""}{warnings[0].message}
    </span>
  );
}
