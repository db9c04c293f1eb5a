import { describe, expect, it } from "vitest";
import { loopDocument } from "../../test/composition";
import { versionChoice, versionValue } from "../../editor/groups/versions";
import { applyMessage, EMPTY_LIVE, type LiveState } from "../live";
import { childrenUrl, parentOf } from "./api";
import { progressShare, progressText } from "./progress";
import { childCountsOf, missingKey, progressNodes } from "./useChildProgress";

const execution = { id: "e1", status: "running" } as unknown as LiveState["execution"];

function snapshot(nodes: unknown[]): LiveState {
  return applyMessage(EMPTY_LIVE, { type: "SNAPSHOT", execution, nodes, last_seq: 3 });
}

describe("a loop's progress in the live state", () => {
  it("comes with the snapshot and then with each NODE_PROGRESS event, in seq order", () => {
    let state = snapshot([{ node_id: "loop", status: "waiting", children: { total: 10, succeeded: 2, failed: 0, running: 3, queued: 5 } }]);
    expect(state.nodes.loop.children?.succeeded).toBe(2);
    state = applyMessage(state, [
      { seq: 4, type: "NODE_PROGRESS", node_id: "loop", ts: "2026-01-01T00:00:00Z", data: { children: { total: 10, succeeded: 3, failed: 0, running: 3, queued: 4 } } },
      { seq: 5, type: "NODE_PROGRESS", node_id: "loop", ts: "2026-01-01T00:00:01Z", data: { children: { total: 10, succeeded: 3, failed: 1, running: 3, queued: 3 } } },
    ]);
    expect(state.nodes.loop).toMatchObject({ status: "waiting", children: { succeeded: 3, failed: 1, queued: 3 } });
    expect(state.nodeSeq.loop).toBe(5);
    // A repeated (older) event changes nothing.
    const again = applyMessage(state, { seq: 4, type: "NODE_PROGRESS", node_id: "loop", ts: "", data: { children: { total: 10, succeeded: 0, failed: 0, running: 0, queued: 10 } } });
    expect(again).toBe(state);
  });

  it("is kept through the node's later state changes", () => {
    let state = snapshot([{ node_id: "loop", status: "waiting", children: { total: 2, succeeded: 2, failed: 0, running: 0, queued: 0 } }]);
    state = applyMessage(state, { seq: 4, type: "NODE_STATE_CHANGED", node_id: "loop", ts: "2026-01-01T00:00:00Z", data: { status: "completed" } });
    expect(state.nodes.loop.children?.total).toBe(2);
  });
});

describe("useChildProgress's parts", () => {
  it("draw progress on the top-level nodes with a body", () => {
    expect(progressNodes(loopDocument())).toEqual(["loop"]);
    expect(progressNodes(undefined)).toEqual([]);
  });

  it("take live counts first, fetched ones for a node not heard of yet", () => {
    const state = snapshot([{ node_id: "loop", status: "waiting" }, { node_id: "other", status: "waiting", children: { total: 1, succeeded: 1, failed: 0, running: 0, queued: 0 } }]);
    const fetched = { loop: { total: 4, succeeded: 0, failed: 0, running: 4, queued: 0 }, other: { total: 9, succeeded: 0, failed: 0, running: 0, queued: 9 } };
    expect(childCountsOf(state, ["loop", "other"], fetched)).toEqual({ loop: fetched.loop, other: { total: 1, succeeded: 1, failed: 0, running: 0, queued: 0 } });
    expect(childCountsOf(state, ["loop"])).toEqual({});
  });

  it("ask the server only about started nodes without counts, again when their state changes", () => {
    const state = snapshot([{ node_id: "a", status: "pending" }, { node_id: "b", status: "waiting" }, { node_id: "c", status: "waiting", children: { total: 1, succeeded: 0, failed: 0, running: 1, queued: 0 } }]);
    expect(missingKey(state, ["a", "b", "c"])).toBe("b:waiting");
    expect(missingKey(state, ["a", "c"])).toBe("");
  });
});

describe("what the run view says", () => {
  it("sums a loop's progress up", () => {
    const counts = { total: 100, succeeded: 35, failed: 2, running: 5, queued: 58 };
    expect(progressText(counts)).toBe("37 / 100 done · 2 failed · 5 running");
    expect(progressText({ total: 3, succeeded: 3, failed: 0, running: 0, queued: 0 })).toBe("3 / 3 done");
    expect(progressShare(counts)).toBeCloseTo(0.37);
    expect(progressShare({ total: 0, succeeded: 0, failed: 0, running: 0, queued: 0 })).toBe(0);
  });

  it("lists a node's children through ?parent=&node_id=&status=", () => {
    expect(childrenUrl("p1", { nodeId: "loop", status: "failed", offset: 40 })).toBe("executions/?parent=p1&limit=20&node_id=loop&status=failed&offset=40");
    expect(childrenUrl("p1")).toBe("executions/?parent=p1&limit=20");
  });

  it("reads a child's parent link", () => {
    expect(parentOf({ parent: { execution_id: "p1", node_id: "loop", index: 3 } } as never)).toEqual({ execution_id: "p1", node_id: "loop", index: 3 });
    expect(parentOf({ parent: null } as never)).toBeNull();
    expect(parentOf(null)).toBeNull();
  });

  it("picks a sub-workflow's version as published, draft or a number", () => {
    expect(versionChoice(undefined)).toBe("published");
    expect(versionChoice("draft")).toBe("draft");
    expect(versionChoice(3)).toBe("3");
    expect(versionValue("3")).toBe(3);
    expect(versionValue("draft")).toBe("draft");
  });
});
