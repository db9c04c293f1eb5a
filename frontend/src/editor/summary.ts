/** The one line a node shows under its title: what it does, at a glance. */
import type { NodeTypeEntry } from "../api/types";
import { isRecord, type DocNode } from "../document/types";

export function nodeSummary(node: DocNode, entry: NodeTypeEntry | undefined): string {
  const params = { ...(entry?.defaults ?? {}), ...(isRecord(node.params) ? node.params : {}) };
  switch (node.type) {
    case "http.request":
      return `${params.method ?? "GET"} ${typeof params.url === "string" && params.url ? params.url : "— no URL —"}`;
    case "trigger.schedule":
      if (typeof params.cron === "string") return `cron ${params.cron} (${params.timezone ?? "UTC"})`;
      return params.every ? `every ${params.every} ${params.unit ?? "minutes"}` : "no schedule yet";
    case "trigger.webhook":
      return `${Array.isArray(params.methods) ? params.methods.join(", ") : "POST"} webhook`;
    case "data.set": {
      // What it writes, by key (issue 25): the run's vars, or the owner's globals with scope global.
      const keys = (value: unknown) => (isRecord(value) ? Object.keys(value) : []);
      const vars = keys(params.vars);
      const output = keys(params.output);
      const parts = [
        vars.length ? `${params.scope === "global" ? "globals" : "vars"} ${vars.join(", ")}` : "",
        output.length ? `output ${output.join(", ")}` : "",
      ].filter(Boolean);
      return parts.length ? `sets ${parts.join(" · ")}` : "sets nothing yet";
    }
    case "logic.switch":
      return `${Array.isArray(params.cases) ? params.cases.length : 0} case(s) + default`;
    case "flow.merge":
      return `join ${params.mode ?? "all"} · ${params.shape ?? "object"}`;
    case "flow.wait":
      if (params.seconds !== undefined) return `wait ${params.seconds} s`;
      if (params.until !== undefined) return `until ${params.until}`;
      if (params.input !== undefined) return "until input arrives";
      return "wait";
  }
  return entry ? `${entry.type} v${node.version ?? entry.version}` : `${node.type} — unknown type`;
}
