import { describe, expect, it } from "vitest";
import { exampleDocument } from "../test/fixtures";
import { nodeLabel, nodeName, readableMessage } from "./labels";

describe("how people read nodes and problems", () => {
  it("names a node by its name, its id when it has none", () => {
    const doc = exampleDocument();
    expect(nodeName(doc, "lookup")).toBe("Look up user");
    expect(nodeName(doc, "known")).toBe("known");
    expect(nodeLabel(doc, "lookup")).toBe("Look up user (lookup)");
    expect(nodeName(doc, "ghost")).toBe("ghost");
  });

  it("says problems without type prefixes and document paths", () => {
    const doc = exampleDocument();
    expect(readableMessage("http.request v1: nodes[1].params needs 'url'", doc)).toBe("Missing 'url'");
    expect(readableMessage("http.request v1: nodes[1].params.timeout_s must be at most 300, not 900", doc)).toBe("Timeout_s must be at most 300, not 900");
    expect(readableMessage("nodes[1].retry.max_attempts must be at least 1, not 0", doc)).toBe("Retry.max_attempts must be at least 1, not 0");
    expect(readableMessage("nodes[0] is not reachable from nodes[1]", doc)).toBe("Signup hook is not reachable from Look up user");
    expect(readableMessage("{{ nodes.done.output }} reads 'nodes.done', but 'done' is not upstream", doc)).toBe("{{ nodes.done.output }} reads 'nodes.done', but 'done' is not upstream");
  });
});
