/** One click in the run inspector pins a node's output into the draft (or unpins it). */
import { pinFor, pinsOf, withPin, withoutPin } from "../../document/debugging";
import type { NodeRunDetail } from "../../executions/live";
import { Button } from "../../ui/Button";
import { toast } from "../../ui/overlays";
import { useEditorContext, useEditorState } from "../context";

export function PinOutput({ nodeId, run }: { nodeId: string; run: NodeRunDetail }) {
  const { store } = useEditorContext();
  const pinned = useEditorState((state) => nodeId in pinsOf(state.history.present));
  const exists = useEditorState((state) => state.history.present.nodes.some((node) => (node as { id?: unknown }).id === nodeId));
  // Only an output the inspector has (its details loaded) and holds whole can be pinned.
  if (!exists || (!pinned && (run.status !== "completed" || run.output === undefined || run.output_stored))) return null;
  const toggle = async () => {
    store.edit((doc) => (pinned ? withoutPin(doc, nodeId) : withPin(doc, nodeId, pinFor(run.output ?? null, run.ports))), `pin:${nodeId}`);
    const saved = await store.save();
    toast(saved ? (pinned ? "Unpinned: draft runs run this node again." : "Pinned: draft runs use this output instead of running the node.")
      : "The draft could not be saved.", saved ? "info" : "error");
  };
  return (
    <Button size="small" icon={pinned ? "x" : "check"} onClick={() => void toggle()} data-testid="pin-output"
      title={pinned ? "Draft runs run this node again" : "Draft runs complete this node with this output, without running it"}>
      {pinned ? "Unpin output" : "Pin this output"}
    </Button>
  );
}
