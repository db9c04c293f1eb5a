import { describe, expect, it } from "vitest";
import { timeline } from "./live";

const at = (seconds: number) => new Date(Date.UTC(2026, 11, 4, 10, 0, 0) + seconds * 1000).toISOString();

describe("the timeline of a retried run (issue 25, item 13 of the list)", () => {
  it("cuts the wait before the retry short, so bars keep a readable width", () => {
    const bars = timeline([
      { node_id: "start", status: "completed", started_at: at(0), finished_at: at(1) },
      { node_id: "fetch", status: "completed", started_at: at(1), finished_at: at(3) },
      // Retried an hour later.
      { node_id: "flaky", status: "completed", started_at: at(3600), finished_at: at(3602) },
      { node_id: "done", status: "completed", started_at: at(3602), finished_at: at(3603) },
    ]);
    const width = Object.fromEntries(bars.map((bar) => [bar.nodeId, bar.width]));
    expect(width.flaky).toBeGreaterThan(0.25);
    expect(width.fetch).toBeCloseTo(width.flaky, 5);
    expect(bars.map((bar) => bar.left)).toEqual([...bars.map((bar) => bar.left)].sort((a, b) => a - b));
    expect(bars.at(-1)!.left + bars.at(-1)!.width).toBeCloseTo(1, 5);
    expect(bars.find((bar) => bar.nodeId === "flaky")!.duration_ms).toBe(2000);
  });
});
