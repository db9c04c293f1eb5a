import { describe, expect, it } from "vitest";
import type { Problem } from "../document/types";
import { messageLookup, paramPath, shortMessage } from "./problems";

const problem = (path: string | null, message = "m"): Problem => ({ code: "invalid_params", message, node_id: "h", edge: null, path });

describe("problems in forms", () => {
  it("finds the param a problem is about", () => {
    expect(paramPath(problem("nodes[1].params.timeout_s"))).toBe("timeout_s");
    expect(paramPath(problem("nodes[2].params.cases[0].name"))).toBe("cases.0.name");
    expect(paramPath(problem("nodes[1].params", "http.request v1: nodes[1].params needs 'url'"))).toBe("url");
    expect(paramPath(problem("nodes[1]"))).toBeNull();
    expect(paramPath(problem(null))).toBeNull();
  });

  it("gives a field its messages, and a leaf field those about its insides", () => {
    const lookup = messageLookup([problem("nodes[1].params.headers.a", "bad header"), problem("nodes[1].params.url", "bad url")]);
    expect(lookup("url", false)).toEqual(["bad url"]);
    expect(lookup("headers", false)).toBeUndefined();
    expect(lookup("headers", true)).toEqual(["bad header"]);
  });
});

describe("short messages", () => {
  it("drops the location prefix the canvas makes plain", () => {
    expect(shortMessage(problem("nodes[1].params", "http.request v1: nodes[1].params needs 'url'"))).toBe("Needs 'url'");
    expect(shortMessage(problem("x", "http.request v1: nodes[1].params.timeout_s must be a number, not a string"))).toBe("Timeout_s must be a number, not a string");
    expect(shortMessage(problem(null, "node 'x' is not reachable from a trigger"))).toBe("node 'x' is not reachable from a trigger");
  });
});
