import { describe, expect, it } from "vitest";
import { heldText, priorityText, resourceFacts, totalResources } from "./operations";

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

describe("resources", () => {
  it("totals node runs like the API: sums and the largest peak", () => {
    expect(totalResources([{ cpu_ms: 1.5, peak_memory_kb: 10 }, { cpu_ms: 2, peak_memory_kb: 30, bytes_in: 5 }, null, "x"]))
      .toEqual({ cpu_ms: 3.5, peak_memory_kb: 30, bytes_in: 5 });
  });
  it("shows the figures there are, readable", () => {
    expect(resourceFacts({ cpu_ms: 231.4, sandbox_cpu_ms: 220, peak_memory_kb: 65536 })).toEqual([
      ["CPU", "231 ms (sandbox 220 ms)"], ["Peak memory", "64.0 MB"]]);
    expect(resourceFacts({ cpu_ms: 0.42, bytes_out: 5000, bytes_in: 900 })).toEqual([
      ["CPU", "0.42 ms"], ["Sent", "4.9 KB"], ["Received", "900 B"]]);
    expect(resourceFacts(null)).toEqual([]);
  });
});
