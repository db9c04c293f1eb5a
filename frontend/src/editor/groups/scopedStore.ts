/**
 * The editor seen from inside a body: reads see the body as the document (its nodes, its problems
 * with paths relative to it, selections by local id); edits and selections go to the real store
 * through `editInScope` and scoped ids. Plain TypeScript, unit-tested with the store.
 */
import { editInScope, graphAt, problemsInScope, scopedId, type Scope } from "../../document/groups";
import type { WorkflowDocument } from "../../document/types";
import type { EditorState, EditorStore } from "../store";

const EMPTY_GRAPH = { nodes: [], edges: [] } as unknown as WorkflowDocument;

function localIds(ids: ReadonlySet<string>, prefix: string): Set<string> {
  const found = new Set<string>();
  for (const id of ids) if (id.startsWith(prefix) && !id.includes("/", prefix.length)) found.add(id.slice(prefix.length));
  return found;
}

/** The part of `EditorStore` the node panel uses (reads, edits, selections, saving), over the body at `scope`. */
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

