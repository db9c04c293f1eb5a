import { applyEdgeChanges, applyNodeChanges } from "@xyflow/react";
import { describe, expect, it } from "vitest";
import { catalog, exampleDocument, largeDocument } from "../test/fixtures";
import { canvasToDocument, createCanvasCache, documentToCanvas, edgeIds, type CanvasEdge } from "./convert";
import type { Problem, WorkflowDocument } from "./types";

function roundTrip(doc: WorkflowDocument): WorkflowDocument {
  const { nodes, edges } = documentToCanvas(doc, catalog);
  return canvasToDocument(doc, nodes, edges);
}

describe("documentToCanvas", () => {
  it("draws every node at its position with its type's ports", () => {
    const { nodes } = documentToCanvas(exampleDocument(), catalog);
    expect(nodes.map((node) => [node.id, node.type, node.position.x, node.position.y])).toEqual([
      ["start", "trigger", 80, 200],
      ["lookup", "http", 320, 200],
      ["known", "logic", 560, 200],
      ["score", "code", 800, 120],
      ["done", "flow", 1040, 200],
    ]);
    const ports = Object.fromEntries(nodes.map((node) => [node.id, node.data.ports]));
    expect(ports.start).toEqual({ in: [], out: ["main"], unknownOut: [] });
    expect(ports.lookup.out).toEqual(["main", "error"]); // on_error: route
    expect(ports.known.out).toEqual(["true", "false"]);
    expect(ports.done).toEqual({ in: ["main"], out: [], unknownOut: [] });
  });

  it("names nodes by name, else by their type's title", () => {
    const { nodes } = documentToCanvas(exampleDocument(), catalog);
    expect(nodes.map((node) => node.data.title)).toEqual(["Signup hook", "Look up user", "If", "Python code", "Terminal"]);
  });

  it("draws edges from the right port handle with unique ids", () => {
    const { edges } = documentToCanvas(exampleDocument(), catalog);
    expect(edges.map((edge) => [edge.id, edge.source, edge.sourceHandle, edge.target])).toEqual([
      ["start.main->lookup", "start", "main", "lookup"],
      ["lookup.main->known", "lookup", "main", "known"],
      ["known.true->score", "known", "true", "score"],
      ["known.false->done", "known", "false", "done"],
      ["score.main->done", "score", "main", "done"],
    ]);
    expect(edgeIds([{ from: "a", to: "b" }, { from: "a", to: "b", port: "main" }])).toEqual(["a.main->b", "a.main->b#2"]);
  });

  it("gives switch nodes one port per case plus default", () => {
    const doc: WorkflowDocument = {
      api_version: "nodeflow/v1",
      nodes: [{ id: "s", type: "logic.switch", position: [0, 0], params: { cases: [{ name: "big", condition: true }, { name: "small", condition: true }] } }],
    };
    expect(documentToCanvas(doc, catalog).nodes[0].data.ports.out).toEqual(["big", "small", "default"]);
  });

  it("keeps an edge from a port the node lacks visible, as an unknown port", () => {
    const doc = exampleDocument();
    doc.edges!.push({ from: "score", port: "nope", to: "done" });
    const { nodes, edges } = documentToCanvas(doc, catalog);
    expect(nodes.find((node) => node.id === "score")!.data.ports.unknownOut).toEqual(["nope"]);
    expect(edges.at(-1)!.sourceHandle).toBe("nope");
  });

  it("marks nodes and edges with the problems that name them", () => {
    const problems: Problem[] = [
      { code: "invalid_params", message: "url is required", node_id: "lookup", edge: null, path: "nodes[1].params" },
      { code: "unknown_port", message: "no port", node_id: "known", edge: { from: "known", to: "score", port: "true" }, path: "edges[2]" },
      { code: "no_trigger", message: "no trigger", node_id: null, edge: null, path: "nodes" },
    ];
    const { nodes, edges } = documentToCanvas(exampleDocument(), catalog, { problems });
    expect(nodes.find((node) => node.id === "lookup")!.data.problems.map((p) => p.message)).toEqual(["url is required"]);
    expect(nodes.find((node) => node.id === "known")!.data.problems).toEqual([]);
    expect(edges.find((edge) => edge.id === "known.true->score")!.data!.problems.map((p) => p.code)).toEqual(["unknown_port"]);
    expect(edges.find((edge) => edge.id === "start.main->lookup")!.data!.problems).toEqual([]);
  });

  it("places nodes without a position in columns by depth", () => {
    const doc: WorkflowDocument = {
      api_version: "nodeflow/v1",
      nodes: [{ id: "a", type: "trigger.manual" }, { id: "b", type: "flow.noop" }, { id: "c", type: "flow.noop" }],
      edges: [{ from: "a", to: "b" }, { from: "a", to: "c" }],
    };
    const { nodes } = documentToCanvas(doc, catalog);
    expect(nodes.map((node) => [node.position.x, node.position.y])).toEqual([[80, 80], [360, 80], [360, 220]]);
  });

  it("draws unknown node types with a main port and skips what it cannot draw", () => {
    const doc = {
      api_version: "nodeflow/v1",
      nodes: [{ id: "x", type: "acme.unknown", position: [0, 0] }, "not a node", { type: "flow.noop" }, { id: "x", type: "flow.noop" }],
      edges: [{ from: "x", to: "ghost" }, 42, { from: "x", to: "x", port: "" }],
    } as unknown as WorkflowDocument;
    const { nodes, edges } = documentToCanvas(doc, catalog);
    expect(nodes.map((node) => [node.id, node.type, node.data.ports.out])).toEqual([["x", "unknown", ["main"]]]);
    expect(edges).toEqual([]);
  });
});

