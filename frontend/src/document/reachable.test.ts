import { describe, expect, it } from "vitest";
import { sameContent } from "../executions/revision";
import { leftOutOfRun, reachableFromTriggers, runnablePart } from "./reachable";
import type { Problem, WorkflowDocument } from "./types";

const isTrigger = (type: string) => type.startsWith("trigger.");

function withStray(): WorkflowDocument {
  return {
    api_version: "nodeflow/v1", name: "Stray",
    nodes: [
      { id: "start", type: "trigger.manual" }, { id: "greet", type: "data.set" }, { id: "done", type: "flow.terminal" },
      { id: "stray", type: "http.request" }, { id: "after", type: "flow.noop" },
    ],
    edges: [{ from: "start", to: "greet" }, { from: "greet", to: "done" }, { from: "stray", to: "after" }],
  };
}

const problem = (node_id: string | null): Problem => ({ code: "invalid_params", message: "m", node_id, edge: null, path: null });

describe("run with problems", () => {
  it("reaches what the triggers lead to", () => {
    expect([...reachableFromTriggers(withStray(), isTrigger)].sort()).toEqual(["done", "greet", "start"]);
  });

  it("runs when every problem is in a node left out, and names them", () => {
    expect(runnablePart(withStray(), [problem("stray"), problem("after")], isTrigger)).toEqual({ runnable: true, leftOut: ["stray", "after"] });
    expect(runnablePart(withStray(), [], isTrigger)).toEqual({ runnable: true, leftOut: [] });
  });

  it("does not run when a problem is in the connected part or has no node", () => {
    expect(runnablePart(withStray(), [problem("stray"), problem("greet")], isTrigger).runnable).toBe(false);
    expect(runnablePart(withStray(), [problem(null)], isTrigger).runnable).toBe(false);
  });

  it("tells a run that left nodes out from a run of another revision", () => {
    const draft = withStray();
    const ran = { ...draft, nodes: draft.nodes.slice(0, 3), edges: draft.edges!.slice(0, 2) };
    expect(leftOutOfRun(ran, draft, sameContent)).toEqual(["stray", "after"]);
    expect(leftOutOfRun({ ...ran, name: "Other" }, draft, sameContent)).toBeNull();
    expect(leftOutOfRun(draft, draft, sameContent)).toBeNull();
  });
});
