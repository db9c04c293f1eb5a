import { describe, expect, it } from "vitest";
import { catalog } from "../test/fixtures";
import { nodePorts } from "./ports";

describe("ports", () => {
  it("follows the catalog, params and on_error", () => {
    expect(nodePorts({ id: "a", type: "logic.if" }, catalog.latest("logic.if")).out).toEqual(["true", "false"]);
    expect(nodePorts({ id: "a", type: "flow.wait", params: { seconds: 1 } }, catalog.latest("flow.wait")).out).toEqual(["main"]);
    expect(nodePorts({ id: "a", type: "flow.wait", params: { input: {} } }, catalog.latest("flow.wait")).out).toEqual(["main", "timeout"]);
    expect(nodePorts({ id: "a", type: "http.request", on_error: "route" }, catalog.latest("http.request")).out).toEqual(["main", "error"]);
    expect(nodePorts({ id: "a", type: "flow.terminal" }, catalog.latest("flow.terminal")).out).toEqual([]);
  });

  it("gives triggers no input and unknown types a main port", () => {
    expect(nodePorts({ id: "a", type: "trigger.manual" }, catalog.latest("trigger.manual")).in).toEqual([]);
    expect(nodePorts({ id: "a", type: "x.y" }, undefined)).toEqual({ in: ["main"], out: ["main"], unknownOut: [] });
  });

  it("lists ports edges use that the node lacks", () => {
    const switchNode = { id: "s", type: "logic.switch", params: { cases: [{ name: "a", condition: true }, { name: "default", condition: true }] } };
    expect(nodePorts(switchNode, catalog.latest("logic.switch"), ["a", "gone", "gone"])).toEqual({ in: ["main"], out: ["a", "default"], unknownOut: ["gone"] });
  });
});
