/**
 * The canvas of a document whose group-like nodes have bodies: each such node is drawn as a
 * frame (an xyflow sub-flow parent) with its body's nodes inside it, or — collapsed — as a
 * node card. Built on `documentToCanvas`/`canvasToDocument`, one body at a time: a body's
 * nodes and edges get scoped ids (`groups.ts`), `parentId` = their frame, and positions
 * relative to the frame, which is what the body stores. Pure and inverse like `convert.ts`:
 * a document drawn and read back is the same document, `===` when nothing moved.
 */
import type { Catalog } from "../catalog/catalog";
import {
  canvasEdgesById,
  canvasToDocument,
  createCanvasCache,
  documentToCanvas,
  type CanvasCache,
  type CanvasEdge,
  type CanvasNode,
  type CanvasNodeData,
  type Decorations,
} from "./convert";
import { copyNodes, pasteNodes, removeElements, type ClipboardPayload } from "./edit";
import { bodyOf, byScope, editInScope, graphAt, locateProblem, problemsInScope, replaceGraphAt, scopedId, scopeKey, splitScopedId, type Scope } from "./groups";
import { edgesOf, nodesOf, type Position, type Problem, type WorkflowDocument } from "./types";

/**
 * A frame's layout: its header (the group node's own title and ports), margins around the body,
 * and room below it to drop the next node into.
 */
export const FRAME = { head: 56, pad: 30, room: 90, minWidth: 340, minHeight: 190 };
/** The size assumed for a node not measured yet. */
export const NODE_SIZE = { width: 240, height: 74 };

export interface FrameInfo {
  /** The scope of the body this frame holds. */
  scope: string[];
  collapsed: boolean;
  /** How many nodes the body has (shown on a collapsed frame). */
  inside: number;
  /** Problems found inside the body, at any depth. */
  problemsInside: number;
  width?: number;
  height?: number;
}

export type FramedNodeData = CanvasNodeData & { frame?: FrameInfo };

export function frameOf(node: CanvasNode): FrameInfo | undefined {
  return (node.data as FramedNodeData).frame;
}

/** A scoped edge id: `@scope|local id` (a top-level edge id never starts with `@`). */
export function scopedEdgeId(scope: Scope, localId: string): string {
  return scope.length ? `@${scopeKey(scope)}|${localId}` : localId;
}

export function splitScopedEdgeId(canvasId: string): { scope: string[]; id: string } {
  if (!canvasId.startsWith("@")) return { scope: [], id: canvasId };
  const bar = canvasId.indexOf("|");
  return { scope: canvasId.slice(1, bar).split("/"), id: canvasId.slice(bar + 1) };
}

export interface FrameOptions {
  /** Canvas ids of the group nodes drawn collapsed. */
  collapsed?: ReadonlySet<string>;
}

/** Caches of a framed canvas: one `CanvasCache` per body, and the scoped copies of its items. */
export interface FramedCache {
  scopes: Map<string, CanvasCache>;
  nodes: WeakMap<CanvasNode, { key: string; value: CanvasNode }>;
  edges: WeakMap<CanvasEdge, CanvasEdge>;
}

export function createFramedCache(): FramedCache {
  return { scopes: new Map(), nodes: new WeakMap(), edges: new WeakMap() };
}

/** The decorations the body at `scope` sees: keyed by its local ids, its problems with local paths. */
function scopeDecorations(doc: WorkflowDocument, scope: Scope, decorations: Decorations): Decorations {
  if (!scope.length) {
    return { ...decorations, problems: problemsInScope(doc, decorations.problems ?? [], scope) };
  }
  const prefix = `${scopeKey(scope)}/`;
  const local = (ids: ReadonlySet<string> | undefined) => {
    const found = new Set<string>();
    for (const id of ids ?? []) if (id.startsWith(prefix) && !id.includes("/", prefix.length)) found.add(id.slice(prefix.length));
    return found;
  };
  const edgePrefix = `@${scopeKey(scope)}|`;
  const selectedEdges = new Set<string>();
  for (const id of decorations.selectedEdges ?? []) if (id.startsWith(edgePrefix)) selectedEdges.add(id.slice(edgePrefix.length));
  const measured = new Map<string, { width: number; height: number }>();
  for (const [id, size] of decorations.measured ?? []) if (id.startsWith(prefix) && !id.includes("/", prefix.length)) measured.set(id.slice(prefix.length), size);
  // Inner nodes run in child executions: the parent's run states are not theirs.
  return { problems: problemsInScope(doc, decorations.problems ?? [], scope), selectedNodes: local(decorations.selectedNodes), selectedEdges, measured };
}

