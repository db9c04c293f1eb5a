/** Test data for groups and loops: the composite node types as the server declares them, and a document with bodies. */
import type { NodeTypeEntry } from "../api/types";
import { Catalog } from "../catalog/catalog";
import type { WorkflowDocument } from "../document/types";
import entries from "./catalog.json";

const GRAPH = { type: "object", properties: { nodes: { type: "array" }, edges: { type: "array" } }, required: ["nodes", "edges"] };

function entry(type: string, title: string, category: string, properties: Record<string, unknown>, extra: Partial<NodeTypeEntry> = {}): NodeTypeEntry {
  return {
    type, version: 1, latest: true, title, category, description: `${title}.`,
    params_schema: { type: "object", properties, additionalProperties: false },
    defaults: {}, ports: { in: category === "trigger" ? [] : ["main"], out: ["main"], dynamic: false },
    trigger: category === "trigger", queue: "default", raw_params: [], jsonlogic_params: [],
    ...extra,
  } as NodeTypeEntry;
}

export const compositeEntries: NodeTypeEntry[] = [
  entry("trigger.group", "Group start", "trigger", { vars: { type: "object" } }),
  entry("flow.group", "Group", "flow", { graph: GRAPH, input: {} }, { raw_params: ["graph"] }),
  entry("flow.foreach", "For each", "flow", {
    items: {}, graph: GRAPH, concurrency: { type: "integer", default: 4 }, batch_size: { type: "integer", default: 1 },
    on_item_error: { type: "string", enum: ["fail", "continue", "collect"], default: "fail" },
  }, { raw_params: ["graph"], defaults: { concurrency: 4, batch_size: 1, on_item_error: "fail" } }),
  entry("flow.subworkflow", "Sub-workflow", "flow", {
    workflow: { type: "string", format: "uuid" }, version: { oneOf: [{ type: "string", enum: ["published", "draft"] }, { type: "integer", minimum: 1 }] },
    input: {}, wait: { type: "boolean", default: true },
  }),
];

export const compositeCatalog = new Catalog([...(entries as NodeTypeEntry[]), ...compositeEntries]);

/** A loop over a list whose body holds a group: three levels of graphs, an inner id equal to an outer one. */
export function loopDocument(): WorkflowDocument {
  return {
    api_version: "nodeflow/v1",
    name: "Loop",
    nodes: [
      { id: "start", type: "trigger.manual", position: [0, 100] },
      {
        id: "loop", type: "flow.foreach", position: [300, 40], params: {
          items: "{{ input.items }}", concurrency: 2,
          graph: {
            nodes: [
              { id: "start", type: "trigger.group", position: [30, 70] },
              { id: "double", type: "code.python", position: [320, 70], params: { code: "def main(ctx):\n    return ctx['input']['item'] * 2\n" } },
              {
                id: "inner", type: "flow.group", position: [30, 200], params: {
                  graph: { nodes: [{ id: "start", type: "trigger.group", position: [30, 70] }, { id: "noop", type: "flow.noop", position: [300, 70] }], edges: [{ from: "start", to: "noop" }] },
                },
              },
            ],
            edges: [{ from: "start", to: "double" }, { from: "double", to: "inner" }],
          },
        },
      },
      { id: "done", type: "flow.terminal", position: [1200, 100], params: { result: "{{ nodes.loop.output }}" } },
    ],
    edges: [{ from: "start", to: "loop" }, { from: "loop", to: "done" }],
  } as WorkflowDocument;
}
