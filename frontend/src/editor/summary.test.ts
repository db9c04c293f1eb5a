import { describe, expect, it } from "vitest";
import { nodeSummary } from "./summary";

describe("a Set node's summary on the canvas (issue 25, item 13 of the list)", () => {
  it("says which vars and output keys it writes", () => {
    expect(nodeSummary({ id: "s", type: "data.set", params: { vars: { score: 1, tier: "a" }, output: { ok: true } } }, undefined)).toBe("sets vars score, tier · output ok");
    expect(nodeSummary({ id: "s", type: "data.set", params: { scope: "global", vars: { counter: 1 } } }, undefined)).toBe("sets globals counter");
    expect(nodeSummary({ id: "s", type: "data.set" }, undefined)).toBe("sets nothing yet");
  });
});
