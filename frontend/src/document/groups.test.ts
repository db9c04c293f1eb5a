import { describe, expect, it } from "vitest";
import { compositeCatalog, loopDocument } from "../test/composition";
import { connect, removeElements, setParam } from "./edit";
import {
  addNodeIn,
  bodyOf,
  byScope,
  editInScope,
  graphAt,
  locateProblem,
  nodeAt,
  problemCanvasId,
  problemsInScope,
  scopedId,
  splitScopedId,
  targetScope,
} from "./groups";
import { nodePorts } from "./ports";
import type { Problem } from "./types";

describe("scoped ids", () => {
  it("name a node inside bodies by the group nodes leading to it", () => {
    expect(scopedId([], "start")).toBe("start");
    expect(scopedId(["loop", "inner"], "noop")).toBe("loop/inner/noop");
    expect(splitScopedId("loop/inner/noop")).toEqual({ scope: ["loop", "inner"], id: "noop" });
    expect(splitScopedId("start")).toEqual({ scope: [], id: "start" });
  });

  it("find the node they name, at any depth, even where an outer node has the same id", () => {
    const doc = loopDocument();
    expect(nodeAt(doc, "start")?.type).toBe("trigger.manual");
    expect(nodeAt(doc, "loop/start")?.type).toBe("trigger.group");
    expect(nodeAt(doc, "loop/inner/noop")?.type).toBe("flow.noop");
    expect(nodeAt(doc, "loop/missing")).toBeUndefined();
    expect(nodeAt(doc, "done/x")).toBeUndefined(); // done has no body
  });

  it("group by scope", () => {
    const groups = byScope(["a", "loop/b", "loop/c", "loop/inner/d"]);
    expect([...groups.entries()].map(([key, value]) => [key, [...value.ids]])).toEqual([["", ["a"]], ["loop", ["b", "c"]], ["loop/inner", ["d"]]]);
  });
});

describe("editInScope", () => {
  it("applies a document edit to a body and writes it back up the chain, leaving the rest untouched", () => {
    const doc = loopDocument();
    const next = editInScope(doc, ["loop", "inner"], (graph) => setParam(graph, "noop", "x", 1));
    expect(nodeAt(next, "loop/inner/noop")?.params).toEqual({ x: 1 });
    expect(next.nodes[0]).toBe(doc.nodes[0]);
    expect(next.nodes[2]).toBe(doc.nodes[2]);
    expect(next.edges).toBe(doc.edges);
    // The loop's other params and the body's other nodes keep their identity.
    expect(graphAt(next, ["loop"])?.nodes[0]).toBe(graphAt(doc, ["loop"])?.nodes[0]);
    expect(next.nodes[1].params?.items).toBe("{{ input.items }}");
    // The original is not changed.
    expect(nodeAt(doc, "loop/inner/noop")?.params).toBeUndefined();
  });

  it("is the same document when the edit changes nothing, or the scope leads nowhere", () => {
    const doc = loopDocument();
    expect(editInScope(doc, ["loop"], (graph) => graph)).toBe(doc);
    expect(editInScope(doc, ["nowhere"], (graph) => setParam(graph, "x", "y", 1))).toBe(doc);
  });

  it("connects and removes inside a body by local ids", () => {
    const doc = loopDocument();
    const connected = editInScope(doc, ["loop"], (graph) => connect(graph, "start", "main", "inner"));
    expect(graphAt(connected, ["loop"])?.edges).toContainEqual({ from: "start", to: "inner" });
    const removed = editInScope(connected, ["loop"], (graph) => removeElements(graph, new Set(["double"])));
    expect(graphAt(removed, ["loop"])?.nodes.map((node) => node.id)).toEqual(["start", "inner"]);
    expect(graphAt(removed, ["loop"])?.edges).toEqual([{ from: "start", to: "inner" }]);
    // The top-level node with the same id as a body's is untouched.
    expect(removed.nodes.map((node) => node.id)).toEqual(["start", "loop", "done"]);
  });
});

