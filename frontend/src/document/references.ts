/**
 * Where a node's id is written in other nodes (issue 25, item 3): `{{ nodes.X… }}` expressions,
 * JsonLogic `{"var": "nodes.X…"}`, and code reading `ctx["nodes"]["X"]`. Renaming a node rewrites
 * them all, so that a new id breaks nothing. Pure.
 */
import { isDrawableNode, isRecord, nodesOf, type WorkflowDocument } from "./types";

const ID = "[a-z][a-z0-9_]{0,63}";

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The text of one expression (inside `{{ }}`) with `nodes.old` and `nodes["old"]` renamed. */
function renameInExpression(expression: string, oldId: string, newId: string): string {
  const dotted = new RegExp(`(?<![A-Za-z0-9_.])nodes\\.${escape(oldId)}(?![A-Za-z0-9_])`, "g");
  const indexed = new RegExp(`(?<![A-Za-z0-9_.])nodes\\[(['"])${escape(oldId)}\\1\\]`, "g");
  return expression.replace(dotted, `nodes.${newId}`).replace(indexed, (_match, quote: string) => `nodes[${quote}${newId}${quote}]`);
}

/** A string with the id renamed in its expressions and in code reading `["nodes"]["old"]`. */
export function renameInText(text: string, oldId: string, newId: string): string {
  let next = text.replace(/{{[\s\S]*?}}/g, (expression) => renameInExpression(expression, oldId, newId));
  const code = new RegExp(`(\\[\\s*(['"])nodes\\2\\s*\\](?:\\s*\\.\\s*get\\s*\\(|\\s*\\[)\\s*)(['"])${escape(oldId)}\\3`, "g");
  next = next.replace(code, (_match, head: string, _q: string, quote: string) => `${head}${quote}${newId}${quote}`);
  return next;
}

/** A JsonLogic `var` path with the id renamed (`nodes.old.output` → `nodes.new.output`). */
function renameVarPath(path: string, oldId: string, newId: string): string {
  return path === `nodes.${oldId}` || path.startsWith(`nodes.${oldId}.`) ? `nodes.${newId}${path.slice(6 + oldId.length)}` : path;
}

function renameInValue(value: unknown, oldId: string, newId: string): unknown {
  if (typeof value === "string") return renameInText(value, oldId, newId);
  if (Array.isArray(value)) {
    const items = value.map((item) => renameInValue(item, oldId, newId));
    return items.every((item, index) => item === value[index]) ? value : items;
  }
  if (!isRecord(value)) return value;
  let changed = false;
  const next: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    let renamed: unknown;
    if (key === "var" && typeof item === "string") renamed = renameVarPath(item, oldId, newId);
    else if (key === "var" && Array.isArray(item) && typeof item[0] === "string") {
      const path = renameVarPath(item[0], oldId, newId);
      renamed = path === item[0] ? item : [path, ...item.slice(1)];
    } else renamed = renameInValue(item, oldId, newId);
    if (renamed !== item) changed = true;
    next[key] = renamed;
  }
  return changed ? next : value;
}

/** The document with every reference to node `oldId` in other nodes' params rewritten to `newId`. */
export function renameReferences(doc: WorkflowDocument, oldId: string, newId: string): WorkflowDocument {
  if (oldId === newId || !new RegExp(`^${ID}$`).test(newId)) return doc;
  let changed = false;
  const nodes = nodesOf(doc).map((node) => {
    if (!isDrawableNode(node) || node.params === undefined) return node;
    const params = renameInValue(node.params, oldId, newId);
    if (params === node.params) return node;
    changed = true;
    return { ...node, params: params as typeof node.params };
  });
  return changed ? { ...doc, nodes: nodes as WorkflowDocument["nodes"] } : doc;
}

/** How many places in other nodes name `nodeId` (the side panel says so before a rename). */
export function countReferences(doc: WorkflowDocument, nodeId: string): number {
  const probe = "zz_probe_rename_target";
  const before = JSON.stringify(doc.nodes);
  const after = JSON.stringify(renameReferences(doc, nodeId, probe).nodes);
  if (before === after) return 0;
  return (after.match(new RegExp(probe, "g")) ?? []).length;
}
