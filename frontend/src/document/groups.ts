/**
 * Bodies of group-like nodes (COMPOSITION.md): `flow.group` and `flow.foreach` carry a graph of
 * their own in `params.graph: {nodes, edges}`, with ids unique only within that graph.
 *
 * A body is addressed by its scope: the ids of the group nodes leading to it from the top
 * (`["loop"]`, `["loop", "inner"]`). The canvas names a node inside a body by its scoped id,
 * `loop/resize` (`/` cannot occur in a node id), so ids stay unique on one canvas. A body is
 * handled as a document of its own (`graphAt`), so every edit of `edit.ts` works inside it
 * through `editInScope`, which writes the changed body back up the chain of group nodes.
 */
import type { NodeTypeEntry } from "../api/types";
import { addNode } from "./edit";
import { isDrawableNode, isRecord, nodesOf, type DocNode, type Position, type Problem, type WorkflowDocument } from "./types";

export type Scope = readonly string[];

export const SCOPE_SEPARATOR = "/";
export const TOP: Scope = [];
export const BODY_TRIGGER = "trigger.group";
/** Where a new body's start node goes, inside its frame (below the frame's header). */
export const BODY_START_POSITION: Position = [30, 70];

export function scopedId(scope: Scope, id: string): string {
  return scope.length ? `${scope.join(SCOPE_SEPARATOR)}${SCOPE_SEPARATOR}${id}` : id;
}

export function scopeKey(scope: Scope): string {
  return scope.join(SCOPE_SEPARATOR);
}

/** A canvas id split into the scope of its body and the id there. */
export function splitScopedId(canvasId: string): { scope: string[]; id: string } {
  const parts = canvasId.split(SCOPE_SEPARATOR);
  const id = parts.pop() as string;
  return { scope: parts, id };
}

/** A node's body (`params.graph` when it is an object), else undefined. */
export function bodyOf(node: unknown): WorkflowDocument | undefined {
  if (!isRecord(node) || !isRecord(node.params)) return undefined;
  const graph = node.params.graph;
  return isRecord(graph) ? (graph as unknown as WorkflowDocument) : undefined;
}

/** Whether a node type runs a body (its params declare `graph`). */
export function hasBodyParam(entry: NodeTypeEntry | undefined): boolean {
  const properties = entry && isRecord(entry.params_schema.properties) ? entry.params_schema.properties : {};
  return "graph" in properties;
}

function findNode(doc: WorkflowDocument, id: string): DocNode | undefined {
  return nodesOf(doc).find((node): node is DocNode => isDrawableNode(node) && node.id === id);
}

/** The graph at `scope` as a document ({nodes, edges}); undefined when the scope leads nowhere. */
export function graphAt(doc: WorkflowDocument, scope: Scope): WorkflowDocument | undefined {
  let graph: WorkflowDocument | undefined = doc;
  for (const id of scope) {
    graph = graph && bodyOf(findNode(graph, id));
    if (!graph) return undefined;
  }
  return graph;
}

/** The node a scoped id names (undefined when there is none). */
export function nodeAt(doc: WorkflowDocument, canvasId: string): DocNode | undefined {
  const { scope, id } = splitScopedId(canvasId);
  const graph = graphAt(doc, scope);
  return graph && findNode(graph, id);
}

function withBody(node: DocNode, graph: WorkflowDocument): DocNode {
  const params = isRecord(node.params) ? node.params : {};
  return { ...node, params: { ...params, graph: graph as unknown as Record<string, unknown> } };
}

/** `doc` with the graph at `scope` replaced by `next` (`doc` itself when nothing changed). */
export function replaceGraphAt(doc: WorkflowDocument, scope: Scope, next: WorkflowDocument): WorkflowDocument {
  if (!scope.length) return next;
  const [head, ...rest] = scope;
  let replaced = false;
  const nodes = nodesOf(doc).map((node) => {
    if (replaced || !isDrawableNode(node) || node.id !== head) return node;
    replaced = true;
    const body = bodyOf(node);
    if (!body) return node;
    const inner = replaceGraphAt(body, rest, next);
    return inner === body ? node : withBody(node, inner);
  });
  if (!replaced || nodes.every((node, index) => node === nodesOf(doc)[index])) return doc;
  return { ...doc, nodes: nodes as DocNode[] };
}

