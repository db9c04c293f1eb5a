import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError } from "../api/client";
import type { SavedWorkflow, ValidationResult, Workflow } from "../api/types";
import { setParam } from "../document/edit";
import type { Problem, WorkflowDocument } from "../document/types";
import { exampleDocument } from "../test/fixtures";
import { EditorStore, type EditorApi } from "./store";

const PROBLEM: Problem = { code: "invalid_params", message: "url is required", node_id: "lookup", edge: null, path: null };

function workflowOf(doc: WorkflowDocument): Workflow {
  return {
    id: "w1", name: doc.name ?? "", definition: doc, revision: 1, published_version: null, active: false,
    triggers: [], created_at: "", updated_at: "",
  };
}

function fakeApi(problemsFor: (doc: WorkflowDocument) => Problem[] = () => []) {
  const calls: string[] = [];
  const saved: WorkflowDocument[] = [];
  const api: EditorApi = {
    async save(_id, body) {
      calls.push("save");
      saved.push(body.definition);
      const errors = problemsFor(body.definition);
      return { ...workflowOf(body.definition), revision: saved.length + 1, validation: { valid: !errors.length, errors } } as SavedWorkflow;
    },
    async validate(doc): Promise<ValidationResult> {
      calls.push("validate");
      const errors = problemsFor(doc);
      return { valid: !errors.length, errors };
    },
    async publish() {
      calls.push("publish");
      return { number: 1, revision: 2, created_at: "", published: true, definition: exampleDocument() };
    },
    async unpublish() {
      calls.push("unpublish");
      return workflowOf(exampleDocument());
    },
    async get() {
      calls.push("get");
      return { ...workflowOf(exampleDocument()), published_version: 1, triggers: [{ node_id: "start", type: "trigger.webhook", url: "u", test_url: "t", next_runs: [] }] };
    },
  };
  return { api, calls, saved };
}

const missingUrl = (doc: WorkflowDocument) => (doc.nodes[1].params?.url ? [] : [PROBLEM]);

describe("EditorStore", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("tracks unsaved changes and saves them after a pause", async () => {
    const { api, saved } = fakeApi();
    const store = new EditorStore(workflowOf(exampleDocument()), api, { autosaveMs: 2000 });
    expect(store.isDirty()).toBe(false);
    store.edit((doc) => setParam(doc, "lookup", "url", "https://a.test"));
    expect(store.isDirty()).toBe(true);
    await vi.advanceTimersByTimeAsync(1000);
    store.edit((doc) => setParam(doc, "lookup", "url", "https://b.test"));
    await vi.advanceTimersByTimeAsync(1999);
    expect(saved).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(10);
    expect(saved).toHaveLength(1);
    expect(saved[0].nodes[1].params!.url).toBe("https://b.test");
    expect(store.isDirty()).toBe(false);
  });

  it("is clean again when undo returns to the saved document", () => {
    const store = new EditorStore(workflowOf(exampleDocument()), fakeApi().api);
    store.edit((doc) => setParam(doc, "lookup", "url", "x"));
    store.undo();
    expect(store.isDirty()).toBe(false);
    store.redo();
    expect(store.isDirty()).toBe(true);
  });

  it("shows the server's problems for the current document only", async () => {
    const { api } = fakeApi(missingUrl);
    const store = new EditorStore(workflowOf(exampleDocument()), api, { validateMs: 100 });
    store.edit((doc) => setParam(doc, "lookup", "url", ""));
    await vi.advanceTimersByTimeAsync(150);
    expect(store.getState().problems).toEqual([PROBLEM]);
    store.edit((doc) => setParam(doc, "lookup", "url", "https://ok.test"));
    await vi.advanceTimersByTimeAsync(150);
    expect(store.getState().problems).toEqual([]);
  });

  it("saves before publishing and refuses to publish with problems", async () => {
    const { api, calls } = fakeApi(missingUrl);
    const store = new EditorStore(workflowOf(exampleDocument()), api);
    store.edit((doc) => setParam(doc, "lookup", "url", ""));
    expect(await store.publish()).toBe(false);
    expect(calls).not.toContain("publish");
    store.edit((doc) => setParam(doc, "lookup", "url", "https://ok.test"));
    expect(await store.publish()).toBe(true);
    expect(store.getState().workflow.published_version).toBe(1);
    await vi.advanceTimersByTimeAsync(0);
    expect(calls.slice(-3)).toEqual(["save", "publish", "get"]); // triggers follow the published version
    expect(store.getState().workflow.triggers[0].url).toBe("u");
    expect(await store.unpublish()).toBe(true);
    expect(store.getState().workflow.published_version).toBeNull();
  });

  it("takes the publish refusal's problems", async () => {
    const { api } = fakeApi();
    api.publish = async () => {
      throw new ApiError(400, "invalid_workflow", "the workflow has 1 validation error(s)", [PROBLEM]);
    };
    const store = new EditorStore(workflowOf(exampleDocument()), api);
    expect(await store.publish()).toBe(false);
    expect(store.getState().problems).toEqual([PROBLEM]);
    expect(store.getState().notice?.kind).toBe("error");
  });

  it("makes a drag one undo step and saves after it", async () => {
    const { api, saved } = fakeApi();
    const store = new EditorStore(workflowOf(exampleDocument()), api, { autosaveMs: 100 });
    const before = store.doc;
    store.beginDrag();
    for (let x = 0; x < 5; x++) store.dragTo({ ...store.doc, nodes: store.doc.nodes.map((n, i) => (i === 0 ? { ...n, position: [x, 0] } : n)) });
    await vi.advanceTimersByTimeAsync(500);
    expect(saved).toHaveLength(0);
    store.endDrag();
    store.undo();
    expect(store.doc).toBe(before);
    store.redo();
    await vi.advanceTimersByTimeAsync(200);
    expect(saved).toHaveLength(1);
  });

  it("keeps edits made while a save is in flight unsaved, and saves them next", async () => {
    const { api, saved } = fakeApi();
    const pending: (() => void)[] = [];
    const original = api.save;
    api.save = (id, body) => new Promise((resolve) => pending.push(() => resolve(original(id, body))));
    const store = new EditorStore(workflowOf(exampleDocument()), api);
    store.edit((doc) => setParam(doc, "lookup", "url", "one"));
    const first = store.save();
    store.edit((doc) => setParam(doc, "lookup", "url", "two"));
    const second = store.save();
    expect(second).toBe(first);
    expect(pending).toHaveLength(1); // one save at a time
    pending.shift()!();
    await vi.advanceTimersByTimeAsync(0);
    expect(saved.map((doc) => doc.nodes[1].params!.url)).toEqual(["one"]);
    expect(pending).toHaveLength(1);
    pending.shift()!();
    expect(await second).toBe(true);
    expect(saved.map((doc) => doc.nodes[1].params!.url)).toEqual(["one", "two"]);
    expect(store.isDirty()).toBe(false);
  });

  it("drops the selection of nodes an undo removed", () => {
    const store = new EditorStore(workflowOf(exampleDocument()), fakeApi().api);
    store.edit((doc) => ({ ...doc, nodes: [...doc.nodes, { id: "extra", type: "flow.noop", position: [0, 0] }] }));
    store.select(["extra"]);
    store.undo();
    expect([...store.getState().selectedNodes]).toEqual([]);
  });
});
