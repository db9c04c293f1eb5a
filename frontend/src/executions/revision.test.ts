import { describe, expect, it } from "vitest";
import { canonicalJson, ranRevisionLabel, sameContent } from "./revision";

describe("the revision an execution ran", () => {
  it("compares documents by content, not key order", () => {
    const ran = { name: "A", nodes: [{ id: "x", type: "t", position: [0, 0] }], edges: [] };
    const draft = { edges: [], nodes: [{ position: [0, 0], type: "t", id: "x" }], name: "A" };
    expect(sameContent(ran, draft)).toBe(true);
    expect(sameContent(ran, { ...draft, nodes: [{ id: "x", type: "t", position: [10, 0] }] })).toBe(false);
    expect(sameContent(ran, { ...draft, nodes: [...draft.nodes, { id: "y", type: "t" }] })).toBe(false);
    expect(canonicalJson({ b: 1, a: { d: [1, { f: null, e: "s" }], c: undefined } })).toBe('{"a":{"d":[1,{"e":"s","f":null}]},"b":1}');
  });

  it("names what ran", () => {
    expect(ranRevisionLabel({ version: 2, revision: null })).toBe("version 2");
    expect(ranRevisionLabel({ version: null, revision: 7 })).toBe("draft revision 7");
    expect(ranRevisionLabel({ version: null, revision: null })).toBe("an earlier document");
  });
});