/** Applies an edit of a document to the body at `scope` (the top level for `[]`). */
export function editInScope(doc: WorkflowDocument, scope: Scope, edit: (graph: WorkflowDocument) => WorkflowDocument): WorkflowDocument {
  const graph = graphAt(doc, scope);
  if (!graph) return doc;
  const next = edit(graph);
  return next === graph ? doc : replaceGraphAt(doc, scope, next);
}

/** A new body: its start node alone. */
export function newBody(start: NodeTypeEntry | undefined): WorkflowDocument {
  const node: DocNode = { id: "start", type: BODY_TRIGGER, name: start?.title ?? "Group start", position: [...BODY_START_POSITION] };
  if (start) node.version = start.version;
  return { nodes: [node], edges: [] } as unknown as WorkflowDocument;
}

/**
 * Adds a node of `entry` to the graph at `scope`; a group-like node gets a body with its start
 * node. Returns the document and the new node's scoped id.
 */
export function addNodeIn(doc: WorkflowDocument, scope: Scope, entry: NodeTypeEntry, position: Position, start?: NodeTypeEntry): { doc: WorkflowDocument; id: string } {
  let id = "";
  const next = editInScope(doc, scope, (graph) => {
    const added = addNode(graph, entry, position);
    id = added.id;
    if (!hasBodyParam(entry)) return added.doc;
    return { ...added.doc, nodes: nodesOf(added.doc).map((node) => (isDrawableNode(node) && node.id === id && !bodyOf(node) ? withBody(node, newBody(start)) : node)) as DocNode[] };
  });
  return { doc: next, id: id ? scopedId(scope, id) : "" };
}

/** Canvas ids grouped by the scope they are in (key: `scopeKey`), each with its local ids. */
export function byScope(canvasIds: Iterable<string>): Map<string, { scope: string[]; ids: Set<string> }> {
  const groups = new Map<string, { scope: string[]; ids: Set<string> }>();
  for (const canvasId of canvasIds) {
    const { scope, id } = splitScopedId(canvasId);
    const key = scopeKey(scope);
    const group = groups.get(key) ?? { scope, ids: new Set<string>() };
    group.ids.add(id);
    groups.set(key, group);
  }
  return groups;
}

const BODY_PREFIX = /^nodes\[(\d+)\]\.params\.graph\.(?=(nodes|edges)\[)/;

/**
 * Where a validation problem is: the scope of the body its path leads into
 * (`nodes[3].params.graph.nodes[1]…` is in the body of the top level's fourth node) and the
 * problem as that body sees it (its path relative to the body).
 */
export function locateProblem(doc: WorkflowDocument, problem: Problem): { scope: string[]; problem: Problem } {
  const scope: string[] = [];
  let graph: WorkflowDocument | undefined = doc;
  let path = typeof problem.path === "string" ? problem.path : "";
  for (let match = BODY_PREFIX.exec(path); match && graph; match = BODY_PREFIX.exec(path)) {
    const node: unknown = nodesOf(graph)[Number(match[1])];
    const body = bodyOf(node);
    if (!isDrawableNode(node) || !body) break;
    scope.push(node.id);
    graph = body;
    path = path.slice(match[0].length);
  }
  return { scope, problem: scope.length ? { ...problem, path } : problem };
}

/** The problems of the graph at `scope`, as that graph sees them. */
export function problemsInScope(doc: WorkflowDocument, problems: readonly Problem[], scope: Scope): Problem[] {
  const key = scopeKey(scope);
  const found: Problem[] = [];
  for (const problem of problems) {
    const located = locateProblem(doc, problem);
    if (scopeKey(located.scope) === key) found.push(located.problem);
  }
  return found;
}

/** The canvas id of the node a problem is about (null for a problem of the workflow as a whole). */
export function problemCanvasId(doc: WorkflowDocument, problem: Problem): string | null {
  if (!problem.node_id) return null;
  return scopedId(locateProblem(doc, problem).scope, problem.node_id);
}

/**
 * Where a node added without a position goes: into the body of the one selected group-like node
 * when its frame is open, next to the one selected node inside a body, else the top level.
 */
export function targetScope(doc: WorkflowDocument, selected: ReadonlySet<string>, collapsed: ReadonlySet<string>): string[] {
  if (selected.size !== 1) return [];
  const [canvasId] = selected;
  const node = nodeAt(doc, canvasId);
  if (!node) return [];
  const { scope, id } = splitScopedId(canvasId);
  return bodyOf(node) && !collapsed.has(canvasId) ? [...scope, id] : scope;
}
