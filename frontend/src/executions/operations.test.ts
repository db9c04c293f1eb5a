import { describe, expect, it } from "vitest";
import { heldText, priorityText } from "./operations";

describe("heldText", () => {
  it("says a held queued run waits for a limit, and which", () => {
    expect(heldText({ status: "queued", held: "workflow" })?.label).toBe("queued: limit reached");
    expect(heldText({ status: "queued", held: "workflow" })?.title).toContain("max_concurrent");
    expect(heldText({ status: "queued", held: "owner" })?.title).toContain("your limit");
  });
  it("says nothing for a run that is not held", () => {
    expect(heldText({ status: "queued", held: null })).toBeNull();
    expect(heldText({ status: "running", held: "workflow" })).toBeNull();
  });
});

describe("priorityText", () => {
  it("shows high and low, not normal", () => {
    expect(priorityText({ priority: "high" })).toBe("high priority");
    expect(priorityText({ priority: "normal" })).toBeNull();
    expect(priorityText({})).toBeNull();
  });
});
