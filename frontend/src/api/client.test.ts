import { describe, expect, it } from "vitest";
import type { Execution } from "./types";
import { lastRunByWorkflow } from "./client";

describe("lastRunByWorkflow", () => {
  it("keeps the newest execution of each workflow", () => {
    const run = (id: string, workflow: string | null) => ({ id, workflow, status: "succeeded", created_at: id }) as unknown as Execution;
    const last = lastRunByWorkflow([run("3", "a"), run("2", "b"), run("1", "a"), run("0", null)]);
    expect([...last].map(([workflow, execution]) => [workflow, execution.id])).toEqual([["a", "3"], ["b", "2"]]);
  });
});
