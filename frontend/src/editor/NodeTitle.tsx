/**
 * A node as people read it (issue 25, item 7 of the list): its name, and its id — what expressions
 * use — beside it in code type, copied with a click, only where the two differ.
 */
import { useCallback } from "react";
import { nodeName } from "../document/labels";
import { toast } from "../ui/overlays";
import { useEditorState } from "./context";
import "../styles/revisions.css";

/** (id) → the node's name in the draft (its id when it has none). */
export function useNodeNames(): (id: string) => string {
  const doc = useEditorState((state) => state.history.present);
  return useCallback((id: string) => nodeName(doc, id), [doc]);
}

export function NodeTitle({ id }: { id: string }) {
  const name = useNodeNames()(id);
  if (name === id) return <>{id}</>;
  const copy = () => {
    navigator.clipboard?.writeText(id).then(() => toast(`Copied the id ${id}.`), () => undefined);
  };
  return (
    <>
      {name}{" "}
      <button type="button" className="nf-node-id-chip" title="The id expressions use: click to copy" onClick={copy}>{id}</button>
    </>
  );
}
