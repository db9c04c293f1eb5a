/**
 * The save conflict (issue 25): the draft was saved elsewhere (another tab, another client) since this
 * tab loaded it. Both versions side by side, node by node, and the three ways out: keep mine (saved
 * over theirs), take theirs (one undo brings mine back), open both (mine saved as a copy in a new tab).
 */
import { useMemo, useState } from "react";
import { api } from "../api/client";
import { appConfig } from "../app/config";
import { routeUrl } from "../app/routes";
import { compareVersions, type VersionSide } from "../document/compare";
import type { WorkflowDocument } from "../document/types";
import { Button } from "../ui/Button";
import { toast } from "../ui/overlays";
import "../styles/revisions.css";
import { useEditorContext, useEditorState } from "./context";

function Side({ title, note, side, testId }: { title: string; note: string; side: VersionSide; testId: string }) {
  return (
    <section className="nf-conflict-side" data-testid={testId} aria-label={title}>
      <h3>{title}</h3>
      <p>{note}</p>
      <ul>
        {side.nodes.map((node) => (
          <li key={node.id} title={`${node.type} · id ${node.id}`}>
            <span>{node.label}</span>
            {node.change !== "same" && <span className={`nf-change nf-change--${node.change}`}>{node.change === "added" ? `only here` : "changed"}</span>}
          </li>
        ))}
      </ul>
    </section>
  );
}

export function ConflictDialog() {
  const { store } = useEditorContext();
  const conflict = useEditorState((state) => state.conflict);
  const mine = useEditorState((state) => state.history.present);
  const [busy, setBusy] = useState(false);
  const comparison = useMemo(
    () => (conflict ? compareVersions(mine, conflict.theirs.definition as WorkflowDocument) : null),
    [conflict, mine],
  );
  if (!conflict || !comparison) return null;
  const theirs = conflict.theirs;

  const openBoth = async () => {
    setBusy(true);
    // The tab opens now, while the click still counts as the user's (a window opened after an await is blocked).
    const tab = window.open("about:blank", "_blank");
    try {
      const copy = await api.workflows.create({ name: `${mine.name || theirs.name} (my copy)`.slice(0, 200), definition: mine });
      const url = routeUrl({ name: "editor", workflowId: String(copy.id) }, appConfig().baseUrl);
      if (tab) tab.location.href = url;
      else window.open(url, "_blank");
      store.takeTheirs();
      toast(`Your version is saved as “${copy.name}”, opened in a new tab; this tab now shows the other one.`);
    } catch (error) {
      tab?.close();
      toast(`Could not save your copy: ${error instanceof Error ? error.message : String(error)}`, "error");
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="nf-modal-backdrop">
      <div className="nf-modal nf-conflict" role="dialog" aria-modal="true" aria-labelledby="nf-conflict-title">
        <h2 id="nf-conflict-title">This workflow was changed elsewhere</h2>
        <p className="nf-modal-message">
          Someone (another tab, or another client) saved revision {theirs.revision} while you were editing, so your changes were not saved.
          {comparison.differs ? " Choose which version to keep:" : " The two differ only in where nodes sit on the canvas."}
        </p>
        <div className="nf-conflict-sides">
          <Side title="Your version" note="In this tab, not saved" side={comparison.mine} testId="conflict-mine" />
          <Side title="Their version" note={`Saved as revision ${theirs.revision}`} side={comparison.theirs} testId="conflict-theirs" />
        </div>
        <div className="nf-modal-actions">
          <Button onClick={() => void openBoth()} disabled={busy} title="Save your version as a new workflow in a new tab; this tab takes theirs">Open both</Button>
          <Button onClick={() => store.takeTheirs()} disabled={busy} title="Drop your unsaved changes (Undo brings them back)">Take theirs</Button>
          <Button variant="primary" onClick={() => void store.keepMine()} disabled={busy} title="Save your version over theirs">Keep mine</Button>
        </div>
      </div>
    </div>
  );
}
