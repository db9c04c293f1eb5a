import { describe, expect, it } from "vitest";
import { expressionAt } from "./expressions";
import { insertSuggestion, samplePaths, withRunPaths } from "./samples";

describe("suggestions from the last run", () => {
  it("walks an output: object keys, a list's first item, with short samples", () => {
    const paths = samplePaths({ status: 200, body: { users: [{ name: "Ada" }], "odd key": 1 } }, "nodes.fetch.output");
    expect(paths.map((item) => item.path)).toEqual([
      "nodes.fetch.output.status", "nodes.fetch.output.body", "nodes.fetch.output.body.users",
      "nodes.fetch.output.body.users.0", "nodes.fetch.output.body.users.0.name",
    ]);
    expect(paths.find((item) => item.path.endsWith(".name"))?.sample).toBe('"Ada"');
  });

  it("adds the run's paths only under what the static list offers (upstream nodes)", () => {
    const { paths, samples } = withRunPaths(["input", "nodes.fetch.output", "nodes.fetch.output.status"], {
      input: { email: "a@b.c" },
      outputs: { fetch: { status: 200, body: { id: 7 } }, later: { secret: 1 } },
    });
    expect(paths).toEqual(["input", "input.email", "nodes.fetch.output", "nodes.fetch.output.body", "nodes.fetch.output.body.id", "nodes.fetch.output.status"]);
    expect(samples.get("nodes.fetch.output.body.id")).toBe("7");
    expect(paths.some((path) => path.includes("later"))).toBe(false);
  });

  it("inserts a choice inside the braces, spaced and closed, with the caret after the path", () => {
    const text = "{{";
    const open = expressionAt(text, 2)!;
    expect(insertSuggestion(text, open.start, 2, "input")).toEqual({ text: "{{ input }}", caret: 8 });
    const typed = "Hi {{ inp }}!";
    const inside = expressionAt(typed, 9)!;
    expect(insertSuggestion(typed, inside.start, 9, "input.name")).toEqual({ text: "Hi {{ input.name }}!", caret: 16 });
    const tight = "{{inp}}";
    expect(insertSuggestion(tight, expressionAt(tight, 5)!.start, 5, "input").text).toBe("{{ input }}");
  });
});