/** Problems inside the body at `scope`, at any depth (a problem in loop/inner is inside loop too). */
function countProblemsUnder(doc: WorkflowDocument, problems: readonly Problem[], scope: Scope): number {
  const key = scopeKey(scope);
  let count = 0;
  for (const problem of problems) {
    const where = scopeKey(locateProblem(doc, problem).scope);
    if (where === key || where.startsWith(`${key}/`)) count += 1;
  }
  return count;
}

/** The canvas's nodes and edges for a document with bodies drawn as frames. */
export function documentToFramedCanvas(
  doc: WorkflowDocument,
  catalog: Catalog,
  decorations: Decorations = {},
  options: FrameOptions = {},
  cache: FramedCache = createFramedCache(),
): { nodes: CanvasNode[]; edges: CanvasEdge[] } {
  const nodes: CanvasNode[] = [];
  const edges: CanvasEdge[] = [];
  const problems = decorations.problems ?? [];
  const collapsed = options.collapsed ?? new Set<string>();
  const live = new Set<string>();

  /** Draws the graph at `scope` into `out`; returns the extent of its nodes (for its frame). */
  const draw = (graph: WorkflowDocument, scope: string[], parentId: string | undefined, out: CanvasNode[]): { right: number; bottom: number } => {
    const key = scopeKey(scope);
    live.add(key);
    let scopeCache = cache.scopes.get(key);
    if (!scopeCache) cache.scopes.set(key, (scopeCache = createCanvasCache()));
    const local = documentToCanvas(graph, catalog, scopeDecorations(doc, scope, decorations), scopeCache);
    let right = 0;
    let bottom = 0;
    for (const node of local.nodes) {
      const canvasId = scopedId(scope, node.id);
      const body = bodyOf(node.data.node);
      let frame: FrameInfo | undefined;
      const inner: CanvasNode[] = [];
      if (body) {
        const bodyScope = [...scope, node.id];
        frame = {
          scope: bodyScope,
          collapsed: collapsed.has(canvasId),
          inside: nodesOf(body).length,
          problemsInside: problems.length ? countProblemsUnder(doc, problems, bodyScope) : 0,
        };
        if (!frame.collapsed) {
          const extent = draw(body, bodyScope, canvasId, inner);
          frame.width = Math.max(FRAME.minWidth, extent.right + FRAME.pad);
          frame.height = Math.max(FRAME.minHeight, extent.bottom + FRAME.pad + FRAME.room);
        }
      }
      const value = placed(node, canvasId, parentId, frame);
      out.push(value);
      out.push(...inner);
      const size = frame?.width ? { width: frame.width, height: frame.height as number } : value.measured ?? NODE_SIZE;
      right = Math.max(right, value.position.x + (size.width ?? NODE_SIZE.width));
      bottom = Math.max(bottom, value.position.y + (size.height ?? NODE_SIZE.height));
    }
    for (const edge of local.edges) edges.push(scope.length ? scopedEdge(edge, scope) : edge);
    return { right, bottom };
  };

  const placed = (node: CanvasNode, canvasId: string, parentId: string | undefined, frame: FrameInfo | undefined): CanvasNode => {
    if (!parentId && !frame) return node;
    const key = `${canvasId}|${parentId ?? ""}|${frame ? JSON.stringify(frame) : ""}`;
    const hit = cache.nodes.get(node);
    if (hit && hit.key === key) return hit.value;
    const value: CanvasNode = { ...node, id: canvasId };
    if (parentId) value.parentId = parentId;
    if (frame) {
      value.type = "frame";
      value.data = { ...node.data, frame } as FramedNodeData;
      if (frame.width) {
        value.style = { width: frame.width, height: frame.height };
        value.measured = { width: frame.width, height: frame.height as number };
      }
    }
    cache.nodes.set(node, { key, value });
    return value;
  };

  const scopedEdge = (edge: CanvasEdge, scope: Scope): CanvasEdge => {
    const hit = cache.edges.get(edge);
    if (hit) return hit;
    const value: CanvasEdge = { ...edge, id: scopedEdgeId(scope, edge.id), source: scopedId(scope, edge.source), target: scopedId(scope, edge.target) };
    cache.edges.set(edge, value);
    return value;
  };

  draw(doc, [], undefined, nodes);
  for (const key of cache.scopes.keys()) if (!live.has(key)) cache.scopes.delete(key);
  return { nodes, edges };
}

