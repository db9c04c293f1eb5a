import { applyNodeChanges } from "@xyflow/react";
import { describe, expect, it } from "vitest";
import { compositeCatalog, loopDocument } from "../test/composition";
import { exampleDocument } from "../test/fixtures";
import { documentToCanvas } from "./convert";
import { copySelection, createFramedCache, documentToFramedCanvas, FRAME, frameOf, framedCanvasToDocument, pasteInto, removeSelection, splitScopedEdgeId } from "./frames";
import { graphAt, nodeAt } from "./groups";
import type { Problem } from "./types";

describe("documentToFramedCanvas", () => {
  it("draws a body's nodes inside their group's frame, each after its parent, with scoped ids", () => {
    const { nodes } = documentToFramedCanvas(loopDocument(), compositeCatalog);
    expect(nodes.map((node) => [node.id, node.type, node.parentId])).toEqual([
      ["start", "trigger", undefined],
      ["loop", "frame", undefined],
      ["loop/start", "trigger", "loop"],
      ["loop/double", "code", "loop"],
      ["loop/inner", "frame", "loop"],
      ["loop/inner/start", "trigger", "loop/inner"],
      ["loop/inner/noop", "flow", "loop/inner"],
      ["done", "flow", undefined],
    ]);
    // Positions inside a frame are the body's own, relative to the frame.
    expect(nodes.find((node) => node.id === "loop/double")?.position).toEqual({ x: 320, y: 70 });
  });

  it("sizes a frame to hold its body, frames inside frames included", () => {
    const { nodes } = documentToFramedCanvas(loopDocument(), compositeCatalog);
    const byId = Object.fromEntries(nodes.map((node) => [node.id, node]));
    const inner = frameOf(byId["loop/inner"])!;
    expect(inner).toMatchObject({ scope: ["loop", "inner"], collapsed: false, inside: 2 });
    expect(inner.width).toBe(300 + 240 + FRAME.pad); // noop at x 300, unmeasured width 240
    const outer = frameOf(byId.loop)!;
    expect(outer.width).toBe(Math.max(320 + 240, 30 + (inner.width as number)) + FRAME.pad);
    expect(outer.height).toBe(200 + (inner.height as number) + FRAME.pad + FRAME.room);
    expect(byId.loop.style).toEqual({ width: outer.width, height: outer.height });
  });

  it("draws a collapsed group as a card without its body", () => {
    const { nodes, edges } = documentToFramedCanvas(loopDocument(), compositeCatalog, {}, { collapsed: new Set(["loop"]) });
    expect(nodes.map((node) => node.id)).toEqual(["start", "loop", "done"]);
    expect(frameOf(nodes[1])).toEqual({ scope: ["loop"], collapsed: true, inside: 3, problemsInside: 0 });
    expect(nodes[1].style).toBeUndefined();
    expect(edges.map((edge) => edge.id)).toEqual(["start.main->loop", "loop.main->done"]);
  });

  it("draws a body's edges between scoped ids, with ids that say their scope", () => {
    const { edges } = documentToFramedCanvas(loopDocument(), compositeCatalog);
    expect(edges.map((edge) => [edge.id, edge.source, edge.target])).toEqual([
      ["@loop/inner|start.main->noop", "loop/inner/start", "loop/inner/noop"],
      ["@loop|start.main->double", "loop/start", "loop/double"],
      ["@loop|double.main->inner", "loop/double", "loop/inner"],
      ["start.main->loop", "start", "loop"],
      ["loop.main->done", "loop", "done"],
    ]);
    expect(splitScopedEdgeId("@loop/inner|start.main->noop")).toEqual({ scope: ["loop", "inner"], id: "start.main->noop" });
    expect(splitScopedEdgeId("a.x|y->b")).toEqual({ scope: [], id: "a.x|y->b" });
  });

  it("shows a body's problems on its inner node, not on an outer node with the same id, and counts them on the frame", () => {
    const problems: Problem[] = [
      { code: "invalid_params", message: "start is wrong inside", node_id: "start", edge: null, path: "nodes[1].params.graph.nodes[0].params.vars" },
      { code: "invalid_params", message: "deep", node_id: "noop", edge: null, path: "nodes[1].params.graph.nodes[2].params.graph.nodes[1].params" },
    ];
    const { nodes } = documentToFramedCanvas(loopDocument(), compositeCatalog, { problems });
    const byId = Object.fromEntries(nodes.map((node) => [node.id, node]));
    expect(byId.start.data.problems).toEqual([]);
    expect(byId["loop/start"].data.problems.map((problem) => problem.message)).toEqual(["start is wrong inside"]);
    expect(byId["loop/inner/noop"].data.problems.map((problem) => problem.path)).toEqual(["nodes[1].params"]);
    expect(frameOf(byId.loop)?.problemsInside).toBe(2);
    expect(frameOf(byId["loop/inner"])?.problemsInside).toBe(1);
  });

  it("marks selected inner nodes and edges by their scoped ids", () => {
    const { nodes, edges } = documentToFramedCanvas(loopDocument(), compositeCatalog, {
      selectedNodes: new Set(["loop/double"]), selectedEdges: new Set(["@loop|start.main->double"]),
    });
    expect(nodes.filter((node) => node.selected).map((node) => node.id)).toEqual(["loop/double"]);
    expect(edges.filter((edge) => edge.selected).map((edge) => edge.id)).toEqual(["@loop|start.main->double"]);
  });

  it("is the plain canvas for a document without bodies", () => {
    const doc = exampleDocument();
    expect(documentToFramedCanvas(doc, compositeCatalog)).toEqual(documentToCanvas(doc, compositeCatalog));
  });

  it("keeps unchanged items' identity between conversions with a cache", () => {
    const cache = createFramedCache();
    const doc = loopDocument();
    const first = documentToFramedCanvas(doc, compositeCatalog, {}, {}, cache);
    const second = documentToFramedCanvas(doc, compositeCatalog, {}, {}, cache);
    second.nodes.forEach((node, index) => expect(node).toBe(first.nodes[index]));
    second.edges.forEach((edge, index) => expect(edge).toBe(first.edges[index]));
  });
});

