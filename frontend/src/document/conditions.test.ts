import { describe, expect, it } from "vitest";
import { parseCondition, readValue, showValue, toJsonLogic, type Group } from "./conditions";

const roundTrips = [
  { ">": [{ var: "nodes.lookup.output.body.count" }, 0] },
  { "==": [{ var: "input.kind" }, "signup"] },
  { and: [{ ">=": [{ var: "nodes.fetch.output.status" }, 200] }, { "<": [{ var: "nodes.fetch.output.status" }, 300] }] },
  { or: [{ "!=": [{ var: "input.plan" }, null] }, { and: [{ in: ["vip", { var: "input.tags" }] }, { "!!": { var: "input.email" } }] }] },
  { "!": { var: "vars.done" } },
  { "==": [{ var: "input.flag" }, true] },
];

describe("condition builder ↔ JsonLogic", () => {
  it.each(roundTrips.map((logic) => [JSON.stringify(logic), logic]))("round-trips %s unchanged", (_name, logic) => {
    const group = parseCondition(logic);
    expect(group).not.toBeNull();
    expect(toJsonLogic(group!)).toEqual(logic);
  });

  it("reads rules in and/or groups", () => {
    expect(parseCondition(roundTrips[3])).toEqual({
      kind: "group", join: "or", items: [
        { kind: "rule", field: "input.plan", operator: "!=", value: null },
        { kind: "group", join: "and", items: [
          { kind: "rule", field: "input.tags", operator: "contains", value: "vip" },
          { kind: "rule", field: "input.email", operator: "not_empty", value: null },
        ] },
      ],
    });
  });

  it.each([
    [{ var: ["input.x", 1] }],
    [{ "==": [{ var: "input.a" }, { var: "input.b" }] }],
    [{ if: [true, 1, 2] }],
    [{ "==": [{ var: "input.a" }, [1, 2]] }],
    [{ and: [{ "==": [{ var: "a" }, 1] }, { "+": [1, 2] }] }],
    [true],
  ])("leaves what it cannot show to the raw tab: %j", (logic) => {
    expect(parseCondition(logic)).toBeNull();
  });

  it("starts an unset condition empty, and an empty group is no condition", () => {
    const empty = parseCondition(undefined)!;
    expect(empty).toEqual({ kind: "group", join: "and", items: [] });
    expect(toJsonLogic(empty)).toBeUndefined();
    const built: Group = { kind: "group", join: "and", items: [{ kind: "rule", field: "input.n", operator: ">", value: 3 }] };
    expect(toJsonLogic(built)).toEqual({ ">": [{ var: "input.n" }, 3] });
  });

  it("reads values as JSON scalars, quoting strings that would read otherwise", () => {
    expect(readValue("42")).toBe(42);
    expect(readValue("true")).toBe(true);
    expect(readValue('"42"')).toBe("42");
    expect(readValue("signup")).toBe("signup");
    expect(showValue("42")).toBe('"42"');
    expect(showValue("signup")).toBe("signup");
    expect(showValue(7)).toBe("7");
  });
});
