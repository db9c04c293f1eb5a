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

  it("keeps a run's resource figures from the snapshot and from the event of its end", () => {
    let state = applyMessage(EMPTY_LIVE, { ...snapshot, nodes: [{ node_id: "a", status: "completed", resources: { cpu_ms: 2 } }] });
    expect(state.nodes.a.resources).toEqual({ cpu_ms: 2 });
    state = applyMessage(state, [
      { seq: 4, type: "NODE_STATE_CHANGED", node_id: "b", ts: "2026-01-01T00:00:01Z", data: { status: "running" } },
      { seq: 5, type: "NODE_STATE_CHANGED", node_id: "b", ts: "2026-01-01T00:00:02Z",
        data: { status: "completed", resources: { cpu_ms: 3, peak_memory_kb: 900 } } },
    ]);
    expect(state.nodes.b.resources).toEqual({ cpu_ms: 3, peak_memory_kb: 900 });
    expect(state.nodes.a.resources).toEqual({ cpu_ms: 2 });
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

describe("log lines and outputs streamed into an open view", () => {
  const start = applyMessage(EMPTY_LIVE, snapshot);

  it("gathers LOG lines per node and notes which nodes have new data", async () => {
    const state = applyMessage(start, [
      { seq: 4, type: "LOG", node_id: "a", ts: "t", data: { lines: [{ ts: "1", level: "info", message: "one" }], count: 1 } },
      { seq: 5, type: "DATA_AVAILABLE", node_id: "a", ts: "t", data: { ports: ["main"], has_output: true } },
      { seq: 6, type: "LOG", node_id: "a", ts: "t", data: { lines: [{ ts: "2", level: "error", message: "two" }], count: 1 } },
    ]);
    expect(state.logs.a.map((line) => line.message)).toEqual(["one", "two"]);
    expect(state.nodeSeq).toEqual({ a: 6 });
    expect(state.contextSeq).toBe(5);
    // The state it came from is untouched (the view compares states by identity).
    expect(start.logs).toEqual({});
    expect(start.nodeSeq).toEqual({});
    // An event seen before (a resumed socket repeats some) changes nothing.
    expect(applyMessage(state, { seq: 6, type: "LOG", node_id: "a", ts: "t", data: { lines: [{ message: "two" }] } })).toBe(state);
  });

  it("keeps streamed lines when the same run's snapshot comes again, and drops them for another run", () => {
    const state = applyMessage(start, { seq: 4, type: "LOG", node_id: "a", ts: "t", data: { lines: [{ message: "one" }] } });
    expect(applyMessage(state, snapshot).logs.a).toHaveLength(1);
    expect(applyMessage(state, { ...snapshot, execution: { id: "other", status: "running" } }).logs).toEqual({});
  });

  it("merges stored and streamed log lines without repeating the ones stored already", async () => {
    const { mergeLogs } = await import("./live");
    const stored = [{ ts: "1", level: "info", message: "one" }];
    const streamed = [{ ts: "1", level: "info", message: "one" }, { ts: "2", level: "info", message: "two" }];
    expect(mergeLogs(stored, streamed).map((line) => line.message)).toEqual(["one", "two"]);
    expect(mergeLogs(undefined, streamed)).toHaveLength(2);
    expect(mergeLogs(stored, undefined)).toBe(stored);
  });

  it("applies a burst of 1,500 events over 500 nodes in one pass", () => {
    const nodes = Array.from({ length: 500 }, (_, index) => ({ node_id: `n${index}`, status: "pending" }));
    let state = applyMessage(EMPTY_LIVE, { type: "SNAPSHOT", execution: { id: "e", status: "running" }, nodes, last_seq: 0 });
    const events = nodes.flatMap((node, index) => ["queued", "running", "completed"].map((status, step) => ({
      seq: index * 3 + step + 1, type: "NODE_STATE_CHANGED", node_id: node.node_id, ts: `2026-01-01T00:00:0${step}Z`, data: { status },
    })));
    const started = performance.now();
    state = applyMessage(state, events);
    const elapsed = performance.now() - started;
    expect(Object.values(runStates(state)).every((status) => status === "completed")).toBe(true);
    expect(state.nodes.n499.duration_ms).toBe(1000);
    expect(state.lastSeq).toBe(1500);
    expect(elapsed).toBeLessThan(250);
  });
});
