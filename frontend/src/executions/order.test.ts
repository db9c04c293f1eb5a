import { describe, expect, it } from "vitest";
import type { NodeRunSummary } from "./live";
import { inStartOrder } from "./order";

const at = (second: number) => `2026-12-04T10:00:${String(second).padStart(2, "0")}.000Z`;

describe("node runs in start order", () => {
  it("orders a chain that arrived out of order by when each node started", () => {
    const arrived: NodeRunSummary[] = [
      { node_id: "step_12", status: "completed", started_at: at(12) },
      { node_id: "step_1", status: "completed", started_at: at(1) },
      { node_id: "step_13", status: "running", started_at: at(13) },
      { node_id: "step_14", status: "queued", queued_at: at(14) },
      { node_id: "step_20", status: "pending" },
      { node_id: "step_2", status: "completed", started_at: at(2) },
      { node_id: "step_15", status: "pending" },
    ];
    expect(inStartOrder(arrived).map((run) => run.node_id)).toEqual(["step_1", "step_2", "step_12", "step_13", "step_14", "step_20", "step_15"]);
  });
});
