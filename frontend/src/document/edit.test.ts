import { describe, expect, it } from "vitest";
import { catalog, exampleDocument } from "../test/fixtures";
import { addNode, connect, followRenamedPort, copyNodes, moveNodes, parseClipboard, pasteNodes, removeElements, renameNodeId, renamePort, setParam } from "./edit";
import { ancestors, freePosition, freshNodeId } from "./graph";
import { emptyDocument } from "./types";

describe("document edits", () => {
  it("adds nodes with readable unique ids, names, the latest version and required defaults", () => {
    let doc = emptyDocument("W");
    const http = catalog.latest("http.request")!;
    let added = addNode(doc, http, [100.4, 50.6]);
    doc = added.doc;
    expect(added.id).toBe("http_request");
    added = addNode(doc, http, [0, 0]);
    doc = added.doc;
    expect(added.id).toBe("http_request_2");
    expect(doc.nodes[0]).toEqual({ id: "http_request", type: "http.request", version: 1, name: "HTTP request", position: [100, 51], params: {} });
    expect(doc.nodes[1].name).toBe("HTTP request 2");
    const code = addNode(doc, catalog.latest("code.python")!, [0, 0]);
    expect(code.doc.nodes[2].params).toEqual({ code: "def run(ctx):\n    return {}\n" });
  });

  it("connects ports once", () => {
    const doc = connect(exampleDocument(), "known", "true", "done");
    expect(doc.edges!.at(-1)).toEqual({ from: "known", to: "done", port: "true" });
    expect(connect(doc, "known", "true", "done")).toBe(doc);
    expect(connect(doc, "start", "main", "done").edges!.at(-1)).toEqual({ from: "start", to: "done" });
  });

  it("removes nodes with their edges, and chosen edges", () => {
    const doc = removeElements(exampleDocument(), new Set(["score"]), (edge) => edge.from === "known" && edge.port === "false");
    expect(doc.nodes.map((node) => node.id)).toEqual(["start", "lookup", "known", "done"]);
    expect(doc.edges).toEqual([{ from: "start", to: "lookup" }, { from: "lookup", to: "known" }]);
  });

  it("moves nodes to whole-pixel positions and leaves the document alone when nothing moved", () => {
    const doc = exampleDocument();
    expect(moveNodes(doc, new Map([["start", [80, 200]]]))).toBe(doc);
    expect(moveNodes(doc, new Map([["start", [10.2, 20.7]]])).nodes[0].position).toEqual([10, 21]);
  });

  it("sets and removes params", () => {
    let doc = setParam(exampleDocument(), "lookup", "url", "https://x.test");
    expect(doc.nodes[1].params!.url).toBe("https://x.test");
    doc = setParam(doc, "lookup", "timeout_s", undefined);
    expect("timeout_s" in doc.nodes[1].params!).toBe(false);
  });

  it("renames a node id along its edges, refusing a taken id", () => {
    const doc = renameNodeId(exampleDocument(), "known", "is_known")!;
    expect(doc.nodes[2].id).toBe("is_known");
    expect(doc.edges!.filter((edge) => edge.from === "is_known" || edge.to === "is_known")).toHaveLength(3);
    expect(renameNodeId(exampleDocument(), "known", "done")).toBeNull();
  });

  it("renames a port along its edges", () => {
    const doc = renamePort(exampleDocument(), "known", "true", "yes");
    expect(doc.edges![2]).toEqual({ from: "known", port: "yes", to: "score" });
  });

  it("moves connections to a renamed port, even through an empty name", () => {
    const doc = connect(exampleDocument(), "known", "true", "done");
    expect(followRenamedPort(doc, "known", ["true", "false"], ["yes", "false"]).edges!.filter((e) => e.from === "known").map((e) => e.port)).toEqual(["yes", "false", "yes"]);
    // "true" cleared (no port), then typed as "yes": the connections wait on the lost port, then follow.
    const cleared = followRenamedPort(doc, "known", ["true", "false"], ["false"]);
    expect(cleared).toBe(doc);
    expect(followRenamedPort(cleared, "known", ["false"], ["yes", "false"]).edges![2].port).toBe("yes");
    expect(followRenamedPort(doc, "known", ["true", "false"], ["a", "b"])).toBe(doc); // ambiguous: left alone
  });

  it("copies and pastes nodes with fresh ids and their inner edges", () => {
    const doc = exampleDocument();
    const payload = parseClipboard(JSON.stringify(copyNodes(doc, new Set(["known", "score"]))))!;
    expect(payload.edges).toEqual([{ from: "known", port: "true", to: "score" }]);
    const pasted = pasteNodes(doc, payload, [40, 40]);
    expect(pasted.ids).toEqual(["known_2", "score_2"]);
    expect(pasted.doc.nodes.at(-1)!.position).toEqual([840, 160]);
    expect(pasted.doc.edges!.at(-1)).toEqual({ from: "known_2", port: "true", to: "score_2" });
    expect(parseClipboard("hello")).toBeNull();
  });
});

describe("graph", () => {
  it("lists ancestors nearest first", () => {
    expect(ancestors(exampleDocument(), "done")).toEqual(["known", "score", "lookup", "start"]);
    expect(ancestors(exampleDocument(), "start")).toEqual([]);
  });

  it("finds a free spot for a new node", () => {
    expect(freePosition(exampleDocument(), [0, 0])).toEqual([0, 0]);
    expect(freePosition(exampleDocument(), [85, 195])).toEqual([125, 235]);
  });

  it("makes ids that match the id pattern", () => {
    expect(freshNodeId("acme.Score-v2", new Set())).toBe("acme_score_v2");
    expect(freshNodeId("9lives", new Set())).toBe("node_9lives");
  });
});