describe("framedCanvasToDocument", () => {
  it("gives back the same document when nothing moved (open or collapsed)", () => {
    const doc = loopDocument();
    for (const collapsed of [new Set<string>(), new Set(["loop"]), new Set(["loop/inner"])]) {
      const { nodes, edges } = documentToFramedCanvas(doc, compositeCatalog, {}, { collapsed });
      expect(framedCanvasToDocument(doc, nodes, edges)).toBe(doc);
    }
  });

  it("writes a move inside a body into that body, relative to its frame", () => {
    const doc = loopDocument();
    const { nodes, edges } = documentToFramedCanvas(doc, compositeCatalog);
    const moved = applyNodeChanges([{ type: "position", id: "loop/inner/noop", position: { x: 410, y: 90 } }], nodes);
    const next = framedCanvasToDocument(doc, moved, edges);
    expect(nodeAt(next, "loop/inner/noop")?.position).toEqual([410, 90]);
    expect(next.nodes[0]).toBe(doc.nodes[0]);
    expect(graphAt(next, ["loop"])?.nodes[1]).toBe(graphAt(doc, ["loop"])?.nodes[1]);
    expect(JSON.stringify({ ...next, nodes: [] })).toBe(JSON.stringify({ ...doc, nodes: [] }));
  });

  it("writes a move of a frame and of an outer node at the top level, bodies untouched", () => {
    const doc = loopDocument();
    const { nodes, edges } = documentToFramedCanvas(doc, compositeCatalog);
    const moved = applyNodeChanges([{ type: "position", id: "loop", position: { x: 340, y: 60 } }, { type: "position", id: "start", position: { x: 10, y: 10 } }], nodes);
    const next = framedCanvasToDocument(doc, moved, edges);
    expect(nodeAt(next, "loop")?.position).toEqual([340, 60]);
    expect(nodeAt(next, "start")?.position).toEqual([10, 10]);
    expect(nodeAt(next, "loop/start")?.position).toEqual([30, 70]);
    expect(graphAt(next, ["loop"])).toBe(graphAt(doc, ["loop"]));
  });
});

describe("selections across bodies", () => {
  it("remove nodes and edges each in its own body", () => {
    const doc = loopDocument();
    const next = removeSelection(doc, ["loop/inner/noop", "done"], ["@loop|start.main->double"]);
    expect(next.nodes.map((node) => node.id)).toEqual(["start", "loop"]);
    expect(next.edges).toEqual([{ from: "start", to: "loop" }]);
    expect(graphAt(next, ["loop"])?.edges).toEqual([{ from: "double", to: "inner" }]);
    expect(graphAt(next, ["loop", "inner"])).toEqual({ nodes: [{ id: "start", type: "trigger.group", position: [30, 70] }], edges: [] });
  });

  it("remove a group with its body even when an inner node is selected too", () => {
    const next = removeSelection(loopDocument(), ["loop", "loop/double"], []);
    expect(next.nodes.map((node) => node.id)).toEqual(["start", "done"]);
  });

  it("copy from one body and paste into another with fresh ids", () => {
    const doc = loopDocument();
    expect(copySelection(doc, ["start", "loop/double"])).toBeNull();
    const copied = copySelection(doc, ["loop/double"])!;
    expect(copied.scope).toEqual(["loop"]);
    const pasted = pasteInto(doc, ["loop"], copied.payload, [40, 40]);
    expect(pasted.ids).toEqual(["loop/double_2"]);
    expect(nodeAt(pasted.doc, "loop/double_2")?.position).toEqual([360, 110]);
  });
});
