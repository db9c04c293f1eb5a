import { describe, expect, it } from "vitest";
import { catalog, exampleDocument } from "../test/fixtures";
import { availablePaths, expressionAt, hasExpression, insertPath, matchPaths } from "./expressions";

describe("expressions", () => {
  it("finds the open expression at the caret", () => {
    expect(expressionAt("a {{ inp", 8)).toEqual({ start: 5, prefix: "inp" });
    expect(expressionAt("a {{input.x}} b", 15)).toBeNull();
    expect(expressionAt("{{ x | upper", 12)).toBeNull();
    expect(expressionAt("no braces", 3)).toBeNull();
  });

  it("offers input, vars, execution and upstream nodes only", () => {
    const paths = availablePaths(exampleDocument(), "known", catalog);
    expect(paths).toContain("input.email");
    expect(paths).toContain("nodes.lookup.output");
    expect(paths).toContain("nodes.lookup.output.status");
    expect(paths).toContain("nodes.start.output.body");
    expect(paths).toContain("execution.id");
    expect(paths.some((path) => path.startsWith("nodes.score"))).toBe(false);
    expect(paths.some((path) => path.startsWith("nodes.known"))).toBe(false);
  });

  it("matches prefixes first, then substrings", () => {
    expect(matchPaths(["input", "nodes.a.output", "vars.inputs"], "inp")).toEqual(["input", "vars.inputs"]);
  });

  it("inserts a path and closes the expression", () => {
    const text = "https://x/{{ nod";
    const open = expressionAt(text, text.length)!;
    expect(insertPath(text, open, text.length, "nodes.a.output")).toEqual({ text: "https://x/{{ nodes.a.output }}", caret: 30 });
    const closed = "{{ no }} tail";
    expect(insertPath(closed, expressionAt(closed, 5)!, 5, "nodes.b").text).toBe("{{ nodes.b }} tail");
  });

  it("tells text with expressions", () => {
    expect(hasExpression("a {{ b }}")).toBe(true);
    expect(hasExpression("a { b }")).toBe(false);
  });
});
