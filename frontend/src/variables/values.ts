/** Pure helpers of the Variables page and the editor's `globals.` suggestions. */
import { isRecord, nodesOf, type WorkflowDocument } from "../document/types";

/** The server's rule (engine/globals.py KEY_PATTERN): an identifier, so `globals.<key>` is a plain path. */
export const KEY_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

export function keyProblem(key: string): string | null {
  if (!key) return "Enter a key.";
  if (!KEY_PATTERN.test(key)) return "Letters, digits and _ only, not starting with a digit (at most 128).";
  return null;
}

/** The text of the value editor as JSON: a value, or why it is not one yet. */
export function parseValue(text: string): { ok: true; value: unknown } | { ok: false; message: string } {
  if (!text.trim()) return { ok: false, message: "Enter a JSON value (null for nothing, \"text\" in quotes)." };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, message: error instanceof Error ? error.message : String(error) };
  }
}

/** A value as the editor shows it: indented JSON. */
export function valueText(value: unknown): string {
  return JSON.stringify(value, null, 2) ?? "null";
}

/** A one-line preview of a value for the list, cut at `limit` characters. */
export function preview(value: unknown, limit = 80): string {
  const text = JSON.stringify(value) ?? "null";
  return text.length > limit ? `${text.slice(0, limit - 1)}…` : text;
}

/** Who made a change, in words: the user through the API, or an execution's node. */
export function changeAuthor(change: { user: string | null; execution_id: string | null; node_id: string }): string {
  if (change.execution_id) return `node ${change.node_id || "?"} of execution ${change.execution_id.slice(0, 8)}`;
  return change.user ? `${change.user} (API or editor)` : "someone since deleted";
}

/**
 * `globals` paths an expression may read: the owner's keys, and those the document's data.set nodes
 * write with scope global (they may not exist yet), sorted.
 */
export function globalPaths(keys: readonly string[], doc?: WorkflowDocument): string[] {
  const all = new Set(keys);
  for (const node of doc ? nodesOf(doc) : []) {
    if (!isRecord(node) || node.type !== "data.set" || !isRecord(node.params)) continue;
    if (node.params.scope === "global" && isRecord(node.params.vars)) for (const key of Object.keys(node.params.vars)) all.add(key);
  }
  return ["globals", ...[...all].filter((key) => KEY_PATTERN.test(key)).sort().map((key) => `globals.${key}`)];
}

/** The keys a trigger.variable `key` param matches (a key, `prefix*`, or `*`), as the server matches them. */
export function matchingKeys(pattern: string, keys: readonly string[]): string[] {
  if (!pattern) return [];
  return keys.filter((key) => (pattern.endsWith("*") ? key.startsWith(pattern.slice(0, -1)) : key === pattern));
}

/** A validation result's warnings (present only when there are some: `unknown_global_key`). */
export function warningsOf<T>(result: object): T[] {
  const warnings = (result as { warnings?: unknown }).warnings;
  return Array.isArray(warnings) ? (warnings as T[]) : [];
}
