import { describe, expect, it } from "vitest";
import { EMPTY_LIVE, applyMessage, formatDuration, isFinished, runStates } from "./live";

const snapshot = {
  type: "SNAPSHOT",
  execution: { id: "e", status: "running" },
  nodes: [{ node_id: "a", status: "completed", duration_ms: 5 }],
  last_seq: 3,
};

describe("live execution state", () => {
  it("starts from the snapshot and applies events once, in order", () => {
    let state = applyMessage(EMPTY_LIVE, snapshot);
    expect(runStates(state)).toEqual({ a: "completed" });
    state = applyMessage(state, [
      { seq: 3, type: "NODE_STATE_CHANGED", node_id: "a", ts: "2026-01-01T00:00:00Z", data: { status: "failed" } },
      { seq: 4, type: "NODE_STATE_CHANGED", node_id: "b", ts: "2026-01-01T00:00:01Z", data: { status: "running" } },
      { seq: 5, type: "NODE_STATE_CHANGED", node_id: "b", ts: "2026-01-01T00:00:03.5Z", data: { status: "completed" } },
    ]);
    expect(runStates(state)).toEqual({ a: "completed", b: "completed" });
    expect(state.nodes.b.duration_ms).toBe(2500);
    expect(state.lastSeq).toBe(5);
    expect(isFinished(state)).toBe(false);
    state = applyMessage(state, { seq: 6, type: "EXECUTION_COMPLETED", node_id: null, ts: "2026-01-01T00:00:04Z", data: { status: "completed", result: 1 } });
    expect(isFinished(state)).toBe(true);
    expect(state.execution?.result).toBe(1);
  });

  it("formats durations", () => {
    expect(formatDuration(850)).toBe("850 ms");
    expect(formatDuration(2400)).toBe("2.4 s");
    expect(formatDuration(null)).toBe("");
  });
});

describe("timeline", () => {
  it("places runs on one time axis so parallel runs overlap", async () => {
    const { timeline } = await import("./live");
    const bars = timeline([
      { node_id: "a", status: "completed", started_at: "2026-01-01T00:00:00Z", finished_at: "2026-01-01T00:00:01Z" },
      { node_id: "b", status: "completed", started_at: "2026-01-01T00:00:01Z", finished_at: "2026-01-01T00:00:03Z" },
      { node_id: "c", status: "completed", started_at: "2026-01-01T00:00:01Z", finished_at: "2026-01-01T00:00:04Z" },
      { node_id: "d", status: "pending" },
    ]);
    expect(bars.map((bar) => [bar.nodeId, bar.left, bar.width])).toEqual([["a", 0, 0.25], ["b", 0.25, 0.5], ["c", 0.25, 0.75]]);
  });
});
