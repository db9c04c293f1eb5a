import { describe, expect, it } from "vitest";
import type { SavedWorkflow, Workflow } from "../api/types";
import { setParam } from "../document/edit";
import type { WorkflowDocument } from "../document/types";
import { exampleDocument } from "../test/fixtures";
import { EditorStore, type EditorApi } from "./store";

function api(): EditorApi {
  let revision = 1;
  let published: number | null = null;
  const workflow = (doc: WorkflowDocument): Workflow => ({
    id: "w1", name: "w", definition: doc, revision, published_version: published, active: published !== null, triggers: [], created_at: "", updated_at: "",
  });
  return {
    async save(_id, body) {
      revision += 1;
      return { ...workflow(body.definition), validation: { valid: true, errors: [] } } as SavedWorkflow;
    },
    async validate() {
      return { valid: true, errors: [] };
    },
    async publish() {
      published = 1;
      return { number: 1, revision, created_at: "", published: true, definition: exampleDocument() };
    },
    async unpublish() {
      return workflow(exampleDocument());
    },
    async get() {
      return workflow(exampleDocument());
    },
  };
}

describe("Publish changes after undo (issue 25, item 13 of the list)", () => {
  it("is off again when undo brings the draft back to the published content, even saved under a newer revision", async () => {
    const store = new EditorStore({ id: "w1", name: "w", definition: exampleDocument(), revision: 1, published_version: null, active: false, triggers: [], created_at: "", updated_at: "" }, api());
    expect(await store.publish()).toBe(true);
    expect(store.hasUnpublishedChanges()).toBe(false);

    store.edit((doc) => setParam(doc, "lookup", "url", "https://changed.test"));
    await store.save();
    expect(store.hasUnpublishedChanges()).toBe(true);

    store.undo();
    await store.save();
    expect(store.getState().workflow.revision).toBe(3);
    expect(store.hasUnpublishedChanges()).toBe(false);
  });
});
