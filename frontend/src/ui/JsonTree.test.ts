import { describe, expect, it } from "vitest";
import { childPath, matches } from "./JsonTree";

describe("JSON tree", () => {
  it("builds paths that expressions can use", () => {
    expect(childPath("output", "items")).toBe("output.items");
    expect(childPath("output.items", 0)).toBe("output.items[0]");
    expect(childPath("output", "content-type")).toBe('output["content-type"]');
    expect(childPath("", "x")).toBe("x");
  });
  it("searches keys and values at any depth", () => {
    const value = { a: { b: [1, { name: "Ada" }] } };
    expect(matches(value, "ada")).toBe(true);
    expect(matches(value, "name")).toBe(true);
    expect(matches(value, "grace")).toBe(false);
  });
});
