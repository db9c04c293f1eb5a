/**
 * The run bar's debugging controls (DEBUGGING.md): Step and Continue for a debug run paused at a
 * breakpoint, "Re-run with the current draft" (a partial run from the failed node) for a failed run,
 * and "Save as test case" for a finished one.
 */
import { useState } from "react";
import { api } from "../../api/client";
import { navigate } from "../../app/router";
import { caseFromRun, failedNode, testsOf, withTestCase } from "../../document/debugging";
import type { WatchedExecution } from "../../executions/useExecution";
import { Button } from "../../ui/Button";
import { toast } from "../../ui/overlays";
import { useEditorContext } from "../context";
import { debugApi } from "./debugApi";
import { usePausedAt } from "./PausedPanel";

export function RunDebugControls({ workflowId, live }: { workflowId: string; live: WatchedExecution }) {
  const { store } = useEditorContext();
  const [busy, setBusy] = useState(false);
  const paused = usePausedAt(live);
  const execution = live.execution as Record<string, unknown> | null;
  if (!execution) return null;
  const id = String(execution.id);
  const status = String(execution.status);
  const failed = status === "failed" || status === "timed_out" ? failedNode(Object.values(live.nodes) as { node_id: string; status: string }[]) : null;
  const finished = ["succeeded", "failed", "cancelled", "timed_out"].includes(status);

  const act = async (what: () => Promise<unknown>, done?: string) => {
    setBusy(true);
    try {
      await what();
      if (done) toast(done);
      live.refresh();
    } catch (reason) {
      toast(reason instanceof Error ? reason.message : String(reason), "error");
    } finally {
      setBusy(false);
    }
  };
  const rerun = () => act(async () => {
    if (!failed) return;
    const started = await debugApi.run(workflowId, { from_execution: id, start_at: failed });
    await navigate({ name: "execution", workflowId, executionId: started.execution_id }, { force: true });
  });
  const saveCase = () => act(async () => {
    store.edit((doc) => withTestCase(doc, caseFromRun(execution, testsOf(doc).map((test) => test.name))), "tests");
    if (!(await store.save())) throw new Error("The draft could not be saved.");
  }, "Saved as a test case of the draft (the workflow panel's Tests tab runs it).");

  return (
    <>
      {paused.length > 0 && (
        <>
          <Button size="small" variant="primary" disabled={busy} onClick={() => void act(() => debugApi.step(id))}
            title="Runs the nodes it is paused before, and pauses before the next ones">Step</Button>
          <Button size="small" disabled={busy} onClick={() => void act(() => api.executions.control(id, "resume"))}
            title="Runs on to the next breakpoint">Continue</Button>
        </>
      )}
      {failed && (
        <Button size="small" disabled={busy} onClick={() => void rerun()}
          title={`Runs ${failed} and what follows with the current draft, reusing this run's outputs before it`}>Re-run with the current draft</Button>
      )}
      {finished && <Button size="small" variant="ghost" disabled={busy} onClick={() => void saveCase()}>Save as test case</Button>}
    </>
  );
}
