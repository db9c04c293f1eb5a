import { describe, expect, it } from "vitest";
import { availablePaths } from "../document/expressions";
import type { WorkflowDocument } from "../document/types";
import { changeAuthor, globalPaths, keyProblem, matchingKeys, parseValue, preview, valueText } from "./values";

describe("variable values", () => {
  it("parses JSON and says why text is not JSON yet", () => {
    expect(parseValue('{"a": [1, 2]}')).toEqual({ ok: true, value: { a: [1, 2] } });
    expect(parseValue("null")).toEqual({ ok: true, value: null });
    expect(parseValue("  ")).toMatchObject({ ok: false, message: expect.stringContaining("null for nothing") });
    expect(parseValue("hello")).toMatchObject({ ok: false });
    expect(parseValue("{")).toMatchObject({ ok: false });
  });

  it("checks keys by the server's rule", () => {
    expect(keyProblem("order_1")).toBeNull();
    expect(keyProblem("_x")).toBeNull();
    expect(keyProblem("")).toBe("Enter a key.");
    expect(keyProblem("1st")).toContain("Letters, digits and _");
    expect(keyProblem("a-b")).not.toBeNull();
    expect(keyProblem("a".repeat(129))).not.toBeNull();
  });

  it("shows values indented and previews them cut", () => {
    expect(valueText({ a: 1 })).toBe('{\n  "a": 1\n}');
    expect(preview("x".repeat(100), 10)).toBe('"xxxxxxxx…');
    expect(preview(null)).toBe("null");
  });

  it("names who made a change", () => {
    expect(changeAuthor({ user: "alice", execution_id: null, node_id: "" })).toBe("alice (API or editor)");
    expect(changeAuthor({ user: null, execution_id: "0123456789abcdef", node_id: "count" })).toBe("node count of execution 01234567");
  });
});

describe("globals in the {{ suggestions", () => {
  const doc = {
    api_version: "nodeflow/v1",
    name: "g",
    nodes: [
      { id: "start", type: "trigger.variable", params: { key: "price" } },
      { id: "save", type: "data.set", params: { scope: "global", op: "incr", vars: { hits: 1 } } },
      { id: "local", type: "data.set", params: { vars: { mine: 1 } } },
      { id: "end", type: "flow.terminal" },
    ],
    edges: [{ from: "start", to: "save" }, { from: "save", to: "local" }, { from: "local", to: "end" }],
  } as unknown as WorkflowDocument;

  it("lists the owner's keys and those the document writes globally, sorted", () => {
    expect(globalPaths(["price", "bad-key"], doc)).toEqual(["globals", "globals.hits", "globals.price"]);
    expect(globalPaths([])).toEqual(["globals"]);
  });

  it("offers them beside the other paths, and a global Set's keys are not vars", () => {
    const paths = availablePaths(doc, "end", undefined, globalPaths(["price"], doc));
    expect(paths).toContain("globals.price");
    expect(paths).toContain("globals.hits");
    expect(paths).toContain("vars.mine");
    expect(paths).not.toContain("vars.hits");
    expect(paths).toContain("nodes.start.output.new");
  });
});

describe("the variable trigger's panel", () => {
  it("matches a key, a prefix or every key", () => {
    const keys = ["order_1", "order_2", "orders", "stock"];
    expect(matchingKeys("order_*", keys)).toEqual(["order_1", "order_2"]);
    expect(matchingKeys("stock", keys)).toEqual(["stock"]);
    expect(matchingKeys("*", keys)).toEqual(keys);
    expect(matchingKeys("", keys)).toEqual([]);
  });
});

describe("validation warnings", () => {
  it("are read when the answer has them, and none otherwise", async () => {
    const { warningsOf } = await import("./values");
    const warning = { code: "unknown_global_key", message: "reads globals.x", node_id: "end", edge: null, path: "nodes[1].params" };
    expect(warningsOf({ valid: true, errors: [], warnings: [warning] })).toEqual([warning]);
    expect(warningsOf({ valid: true, errors: [] })).toEqual([]);
  });
});
