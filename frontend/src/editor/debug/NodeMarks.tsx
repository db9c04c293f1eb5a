/** On a canvas node: a pin when the draft pins its output, a red dot when it has a breakpoint. */
import { useContext, useSyncExternalStore } from "react";
import { pinsOf } from "../../document/debugging";
import { EditorContext } from "../context";
import { useBreakpoints } from "./breakpoints";

const noSubscription = () => () => undefined;

export function NodeMarks({ nodeId }: { nodeId: string }) {
  const editor = useContext(EditorContext);
  const store = editor?.store;
  const pinned = useSyncExternalStore(store ? store.subscribe : noSubscription,
    () => (store ? nodeId in pinsOf(store.getState().history.present) : false));
  const breakpoints = useBreakpoints(store ? String(store.getState().workflow.id) : undefined);
  const breakpoint = breakpoints.includes(nodeId);
  if (!pinned && !breakpoint) return null;
  return (
    <span className="nf-node-marks">
      {breakpoint && <span className="nf-breakpoint-dot" data-breakpoint title="Breakpoint: a run pauses before this node" />}
      {pinned && <span className="nf-pin-mark" data-pinned title="Pinned: draft runs use its pinned output">pinned</span>}
    </span>
  );
}
