import { describe, expect, it } from "vitest";
import { detectFormat, isUntranslated, reportSummary } from "./imports";

describe("detectFormat", () => {
  it("tells the three formats apart", () => {
    expect(detectFormat({ api_version: "nodeflow/v1", nodes: [], edges: [] })).toBe("nodeflow");
    expect(detectFormat({ name: "n8n", nodes: [], connections: {} })).toBe("n8n");
    expect(detectFormat({ api_version: "1.0", entry: "a", nodes: [{ id: "a", type: "stage" }] })).toBe("stageflow");
  });

  it("answers null for anything else", () => {
    expect(detectFormat({ hello: "world" })).toBeNull();
    expect(detectFormat([1, 2])).toBeNull();
    expect(detectFormat("text")).toBeNull();
    expect(detectFormat({ entry: "a", nodes: [{ id: "a", type: "other" }] })).toBeNull();
  });
});

describe("isUntranslated", () => {
  it("recognises the importer's placeholders only", () => {
    expect(isUntranslated({ type: "flow.noop", description: "Untranslated n8n node (x@1): no translation" })).toBe(true);
    expect(isUntranslated({ type: "flow.noop", description: "a junction" })).toBe(false);
    expect(isUntranslated({ type: "flow.noop" })).toBe(false);
    expect(isUntranslated({ type: "http.request", description: "Untranslated " })).toBe(false);
  });
});

describe("reportSummary", () => {
  it("counts what the report holds", () => {
    const report = { translated: [{}, {}], untranslated: [{}], warnings: ["w"] };
    expect(reportSummary(report)).toBe("2 node(s) translated, 1 not translated, 1 warning(s)");
    expect(reportSummary({ translated: [], untranslated: [], warnings: [] })).toBe("0 node(s) translated");
  });
});
