/** Which document an execution view draws: the one that ran, compared with the draft as it is now. Pure. */
import type { ExecutionDefinition } from "../api/types";

/** JSON text with object keys sorted, so two documents with the same content give the same text whatever their key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record).filter((key) => record[key] !== undefined).sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`).join(",")}}`;
  }
  return JSON.stringify(value ?? null);
}

export function sameContent(a: unknown, b: unknown): boolean {
  return a === b || canonicalJson(a) === canonicalJson(b);
}

/** "version 2", "draft revision 7": what ran, in words. */
export function ranRevisionLabel(ran: Pick<ExecutionDefinition, "version" | "revision">): string {
  if (ran.version != null) return `version ${ran.version}`;
  if (ran.revision != null) return `draft revision ${ran.revision}`;
  return "an earlier document";
}
