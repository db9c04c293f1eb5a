/**
 * The side panel of a node inside a body: the usual node panel, given a view of the editor in
 * which the body is the document (`ScopedStoreView`). So every form of the panel works inside a
 * group or a loop without knowing about bodies.
 */
import { useMemo, type ReactNode } from "react";
import { scopedId, splitScopedId } from "../../document/groups";
import { EditorContext, useEditorContext, type EditorContextValue } from "../context";
import type { EditorStore } from "../store";
import { ScopedStoreView } from "./scopedStore";

/** Renders `children(localId)` with the editor seen from the body of the selected node. */
export function ScopedPanel({ nodeId, children }: { nodeId: string; children: (localId: string) => ReactNode }) {
  const outer = useEditorContext();
  const { scope, id } = splitScopedId(nodeId);
  const key = scope.join("/");
  const context = useMemo<EditorContextValue | null>(() => {
    if (!key) return null;
    const bodyScope = key.split("/");
    // The panel's own uses of the store: reads, edits, selections (see ScopedStoreView).
    const store = new ScopedStoreView(outer.store, bodyScope) as unknown as EditorStore;
    return { ...outer, store, actions: { ...outer.actions, focusNode: (local: string) => outer.actions.focusNode(scopedId(bodyScope, local)) } };
  }, [outer, key]);
  if (!context) return <>{children(id)}</>;
  return <EditorContext.Provider value={context}>{children(id)}</EditorContext.Provider>;
}