describe("addNodeIn", () => {
  it("adds into a body with a fresh id there and returns its scoped id", () => {
    const { doc, id } = addNodeIn(loopDocument(), ["loop"], compositeCatalog.latest("flow.noop")!, [100, 300]);
    expect(id).toBe("loop/flow_noop");
    expect(nodeAt(doc, id)).toMatchObject({ type: "flow.noop", position: [100, 300] });
  });

  it("gives a group-like node a body that starts at a trigger.group", () => {
    const start = compositeCatalog.latest("trigger.group");
    const { doc, id } = addNodeIn(loopDocument(), [], compositeCatalog.latest("flow.foreach")!, [0, 400], start);
    const body = bodyOf(nodeAt(doc, id));
    expect(body).toEqual({ nodes: [{ id: "start", type: "trigger.group", version: 1, name: "Group start", position: [30, 70] }], edges: [] });
    expect(nodeAt(doc, id)?.params).toMatchObject({ graph: body });
    // A node without a body param gets none.
    const plain = addNodeIn(doc, [], compositeCatalog.latest("flow.noop")!, [0, 0], start);
    expect(bodyOf(nodeAt(plain.doc, plain.id))).toBeUndefined();
  });
});

describe("problems inside bodies", () => {
  const inner: Problem = { code: "invalid_params", message: "bad", node_id: "noop", edge: null, path: "nodes[1].params.graph.nodes[2].params.graph.nodes[1].params.x" };
  const body: Problem = { code: "invalid_params", message: "bad code", node_id: "double", edge: null, path: "nodes[1].params.graph.nodes[1].params.code" };
  const top: Problem = { code: "missing_key", message: "no items", node_id: "loop", edge: null, path: "nodes[1].params.items" };
  const bodyEdge: Problem = { code: "cycle", message: "loop", node_id: null, edge: { from: "double", to: "inner" }, path: "nodes[1].params.graph.edges[1]" };

  it("are located by their path and seen with a path relative to their body", () => {
    const doc = loopDocument();
    expect(locateProblem(doc, inner)).toEqual({ scope: ["loop", "inner"], problem: { ...inner, path: "nodes[1].params.x" } });
    expect(locateProblem(doc, top)).toEqual({ scope: [], problem: top });
    expect(locateProblem(doc, bodyEdge).scope).toEqual(["loop"]);
  });

  it("belong to their body only (an inner node_id never marks an outer node of that id)", () => {
    const doc = loopDocument();
    const problems = [inner, body, top, bodyEdge];
    expect(problemsInScope(doc, problems, []).map((problem) => problem.message)).toEqual(["no items"]);
    expect(problemsInScope(doc, problems, ["loop"]).map((problem) => problem.message)).toEqual(["bad code", "loop"]);
    expect(problemsInScope(doc, problems, ["loop", "inner"]).map((problem) => problem.path)).toEqual(["nodes[1].params.x"]);
  });

  it("lead to the canvas id of their node", () => {
    const doc = loopDocument();
    expect(problemCanvasId(doc, inner)).toBe("loop/inner/noop");
    expect(problemCanvasId(doc, top)).toBe("loop");
    expect(problemCanvasId(doc, bodyEdge)).toBeNull();
  });
});

describe("a loop's ports", () => {
  it("are main, and errors with on_item_error collect (as the server's dynamic ports)", () => {
    const entry = compositeCatalog.latest("flow.foreach")!;
    const ports = (params: Record<string, unknown>) => nodePorts({ id: "loop", type: "flow.foreach", params }, { ...entry, ports: { ...entry.ports, out: ["main", "errors"], dynamic: true } }).out;
    expect(ports({})).toEqual(["main"]);
    expect(ports({ on_item_error: "continue" })).toEqual(["main"]);
    expect(ports({ on_item_error: "collect" })).toEqual(["main", "errors"]);
  });
});

describe("targetScope", () => {
  it("is the body of a selected open group, the body of a selected inner node, else the top level", () => {
    const doc = loopDocument();
    const none = new Set<string>();
    expect(targetScope(doc, new Set(["loop"]), none)).toEqual(["loop"]);
    expect(targetScope(doc, new Set(["loop"]), new Set(["loop"]))).toEqual([]);
    expect(targetScope(doc, new Set(["loop/double"]), none)).toEqual(["loop"]);
    expect(targetScope(doc, new Set(["loop/inner"]), none)).toEqual(["loop", "inner"]);
    expect(targetScope(doc, new Set(["loop/inner"]), new Set(["loop/inner"]))).toEqual(["loop"]);
    expect(targetScope(doc, new Set(["start"]), none)).toEqual([]);
    expect(targetScope(doc, new Set(["start", "loop"]), none)).toEqual([]);
    expect(targetScope(doc, new Set(["loop/gone"]), none)).toEqual([]);
  });
});
