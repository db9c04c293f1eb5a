import { describe, expect, it } from "vitest";
import { parseRoute, routeUrl } from "./routes";

const ID = "0b8e6a4e-7f1a-4b7e-9d55-1c2a3b4c5d6e";

describe("routes", () => {
  it("parses and builds every page's URL", () => {
    for (const route of [
      { name: "workflows" as const },
      { name: "editor" as const, workflowId: ID },
      { name: "execution" as const, workflowId: ID, executionId: ID },
      { name: "executions" as const },
      { name: "executions" as const, workflowId: ID },
      { name: "variables" as const },
    ]) {
      expect(parseRoute(routeUrl(route))).toEqual(route);
      expect(parseRoute(routeUrl(route, "/nf/"), "/nf/")).toEqual(route);
    }
  });

  it("answers not-found for anything else", () => {
    expect(parseRoute("/workflows/nope")).toEqual({ name: "not-found", path: "/workflows/nope" });
  });
});
