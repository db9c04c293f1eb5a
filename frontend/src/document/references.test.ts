import { describe, expect, it } from "vitest";
import { exampleDocument } from "../test/fixtures";
import { renameNodeId } from "./edit";
import { countReferences, renameInText, renameReferences } from "./references";
import type { WorkflowDocument } from "./types";

function params(doc: WorkflowDocument, id: string) {
  return doc.nodes.find((node) => node.id === id)?.params;
}

describe("renaming a node's references", () => {
  it("rewrites expressions, leaving longer ids and plain text alone", () => {
    expect(renameInText("{{ nodes.lookup.output.body }}", "lookup", "find")).toBe("{{ nodes.find.output.body }}");
    expect(renameInText("a {{nodes.lookup}} b {{ nodes['lookup'].output }}", "lookup", "find")).toBe("a {{nodes.find}} b {{ nodes['find'].output }}");
    expect(renameInText("{{ nodes.lookup_2.output }}", "lookup", "find")).toBe("{{ nodes.lookup_2.output }}");
    expect(renameInText("nodes.lookup outside braces", "lookup", "find")).toBe("nodes.lookup outside braces");
  });

  it("rewrites code reading ctx['nodes']['old'] and .get('old')", () => {
    const code = `def run(ctx):\n    a = ctx["nodes"]["lookup"]["output"]\n    b = ctx['nodes'].get('lookup')\n    c = ctx["nodes"]["lookup2"]\n`;
    expect(renameInText(code, "lookup", "find")).toBe(`def run(ctx):\n    a = ctx["nodes"]["find"]["output"]\n    b = ctx['nodes'].get('find')\n    c = ctx["nodes"]["lookup2"]\n`);
  });

  it("rewrites JsonLogic vars, with or without a default", () => {
    const doc = exampleDocument();
    doc.nodes[2].params = { condition: { and: [{ ">": [{ var: "nodes.lookup.output.body.count" }, 0] }, { var: ["nodes.lookup", null] }, { var: "nodes.lookupx" }] } };

    const renamed = renameReferences(doc, "lookup", "find");

    expect(params(renamed, "known")).toEqual({ condition: { and: [{ ">": [{ var: "nodes.find.output.body.count" }, 0] }, { var: ["nodes.find", null] }, { var: "nodes.lookupx" }] } });
  });

  it("is part of renaming a node id, along with its edges", () => {
    const doc = exampleDocument();
    doc.nodes[3].params = { code: `def run(ctx):\n    return ctx["nodes"]["lookup"]["output"]\n` };

    const renamed = renameNodeId(doc, "lookup", "find")!;

    expect(renamed.edges?.filter((edge) => edge.from === "find" || edge.to === "find")).toHaveLength(2);
    expect(JSON.stringify(params(renamed, "known"))).toContain("nodes.find.output.body.count");
    expect(params(renamed, "score")?.code).toContain(`ctx["nodes"]["find"]`);
    expect(JSON.stringify(renamed)).not.toMatch(/nodes\.lookup|"lookup"/);
  });

  it("counts the places that name a node, and leaves a document without any as it was", () => {
    const doc = exampleDocument();
    expect(countReferences(doc, "lookup")).toBe(1);
    expect(countReferences(doc, "done")).toBe(0);
    expect(renameReferences(doc, "done", "end")).toBe(doc);
  });
});