function sameItems(a: readonly unknown[], b: readonly unknown[]): boolean {
  return a.length === b.length && a.every((item, index) => item === b[index]);
}

/**
 * The document after the canvas changed (nodes moved): each body drawn open is read back from
 * its nodes and edges; collapsed bodies, not on the canvas, stay as they are.
 */
export function framedCanvasToDocument(doc: WorkflowDocument, nodes: readonly CanvasNode[], edges: readonly CanvasEdge[]): WorkflowDocument {
  const scopes = new Map<string, { scope: string[]; nodes: CanvasNode[]; edges: CanvasEdge[] }>();
  const group = (scope: string[]) => {
    const key = scopeKey(scope);
    let found = scopes.get(key);
    if (!found) scopes.set(key, (found = { scope, nodes: [], edges: [] }));
    return found;
  };
  group([]);
  for (const node of nodes) {
    const { scope, id } = splitScopedId(node.id);
    group(scope).nodes.push(scope.length ? { ...node, id, parentId: undefined } : node);
  }
  for (const edge of edges) {
    const { scope, id } = splitScopedEdgeId(edge.id);
    if (!scope.length) {
      group(scope).edges.push(edge);
      continue;
    }
    group(scope).edges.push({ ...edge, id, source: splitScopedId(edge.source).id, target: splitScopedId(edge.target).id });
  }
  // Outer bodies first: an outer node read back carries its body as drawn, which an inner body then replaces.
  const ordered = [...scopes.values()].sort((a, b) => a.scope.length - b.scope.length);
  let result = doc;
  for (const { scope, nodes: scopeNodes, edges: scopeEdges } of ordered) {
    const graph = graphAt(result, scope);
    if (!graph) continue;
    // A body drawn open with no node on the canvas is left alone (it is empty, or not drawn).
    if (scope.length && !scopeNodes.length) continue;
    const next = canvasToDocument(graph, scopeNodes, scopeEdges);
    if (sameItems(nodesOf(next), nodesOf(graph)) && sameItems(edgesOf(next), edgesOf(graph))) continue;
    result = replaceGraphAt(result, scope, next);
  }
  return result;
}

/** Removes the selected nodes and edges (scoped canvas ids), each in its own body. */
export function removeSelection(doc: WorkflowDocument, nodeIds: Iterable<string>, edgeIds: Iterable<string>): WorkflowDocument {
  const work = new Map<string, { scope: string[]; nodes: Set<string>; edges: Set<string> }>();
  const at = (scope: string[]) => {
    const key = scopeKey(scope);
    let found = work.get(key);
    if (!found) work.set(key, (found = { scope, nodes: new Set(), edges: new Set() }));
    return found;
  };
  for (const canvasId of nodeIds) {
    const { scope, id } = splitScopedId(canvasId);
    at(scope).nodes.add(id);
  }
  for (const canvasId of edgeIds) {
    const { scope, id } = splitScopedEdgeId(canvasId);
    at(scope).edges.add(id);
  }
  // Inner bodies first: removing an outer group node removes its body with it.
  const ordered = [...work.values()].sort((a, b) => b.scope.length - a.scope.length);
  let result = doc;
  for (const { scope, nodes, edges } of ordered) {
    result = editInScope(result, scope, (graph) => {
      const byId = canvasEdgesById(graph);
      const removed = new Set([...edges].map((id) => byId.get(id)));
      return removeElements(graph, nodes, (edge) => removed.has(edge));
    });
  }
  return result;
}

/** The selected nodes of one body as a clipboard payload (null when they are in several bodies). */
export function copySelection(doc: WorkflowDocument, nodeIds: Iterable<string>): { scope: string[]; payload: ClipboardPayload } | null {
  const groups = [...byScope(nodeIds).values()];
  if (groups.length !== 1) return null;
  const graph = graphAt(doc, groups[0].scope);
  return graph ? { scope: groups[0].scope, payload: copyNodes(graph, groups[0].ids) } : null;
}

/** Pastes a payload into the body at `scope`; returns the document and the pasted nodes' scoped ids. */
export function pasteInto(doc: WorkflowDocument, scope: Scope, payload: ClipboardPayload, offset: Position): { doc: WorkflowDocument; ids: string[] } {
  let ids: string[] = [];
  const next = editInScope(doc, scope, (graph) => {
    const pasted = pasteNodes(graph, payload, offset);
    ids = pasted.ids.map((id) => scopedId(scope, id));
    return pasted.doc;
  });
  return { doc: next, ids };
}
