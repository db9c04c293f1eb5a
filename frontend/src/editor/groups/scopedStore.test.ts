import { describe, expect, it } from "vitest";
import type { Problem, SavedWorkflow, Workflow } from "../../api/types";
import { graphAt, nodeAt } from "../../document/groups";
import { setParam } from "../../document/edit";
import type { WorkflowDocument } from "../../document/types";
import { loopDocument } from "../../test/composition";
import { EditorStore, type EditorApi } from "../store";
import { ScopedStoreView } from "./scopedStore";

function storeOf(doc: WorkflowDocument): EditorStore {
  const workflow = { id: "w1", name: "Loop", definition: doc, revision: 1, published_version: null, active: false, triggers: [{ node_id: "start", type: "trigger.manual" }], created_at: "", updated_at: "" } as unknown as Workflow;
  const api: EditorApi = {
    save: async (_id, body) => ({ ...workflow, definition: body.definition, validation: { valid: true, errors: [] } }) as SavedWorkflow,
    validate: async () => ({ valid: true, errors: [] }),
    publish: async () => { throw new Error("not here"); },
    unpublish: async () => workflow,
    get: async () => workflow,
  };
  return new EditorStore(workflow, api, { autosaveMs: 60_000, validateMs: 60_000 });
}

describe("ScopedStoreView", () => {
  it("shows the body as the document, with its problems and selection in local terms", () => {
    const store = storeOf(loopDocument());
    const inner: Problem = { code: "invalid_params", message: "bad", node_id: "double", edge: null, path: "nodes[1].params.graph.nodes[1].params.code" };
    const outer: Problem = { code: "invalid_params", message: "outer", node_id: "start", edge: null, path: "nodes[0]" };
    (store as unknown as { set(partial: object): void }).set({ problems: [inner, outer] });
    store.select(["loop/double", "start"]);
    const view = new ScopedStoreView(store, ["loop"]);
    const state = view.getState();
    expect(state.history.present).toBe(graphAt(store.doc, ["loop"]));
    expect(state.problems).toEqual([{ ...inner, path: "nodes[1].params.code" }]);
    expect([...state.selectedNodes]).toEqual(["double"]);
    expect(state.workflow.triggers).toEqual([]);
    // The same state gives the same view (useSyncExternalStore needs a stable snapshot).
    expect(view.getState()).toBe(state);
    store.dispose();
  });

  it("writes edits into the body as one undo step, and selects by scoped id", () => {
    const store = storeOf(loopDocument());
    const view = new ScopedStoreView(store, ["loop"]);
    view.edit((graph) => setParam(graph, "double", "code", "x"), "param:double:code");
    view.edit((graph) => setParam(graph, "double", "code", "xy"), "param:double:code");
    expect(nodeAt(store.doc, "loop/double")?.params?.code).toBe("xy");
    expect(nodeAt(store.doc, "start")?.params).toBeUndefined();
    expect(view.doc).toBe(graphAt(store.doc, ["loop"]));
    view.select(["double"]);
    expect([...store.getState().selectedNodes]).toEqual(["loop/double"]);
    // Typing in one field merges into one step; undo brings the body back, and keeps the inner selection.
    store.undo();
    expect(nodeAt(store.doc, "loop/double")?.params?.code).toBe(nodeAt(loopDocument(), "loop/double")?.params?.code);
    expect([...store.getState().selectedNodes]).toEqual(["loop/double"]);
    store.dispose();
  });
});
