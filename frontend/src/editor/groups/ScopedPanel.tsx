/**
 * The side panel of a node inside a body: the usual node panel, given a view of the editor in
 * which the body is the document. Reads see the body (its nodes, its problems with local paths,
 * local ids); edits and selections go to the real store through `editInScope` and scoped ids.
 * So every form of the panel works inside a group or a loop without knowing about bodies.
 */
import { useMemo, type ReactNode } from "react";
import { graphAt, problemsInScope, scopedId, splitScopedId, type Scope } from "../../document/groups";
import { editInScope } from "../../document/groups";
import type { WorkflowDocument } from "../../document/types";
import { EditorContext, useEditorContext, type EditorContextValue } from "../context";
import type { EditorState, EditorStore } from "../store";

const EMPTY_GRAPH = { nodes: [], edges: [] } as unknown as WorkflowDocument;

function localIds(ids: ReadonlySet<string>, prefix: string): Set<string> {
  const found = new Set<string>();
  for (const id of ids) if (id.startsWith(prefix) && !id.includes("/", prefix.length)) found.add(id.slice(prefix.length));
  return found;
}

/** The part of `EditorStore` the node panel uses, over the body at `scope`. */
export class ScopedStoreView {
  private memo: { state: EditorState; view: EditorState } | null = null;
  private readonly prefix: string;

  constructor(private readonly store: EditorStore, private readonly scope: Scope) {
    this.prefix = `${scope.join("/")}/`;
  }

  getState = (): EditorState => {
    const state = this.store.getState();
    if (this.memo?.state === state) return this.memo.view;
    const doc = state.history.present;
    const view: EditorState = {
      ...state,
      history: { ...state.history, present: graphAt(doc, this.scope) ?? EMPTY_GRAPH },
      problems: problemsInScope(doc, state.problems, this.scope),
      selectedNodes: localIds(state.selectedNodes, this.prefix),
      selectedEdges: new Set(),
      // A body's trigger.group is not one of the workflow's triggers.
      workflow: { ...state.workflow, triggers: [] },
    };
    this.memo = { state, view };
    return view;
  };

  subscribe = (listener: () => void): (() => void) => this.store.subscribe(listener);

  get doc(): WorkflowDocument {
    return this.getState().history.present;
  }

  edit(update: (doc: WorkflowDocument) => WorkflowDocument, key?: string): void {
    this.store.edit((doc) => editInScope(doc, this.scope, update), key && `${this.prefix}${key}`);
  }

  select(nodes: Iterable<string>, edges: Iterable<string> = []): void {
    this.store.select([...nodes].map((id) => scopedId(this.scope, id)), [...edges]);
  }

  isDirty(): boolean {
    return this.store.isDirty();
  }

  save(): Promise<boolean> {
    return this.store.save();
  }

  notify(text: string, kind?: "info" | "error"): void {
    this.store.notify(text, kind);
  }
}

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
