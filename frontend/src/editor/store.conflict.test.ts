import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError } from "../api/client";
import type { SavedWorkflow, Workflow } from "../api/types";
import { setParam } from "../document/edit";
import type { WorkflowDocument } from "../document/types";
import { exampleDocument } from "../test/fixtures";
import { EditorStore, type EditorApi } from "./store";

/** A server holding one draft at a revision, refusing saves made on another (as workflows/api.py does). */
function server(initial: WorkflowDocument) {
  const stored = { doc: initial, revision: 1 };
  const workflow = (): Workflow => ({
    id: "w1", name: stored.doc.name ?? "", definition: stored.doc, revision: stored.revision, published_version: null,
    active: false, triggers: [], created_at: "", updated_at: "",
  });
  const sentRevisions: (number | undefined)[] = [];
  const api: EditorApi = {
    async save(_id, body) {
      sentRevisions.push(body.revision);
      if (body.revision !== undefined && body.revision !== stored.revision) {
        throw new ApiError(409, "revision_conflict", "saved elsewhere", { revision: stored.revision, expected: body.revision });
      }
      stored.doc = body.definition;
      stored.revision += 1;
      return { ...workflow(), validation: { valid: true, errors: [] } } as SavedWorkflow;
    },
    async validate() {
      return { valid: true, errors: [] };
    },
    async publish() {
      throw new Error("not used");
    },
    async unpublish() {
      throw new Error("not used");
    },
    async get() {
      return workflow();
    },
  };
  return { api, stored, workflow, sentRevisions };
}

const url = (value: string) => (doc: WorkflowDocument) => setParam(doc, "lookup", "url", value);

describe("EditorStore save conflicts", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  async function twoTabs() {
    const backend = server(exampleDocument());
    const tabA = new EditorStore(backend.workflow(), backend.api);
    const tabB = new EditorStore(backend.workflow(), backend.api);
    tabA.edit(url("https://a.test"));
    expect(await tabA.save()).toBe(true);
    tabB.edit(url("https://b.test"));
    expect(await tabB.save()).toBe(false);
    return { backend, tabA, tabB };
  }

  it("sends the revision it edited and, when refused, holds the other version without overwriting it", async () => {
    const { backend, tabB } = await twoTabs();

    expect(backend.sentRevisions).toEqual([1, 1]);
    expect(backend.stored.doc.nodes[1].params?.url).toBe("https://a.test");
    expect(tabB.getState().conflict?.theirs.revision).toBe(2);
    expect(tabB.isDirty()).toBe(true);
    // Nothing is autosaved while the user has not chosen.
    tabB.edit(url("https://b2.test"));
    await vi.advanceTimersByTimeAsync(10_000);
    expect(backend.sentRevisions).toHaveLength(2);
  });

  it("keep mine saves this tab's draft over theirs", async () => {
    const { backend, tabB } = await twoTabs();

    expect(await tabB.keepMine()).toBe(true);

    expect(backend.stored.doc.nodes[1].params?.url).toBe("https://b.test");
    expect(backend.stored.revision).toBe(3);
    expect(tabB.getState().conflict).toBeNull();
    expect(tabB.isDirty()).toBe(false);
  });

  it("take theirs shows their draft, clean, and one undo brings mine back", async () => {
    const { backend, tabB } = await twoTabs();

    tabB.takeTheirs();

    expect(tabB.doc.nodes[1].params?.url).toBe("https://a.test");
    expect(tabB.isDirty()).toBe(false);
    expect(tabB.getState().workflow.revision).toBe(2);
    tabB.undo();
    expect(tabB.doc.nodes[1].params?.url).toBe("https://b.test");
    expect(await tabB.save()).toBe(true);
    expect(backend.stored.revision).toBe(3);
  });

  it("a metadata refresh does not move the revision the draft is based on", async () => {
    const { backend, tabA } = await twoTabs();
    const tabC = new EditorStore({ ...backend.workflow(), revision: 1 }, backend.api);

    await tabC.refreshWorkflow();
    tabC.edit(url("https://c.test"));

    expect(await tabC.save()).toBe(false);
    expect(tabC.getState().conflict).not.toBeNull();
    expect(tabA.getState().conflict).toBeNull();
  });
});
