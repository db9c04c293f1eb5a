import { describe, expect, it } from "vitest";
import { caseFromRun, failedNode, pinFor, pinsOf, testsOf, toggled, withPin, withTestCase, withoutPin, withoutTestCase } from "./debugging";
import type { WorkflowDocument } from "./types";

const doc = { api_version: "nodeflow/v1", name: "t", nodes: [], edges: [] } as unknown as WorkflowDocument;

describe("pins", () => {
  it("pins an output on main as itself and on another port in the port form", () => {
    expect(pinFor({ a: 1 }, ["main"])).toEqual({ a: 1 });
    expect(pinFor(null, ["false"])).toEqual({ port: "false", output: null });
    expect(pinFor(3, undefined)).toBe(3);
  });
  it("adds and removes pins, dropping the key once none is left", () => {
    const pinned = withPin(withPin(doc, "a", 1), "b", 2);
    expect(pinsOf(pinned)).toEqual({ a: 1, b: 2 });
    expect(pinsOf(withoutPin(pinned, "a"))).toEqual({ b: 2 });
    expect("pins" in withoutPin(withoutPin(pinned, "a"), "b")).toBe(false);
    expect(withoutPin(doc, "x")).toBe(doc);
    expect(pinsOf(doc)).toEqual({});
  });
});

describe("test cases", () => {
  it("makes a case from a run with a free name", () => {
    const taken = ["case 2"];
    expect(caseFromRun({ input: { n: 1 }, status: "succeeded", result: { ok: true } }, taken)).toEqual({
      name: "case 3", input: { n: 1 }, expect: { status: "succeeded", result: { ok: true } } });
    expect(caseFromRun({ status: "failed", result: null }, [])).toEqual({ name: "case 1", input: {}, expect: { status: "failed" } });
  });
  it("adds and removes cases", () => {
    const one = withTestCase(doc, { name: "a", expect: {} });
    const two = withTestCase(one, { name: "b", expect: {} });
    expect(testsOf(two).map((test) => test.name)).toEqual(["a", "b"]);
    expect(testsOf(withoutTestCase(two, "a")).map((test) => test.name)).toEqual(["b"]);
    expect("tests" in withoutTestCase(one, "a")).toBe(false);
  });
});

describe("rules", () => {
  it("toggles breakpoints", () => {
    expect(toggled(["a"], "b")).toEqual(["a", "b"]);
    expect(toggled(["a", "b"], "a")).toEqual(["b"]);
  });
  it("finds the first failed node", () => {
    expect(failedNode([{ node_id: "x", status: "failed", started_at: "2" }, { node_id: "y", status: "failed", started_at: "1" }, { node_id: "z", status: "completed" }])).toBe("y");
    expect(failedNode([{ node_id: "z", status: "completed" }])).toBeNull();
  });
});
