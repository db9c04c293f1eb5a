/** Shared test data: the server's node-type catalog (tests/…/catalog.json) and documents. */
import type { NodeTypeEntry } from "../api/types";
import { Catalog } from "../catalog/catalog";
import type { WorkflowDocument } from "../document/types";
import entries from "./catalog.json";

export const catalog = new Catalog(entries as NodeTypeEntry[]);

/** FORMAT.md's example document. */
export function exampleDocument(): WorkflowDocument {
  return {
    api_version: "nodeflow/v1",
    name: "Enrich new signups",
    description: "optional",
    settings: { timeout_s: 3600, merge: "error", max_parallel: 32 },
    input_schema: { type: "object", required: ["email"], properties: { email: { type: "string" } } },
    nodes: [
      { id: "start", type: "trigger.webhook", name: "Signup hook", position: [80, 200], params: { auth: "none", response: "async" } },
      {
        id: "lookup", type: "http.request", version: 1, name: "Look up user", position: [320, 200],
        params: { method: "GET", url: "https://api.example.com/users?email={{ input.body.email }}", timeout_s: 10 },
        retry: { max_attempts: 3, backoff_s: 1, max_backoff_s: 30, jitter: true }, timeout_s: 15, on_error: "route",
      },
      { id: "known", type: "logic.if", position: [560, 200], params: { condition: { ">": [{ var: "nodes.lookup.output.body.count" }, 0] } } },
      { id: "score", type: "code.python", position: [800, 120], params: { code: "def run(ctx):\n    return {}" } },
      { id: "done", type: "flow.terminal", position: [1040, 200], params: { result: { score: "{{ vars.score }}" } } },
    ],
    edges: [
      { from: "start", to: "lookup" },
      { from: "lookup", to: "known" },
      { from: "known", port: "true", to: "score" },
      { from: "known", port: "false", to: "done" },
      { from: "score", to: "done" },
    ],
  };
}

/** A chain of `count` nodes: a manual trigger and HTTP requests, laid out on a grid. */
export function largeDocument(count: number): WorkflowDocument {
  const nodes: WorkflowDocument["nodes"] = [{ id: "start", type: "trigger.manual", version: 1, position: [0, 0] }];
  const edges: NonNullable<WorkflowDocument["edges"]> = [];
  for (let i = 1; i < count; i++) {
    nodes.push({ id: `n${i}`, type: "http.request", version: 1, position: [(i % 20) * 260, Math.floor(i / 20) * 140], params: { url: `https://example.com/${i}` } });
    edges.push({ from: i === 1 ? "start" : `n${i - 1}`, to: `n${i}` });
  }
  return { api_version: "nodeflow/v1", name: "Large", nodes, edges };
}
