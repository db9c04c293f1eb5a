import { describe, expect, it } from "vitest";
import { exampleDocument } from "../test/fixtures";
import { compareVersions } from "./compare";
import type { WorkflowDocument } from "./types";

function renamed(doc: WorkflowDocument, id: string, name: string): WorkflowDocument {
  return { ...doc, nodes: doc.nodes.map((node) => (node.id === id ? { ...node, name } : node)) };
}

describe("compareVersions", () => {
  it("marks the node each side changed, by name", () => {
    const base = exampleDocument();
    const [first, second] = base.nodes;
    const mine = renamed(base, first.id, "Mine renamed");
    const theirs = renamed(base, second.id, "Theirs renamed");

    const { mine: m, theirs: t, differs } = compareVersions(mine, theirs);

    expect(differs).toBe(true);
    expect(m.nodes.find((node) => node.id === first.id)).toMatchObject({ label: "Mine renamed", change: "changed" });
    expect(t.nodes.find((node) => node.id === second.id)).toMatchObject({ label: "Theirs renamed", change: "changed" });
  });

  it("lists nodes only one side has as added on that side", () => {
    const base = exampleDocument();
    const extra = { id: "extra", type: "flow.noop", position: [0, 0] as [number, number] };
    const { mine, theirs } = compareVersions({ ...base, nodes: [...base.nodes, extra] }, base);

    expect(mine.nodes.at(-1)).toMatchObject({ id: "extra", label: "extra", change: "added" });
    expect(theirs.nodes.every((node) => node.change !== "added")).toBe(true);
  });

  it("does not count moved nodes as a difference", () => {
    const base = exampleDocument();
    const moved = { ...base, nodes: base.nodes.map((node) => ({ ...node, position: [999, 999] as [number, number] })) };

    const result = compareVersions(moved, base);

    expect(result.differs).toBe(false);
    expect(result.mine.nodes.every((node) => node.change === "same")).toBe(true);
  });
});
