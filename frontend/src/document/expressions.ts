/** `{{ … }}` expressions in text fields: where the caret is in one, and what to offer there. */
import type { Catalog } from "../catalog/catalog";
import { ancestors } from "./graph";
import { isDrawableNode, isRecord, nodesOf, type WorkflowDocument } from "./types";

export interface OpenExpression {
  /** Where the path being typed starts (after `{{` and spaces). */
  start: number;
  /** What was typed of it so far. */
  prefix: string;
}

/** The expression the caret is in (after an unclosed `{{`), or null. */
export function expressionAt(text: string, caret: number): OpenExpression | null {
  const before = text.slice(0, caret);
  const open = before.lastIndexOf("{{");
  if (open === -1 || before.indexOf("}}", open) !== -1) return null;
  let start = open + 2;
  while (start < caret && text[start] === " ") start++;
  const prefix = text.slice(start, caret);
  // Only a plain path is completed; inside filters or operators, stay quiet.
  if (!/^[A-Za-z0-9_.]*$/.test(prefix)) return null;
  return { start, prefix };
}

const EXECUTION_PATHS = ["execution.id", "execution.workflow_id", "execution.trigger", "execution.started_at"];

/**
 * Output fields of core node types, as FORMAT.md's parameter table documents them. The
 * catalog has no output schema yet; when it gets one, this table goes.
 */
const DOCUMENTED_OUTPUTS: Record<string, string[]> = {
  "trigger.webhook": ["body", "headers", "query", "method"],
  "trigger.schedule": ["fired_at", "schedule"],
  "trigger.variable": ["key", "old", "new", "execution_id", "node_id"],
  "http.request": ["status", "headers", "body", "url", "elapsed_ms"],
};

/**
 * Paths an expression in node `nodeId` may read (FORMAT.md "Expressions"): input (and the
 * input schema's properties), vars (those upstream Set nodes write), execution, and the
 * output of every upstream node — never a node that is not upstream — and `globalPaths`, the
 * owner's global variables (variables/values.ts globalPaths).
 */
export function availablePaths(doc: WorkflowDocument, nodeId: string, catalog?: Catalog, globalPaths: readonly string[] = []): string[] {
  const paths = ["input"];
  const inputSchema = isRecord(doc.input_schema) ? doc.input_schema : null;
  if (inputSchema && isRecord(inputSchema.properties)) {
    for (const name of Object.keys(inputSchema.properties)) paths.push(`input.${name}`);
  }
  const upstream = ancestors(doc, nodeId);
  const byId = new Map(nodesOf(doc).filter(isDrawableNode).map((node) => [node.id, node]));
  const vars = new Set<string>();
  for (const id of upstream) {
    const node = byId.get(id);
    // A Set node with scope global writes global variables, not the run's vars.
    if (node && isRecord(node.params) && isRecord(node.params.vars) && node.params.scope !== "global") {
      for (const name of Object.keys(node.params.vars)) vars.add(name);
    }
  }
  paths.push("vars", ...[...vars].sort().map((name) => `vars.${name}`));
  paths.push(...EXECUTION_PATHS);
  paths.push(...globalPaths);
  for (const id of upstream) {
    const node = byId.get(id);
    paths.push(`nodes.${id}.output`);
    const fields = node && (catalog === undefined || catalog.get(node.type, node.version)) ? DOCUMENTED_OUTPUTS[node.type] ?? [] : [];
    paths.push(...fields.map((field) => `nodes.${id}.output.${field}`));
    paths.push(`nodes.${id}.status`);
  }
  return paths;
}

/** Paths matching what was typed: those starting with it first, then those containing it. */
export function matchPaths(paths: readonly string[], prefix: string, limit = 8): string[] {
  const lower = prefix.toLowerCase();
  const starts = paths.filter((path) => path.toLowerCase().startsWith(lower) && path !== prefix);
  const contains = lower ? paths.filter((path) => !path.toLowerCase().startsWith(lower) && path.toLowerCase().includes(lower)) : [];
  return [...starts, ...contains].slice(0, limit);
}

/** The text with the open expression's path replaced by `path` (and closed when it was not). */
export function insertPath(text: string, open: OpenExpression, caret: number, path: string): { text: string; caret: number } {
  const after = text.slice(caret);
  const closed = /^[A-Za-z0-9_.]*\s*}}/.test(after);
  const rest = closed ? after.replace(/^[A-Za-z0-9_.]*/, "") : ` }}${after}`;
  const next = text.slice(0, open.start) + path + rest;
  const nextCaret = open.start + path.length + (closed ? 0 : 3);
  return { text: next, caret: nextCaret };
}

/** Whether a string holds an expression. */
export function hasExpression(text: string): boolean {
  return /{{.*}}/s.test(text);
}
