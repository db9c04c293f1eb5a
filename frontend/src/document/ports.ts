/** The ports of a node on the canvas, as the catalog declares them (FORMAT.md "Edges"). */
import type { NodeTypeEntry } from "../api/types";
import { ERROR_PORT, MAIN_PORT, isRecord, type DocNode } from "./types";

type Params = Record<string, unknown>;

/**
 * Output ports of catalog types whose ports depend on their params (`ports.dynamic`).
 * The catalog says which types are dynamic but not how; these mirror the server's
 * rules (nodes/logic.py `_switch_ports`, nodes/flow.py `_wait_ports`, nodes/composition.py). A dynamic type
 * not listed here shows its static `out` ports plus whatever ports its edges use.
 */
const DYNAMIC_PORTS: Record<string, (params: Params) => string[]> = {
  "logic.switch": (params) => {
    const names = (Array.isArray(params.cases) ? params.cases : [])
      .map((item) => (isRecord(item) ? item.name : undefined))
      .filter((name): name is string => typeof name === "string" && name !== "" && name !== "default" && name !== ERROR_PORT);
    return [...new Set(names), "default"];
  },
  "flow.wait": (params) => (params.input !== undefined ? [MAIN_PORT, "timeout"] : [MAIN_PORT]),
  // nodes/composition.py `_foreach_ports`: failed items go out of `errors` with on_item_error collect.
  "flow.foreach": (params) => (params.on_item_error === "collect" ? [MAIN_PORT, "errors"] : [MAIN_PORT]),
};

export interface NodePorts {
  in: string[];
  /** Ports the node type has, in order. */
  out: string[];
  /** Ports edges leave from that the node does not have (drawn so the edge stays visible, marked wrong). */
  unknownOut: string[];
}

/** Ports of `node`; `usedPorts` are the ports its outgoing edges name. */
export function nodePorts(node: DocNode, entry: NodeTypeEntry | undefined, usedPorts: Iterable<string> = []): NodePorts {
  const params: Params = { ...(entry?.defaults ?? {}), ...(isRecord(node.params) ? node.params : {}) };
  let out: string[];
  if (!entry) out = [MAIN_PORT];
  else if (entry.ports.dynamic && DYNAMIC_PORTS[entry.type]) out = DYNAMIC_PORTS[entry.type](params);
  else out = [...entry.ports.out];
  if (node.on_error === "route" && !out.includes(ERROR_PORT)) out.push(ERROR_PORT);
  // Triggers start executions: nothing may enter them (edge_into_trigger), so they get no input handle.
  const inPorts = entry?.trigger ? [] : entry ? [...entry.ports.in] : [MAIN_PORT];
  const unknownOut = [...new Set(usedPorts)].filter((port) => !out.includes(port));
  return { in: inPorts, out, unknownOut };
}