describe("canvasToDocument", () => {
  it("gives back the same document, item for item", () => {
    const doc = exampleDocument();
    const back = roundTrip(doc);
    expect(back).toEqual(doc);
    back.nodes.forEach((node, index) => expect(node).toBe(doc.nodes[index]));
    back.edges!.forEach((edge, index) => expect(edge).toBe(doc.edges![index]));
    expect(JSON.stringify(back)).toBe(JSON.stringify(doc));
  });

  it("keeps what the canvas cannot draw where it was", () => {
    const doc = {
      api_version: "nodeflow/v1",
      future_key: { kept: true },
      nodes: [{ id: "x", type: "flow.noop", position: [1, 2], custom: 1 }, "not a node", { type: "flow.noop" }, { id: "x", type: "dup" }],
      edges: [{ from: "x", to: "ghost" }, 42, { from: "x", to: "x" }, { from: "x", to: "x", extra: true }],
    } as unknown as WorkflowDocument;
    expect(JSON.stringify(roundTrip(doc))).toBe(JSON.stringify(doc));
  });

  it("leaves out positions it made up, unless the node moved", () => {
    const doc: WorkflowDocument = { api_version: "nodeflow/v1", nodes: [{ id: "a", type: "trigger.manual" }, { id: "b", type: "flow.noop" }] };
    expect(roundTrip(doc)).toEqual(doc);
    const { nodes, edges } = documentToCanvas(doc, catalog);
    const moved = applyNodeChanges([{ type: "position", id: "b", position: { x: 500, y: 40 } }], nodes);
    expect(canvasToDocument(doc, moved, edges).nodes).toEqual([{ id: "a", type: "trigger.manual" }, { id: "b", type: "flow.noop", position: [500, 40] }]);
  });

  it("writes moves, removals and new edges back", () => {
    const doc = exampleDocument();
    const { nodes, edges } = documentToCanvas(doc, catalog);
    const nextNodes = applyNodeChanges(
      [
        { type: "position", id: "lookup", position: { x: 300, y: 260 } },
        { type: "remove", id: "score" },
      ],
      nodes,
    );
    const withoutScoreEdges = edges.filter((edge) => edge.source !== "score" && edge.target !== "score");
    const nextEdges = applyEdgeChanges<CanvasEdge>(
      [
        { type: "remove", id: "known.false->done" },
        { type: "add", item: { id: "new", source: "known", sourceHandle: "true", target: "done" } },
      ],
      withoutScoreEdges,
    );
    const back = canvasToDocument(doc, nextNodes, nextEdges);
    expect(back.nodes.map((node) => node.id)).toEqual(["start", "lookup", "known", "done"]);
    expect(back.nodes[1].position).toEqual([300, 260]);
    expect(back.nodes[0]).toBe(doc.nodes[0]);
    expect(back.edges).toEqual([{ from: "start", to: "lookup" }, { from: "lookup", to: "known" }, { from: "known", to: "done", port: "true" }]);
  });

  it("drops an edge to a missing node when its other node is deleted", () => {
    const doc: WorkflowDocument = {
      api_version: "nodeflow/v1",
      nodes: [{ id: "a", type: "trigger.manual", position: [0, 0] }],
      edges: [{ from: "a", to: "ghost" }],
    };
    expect(canvasToDocument(doc, [], []).edges).toEqual([]);
  });

  it("round-trips a 200-node workflow without loss", () => {
    const doc = largeDocument(200);
    expect(JSON.stringify(roundTrip(doc))).toBe(JSON.stringify(doc));
  });
});

describe("the canvas cache", () => {
  it("gives the same result as the uncached conversion", () => {
    const doc = exampleDocument();
    const cache = createCanvasCache();
    const decorations = { selectedNodes: new Set(["known"]) };
    expect(documentToCanvas(doc, catalog, decorations, cache)).toEqual(documentToCanvas(doc, catalog, decorations));
  });

  it("reuses the nodes and edges an edit did not touch", () => {
    const doc = largeDocument(200);
    const cache = createCanvasCache();
    const first = documentToCanvas(doc, catalog, {}, cache);
    const nodes = [...doc.nodes];
    nodes[5] = { ...nodes[5], position: [1, 1] };
    const second = documentToCanvas({ ...doc, nodes }, catalog, { selectedNodes: new Set(["n7"]) }, cache);
    const changed = second.nodes.filter((node, index) => node !== first.nodes[index]).map((node) => node.id);
    expect(changed).toEqual(["n5", "n7"]);
    expect(second.edges).toBe(first.edges); // the very same list: the canvas skips its edge update
    expect(documentToCanvas({ ...doc, nodes }, catalog, { selectedNodes: new Set(["n7"]) }, cache).nodes).toBe(second.nodes);
  });

  it("carries the sizes the canvas measured", () => {
    const doc = exampleDocument();
    const measured = new Map([["start", { width: 200, height: 60 }]]);
    const { nodes } = documentToCanvas(doc, catalog, { measured }, createCanvasCache());
    expect(nodes[0].measured).toEqual({ width: 200, height: 60 });
    expect(nodes[1].measured).toBeUndefined();
  });
});
