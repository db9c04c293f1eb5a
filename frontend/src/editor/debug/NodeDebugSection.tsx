/**
 * The debugging tools of a node, in its side panel (the draft editor): a breakpoint toggle, "Run from
 * here" and "Run up to here" with the latest run (DEBUGGING.md partial runs), and the node's pin.
 */
import { useState } from "react";
import { ApiError } from "../../api/client";
import { navigate } from "../../app/router";
import { pinsOf, withoutPin } from "../../document/debugging";
import { Button } from "../../ui/Button";
import { toast } from "../../ui/overlays";
import { useEditorContext, useEditorState } from "../context";
import { toggleBreakpoint, useBreakpoints } from "./breakpoints";
import { debugApi, type RunRequest } from "./debugApi";
import "../../styles/debugging.css";

export function NodeDebugSection({ nodeId }: { nodeId: string }) {
  const { store } = useEditorContext();
  const workflowId = useEditorState((state) => String(state.workflow.id));
  const pinned = useEditorState((state) => nodeId in pinsOf(state.history.present));
  const breakpoints = useBreakpoints(workflowId);
  const [busy, setBusy] = useState(false);
  const hasBreakpoint = breakpoints.includes(nodeId);

  const run = async (kind: "from" | "upto") => {
    setBusy(true);
    try {
      if (store.isDirty() && !(await store.save())) throw new Error("The draft could not be saved, so it was not run.");
      const latest = await debugApi.latestRun(workflowId);
      const body: RunRequest = kind === "upto" ? { stop_after: [nodeId] } : {};
      if (kind === "upto" && latest) body.input = latest.input ?? {};
      if (kind === "from") {
        if (!latest) throw new Error("Run the workflow once first: a run from here reuses what the latest run made before this node.");
        Object.assign(body, { from_execution: String(latest.id), start_at: nodeId });
      }
      if (breakpoints.length) body.debug = { breakpoints };
      const started = await debugApi.run(workflowId, body);
      await navigate({ name: "execution", workflowId, executionId: started.execution_id }, { force: true });
    } catch (reason) {
      toast(reason instanceof ApiError || reason instanceof Error ? reason.message : String(reason), "error");
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="nf-debug-tools" aria-label="Debugging">
      <h3 className="nf-panel-subtitle">Debugging</h3>
      <div className="nf-debug-buttons">
        <Button size="small" aria-pressed={hasBreakpoint} className={hasBreakpoint ? "nf-breakpoint-on" : ""}
          onClick={() => toggleBreakpoint(workflowId, nodeId)}
          title="A run pauses before this node; Step and Continue in the run bar go on">
          <span className="nf-breakpoint-dot" aria-hidden="true" /> {hasBreakpoint ? "Remove breakpoint" : "Set breakpoint"}
        </Button>
        <Button size="small" icon="play" disabled={busy} onClick={() => void run("from")}
          title="Runs this node and what follows with the current draft, reusing what the latest run made before it">Run from here</Button>
        <Button size="small" icon="play" disabled={busy} onClick={() => void run("upto")}
          title="Runs only what this node needs, then stops">Run up to here</Button>
        {pinned && (
          <Button size="small" onClick={() => store.edit((doc) => withoutPin(doc, nodeId), `pin:${nodeId}`)}
            title="Draft runs run this node again">Unpin output</Button>
        )}
      </div>
      {pinned && <p className="nf-muted nf-small" data-testid="pinned-note">Pinned: draft runs use its pinned output instead of running it.</p>}
    </section>
  );
}
