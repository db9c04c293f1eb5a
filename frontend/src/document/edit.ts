/** Edits of a workflow document: pure functions from a document to the next one. */
import type { NodeTypeEntry } from "../api/types";
import { freshNodeId, nodeIds } from "./graph";
import { edgePort, edgesOf, isDrawableNode, isRecord, nodesOf, type DocEdge, type DocNode, type Position, type WorkflowDocument } from "./types";
import { renameReferences } from "./references";

function withNodes(doc: WorkflowDocument, nodes: unknown[]): WorkflowDocument {
  return { ...doc, nodes: nodes as DocNode[] };
}

function withEdges(doc: WorkflowDocument, edges: unknown[]): WorkflowDocument {
  return { ...doc, edges: edges as DocEdge[] };
}

function round(value: number): number {
  return Math.round(value);
}

/** A new node of `entry`'s type at `position`; returns the document and the new node's id. */
export function addNode(doc: WorkflowDocument, entry: NodeTypeEntry, position: Position): { doc: WorkflowDocument; id: string } {
  const taken = nodeIds(doc);
  const id = freshNodeId(entry.type, taken);
  const sameType = nodesOf(doc).filter((node) => isDrawableNode(node) && node.type === entry.type).length;
  const node: DocNode = {
    id,
    type: entry.type,
    version: entry.version,
    name: sameType ? `${entry.title} ${sameType + 1}` : entry.title,
    position: [round(position[0]), round(position[1])],
    params: initialParams(entry),
  };
  return { doc: withNodes(doc, [...nodesOf(doc), node]), id };
}

/** Params a new node starts with: the required params the type has defaults for (say, a code skeleton). */
export function initialParams(entry: NodeTypeEntry): Record<string, unknown> {
  const required = Array.isArray(entry.params_schema.required) ? (entry.params_schema.required as string[]) : [];
  const params: Record<string, unknown> = {};
  for (const name of required) if (name in entry.defaults) params[name] = structuredClone(entry.defaults[name]);
  return params;
}

/** Removes nodes (with every edge touching them) and edges given by predicate. */
export function removeElements(doc: WorkflowDocument, nodeIdsToRemove: ReadonlySet<string>, isRemovedEdge: (edge: DocEdge, index: number) => boolean = () => false): WorkflowDocument {
  const nodes = nodesOf(doc).filter((node) => !(isDrawableNode(node) && nodeIdsToRemove.has(node.id)));
  const edges = edgesOf(doc).filter((edge, index) => {
    if (!isRecord(edge)) return true;
    if (nodeIdsToRemove.has(edge.from as string) || nodeIdsToRemove.has(edge.to as string)) return false;
    return !isRemovedEdge(edge as DocEdge, index);
  });
  return { ...withNodes(doc, nodes), ...(doc.edges !== undefined || edges.length ? { edges: edges as DocEdge[] } : {}) };
}

export function hasEdge(doc: WorkflowDocument, from: string, port: string, to: string): boolean {
  return edgesOf(doc).some((edge) => isRecord(edge) && edge.from === from && edge.to === to && edgePort(edge as DocEdge) === port);
}

/** Adds the edge from `from`'s `port` to `to`, unless it exists. */
export function connect(doc: WorkflowDocument, from: string, port: string, to: string): WorkflowDocument {
  if (hasEdge(doc, from, port, to)) return doc;
  const edge: DocEdge = port === "main" ? { from, to } : { from, to, port };
  return withEdges(doc, [...edgesOf(doc), edge]);
}

/** Sets nodes' positions. */
export function moveNodes(doc: WorkflowDocument, positions: ReadonlyMap<string, Position>): WorkflowDocument {
  let changed = false;
  const nodes = nodesOf(doc).map((node) => {
    if (!isDrawableNode(node)) return node;
    const position = positions.get(node.id);
    if (!position) return node;
    const next: Position = [round(position[0]), round(position[1])];
    if (Array.isArray(node.position) && node.position[0] === next[0] && node.position[1] === next[1]) return node;
    changed = true;
    return { ...node, position: next };
  });
  return changed ? withNodes(doc, nodes) : doc;
}

/** Replaces node `id` by `update(node)`. */
export function updateNode(doc: WorkflowDocument, id: string, update: (node: DocNode) => DocNode): WorkflowDocument {
  let changed = false;
  const nodes = nodesOf(doc).map((node) => {
    if (!isDrawableNode(node) || node.id !== id) return node;
    const next = update(node);
    if (next !== node) changed = true;
    return next;
  });
  return changed ? withNodes(doc, nodes) : doc;
}

/** A copy of `object` with `key` set, or removed when `value` is undefined. */
export function withKey<T extends object>(object: T, key: string, value: unknown): T {
  const copy = { ...object } as Record<string, unknown>;
  if (value === undefined) delete copy[key];
  else copy[key] = value;
  return copy as T;
}

/** Sets (or, with undefined, removes) one top-level param of a node. */
export function setParam(doc: WorkflowDocument, id: string, name: string, value: unknown): WorkflowDocument {
  return updateNode(doc, id, (node) => {
    const params = isRecord(node.params) ? node.params : {};
    if (params[name] === value) return node;
    return { ...node, params: withKey(params, name, value) };
  });
}

/** Gives node `oldId` the id `newId`, following every edge; false when `newId` is taken. */
export function renameNodeId(doc: WorkflowDocument, oldId: string, newId: string): WorkflowDocument | null {
  if (oldId === newId) return doc;
  if (nodeIds(doc).has(newId)) return null;
  // Expressions, JsonLogic vars and code that read the node follow it (document/references.ts).
  const renamed = updateNode(renameReferences(doc, oldId, newId), oldId, (node) => ({ ...node, id: newId }));
  const edges = edgesOf(doc).map((edge) => {
    if (!isRecord(edge) || (edge.from !== oldId && edge.to !== oldId)) return edge;
    return { ...edge, ...(edge.from === oldId ? { from: newId } : {}), ...(edge.to === oldId ? { to: newId } : {}) };
  });
  return doc.edges === undefined ? renamed : withEdges(renamed, edges);
}

/** Renames the edges leaving `nodeId`'s port `oldPort` (a switch case renamed). */
export function renamePort(doc: WorkflowDocument, nodeId: string, oldPort: string, newPort: string): WorkflowDocument {
  if (oldPort === newPort || doc.edges === undefined) return doc;
  let changed = false;
  const edges = edgesOf(doc).map((edge) => {
    if (!isRecord(edge) || edge.from !== nodeId || edgePort(edge as DocEdge) !== oldPort) return edge;
    changed = true;
    return newPort === "main" ? withKey(edge, "port", undefined) : { ...edge, port: newPort };
  });
  return changed ? withEdges(doc, edges) : doc;
}

/**
 * When an edit renames a port (a switch case renamed), its connections follow: if exactly
 * one port that connections use is gone and exactly one new port appeared, they move to it.
 */
export function followRenamedPort(doc: WorkflowDocument, nodeId: string, before: string[], after: string[]): WorkflowDocument {
  const used = new Set(edgesOf(doc).filter((edge): edge is DocEdge => isRecord(edge) && edge.from === nodeId).map((edge) => edgePort(edge)));
  const lost = [...used].filter((port) => !after.includes(port));
  const appeared = after.filter((port) => !before.includes(port));
  return lost.length === 1 && appeared.length === 1 ? renamePort(doc, nodeId, lost[0], appeared[0]) : doc;
}

// -- copy and paste ----------------------------------------------------------------------

export const CLIPBOARD_KIND = "nodeflow/clipboard";

export interface ClipboardPayload {
  kind: typeof CLIPBOARD_KIND;
  nodes: DocNode[];
  edges: DocEdge[];
}

/** The selected nodes and the edges between them, as text for the clipboard. */
export function copyNodes(doc: WorkflowDocument, ids: ReadonlySet<string>): ClipboardPayload {
  const nodes = nodesOf(doc).filter((node): node is DocNode => isDrawableNode(node) && ids.has(node.id));
  const edges = edgesOf(doc).filter((edge): edge is DocEdge => isRecord(edge) && ids.has(edge.from as string) && ids.has(edge.to as string));
  return { kind: CLIPBOARD_KIND, nodes: structuredClone(nodes), edges: structuredClone(edges) };
}

export function parseClipboard(text: string): ClipboardPayload | null {
  try {
    const value = JSON.parse(text);
    if (isRecord(value) && value.kind === CLIPBOARD_KIND && Array.isArray(value.nodes) && Array.isArray(value.edges)) {
      return { kind: CLIPBOARD_KIND, nodes: value.nodes.filter(isDrawableNode), edges: value.edges.filter(isRecord) as DocEdge[] };
    }
  } catch {
    // not ours
  }
  return null;
}

/** Adds copies of the clipboard's nodes (fresh ids, moved by `offset`) and their edges; returns the new ids. */
export function pasteNodes(doc: WorkflowDocument, payload: ClipboardPayload, offset: Position): { doc: WorkflowDocument; ids: string[] } {
  const taken = nodeIds(doc);
  const idMap = new Map<string, string>();
  const nodes: DocNode[] = payload.nodes.map((node, index) => {
    const id = freshNodeId(node.id.replace(/_[0-9]+$/, ""), taken);
    taken.add(id);
    idMap.set(node.id, id);
    const at = Array.isArray(node.position) && node.position.length === 2 ? node.position : [0, index * 140];
    return { ...structuredClone(node), id, position: [round(at[0] + offset[0]), round(at[1] + offset[1])] };
  });
  const edges = payload.edges
    .filter((edge) => idMap.has(edge.from) && idMap.has(edge.to))
    .map((edge) => ({ ...edge, from: idMap.get(edge.from) as string, to: idMap.get(edge.to) as string }));
  const next = { ...withNodes(doc, [...nodesOf(doc), ...nodes]) };
  return { doc: edges.length || doc.edges !== undefined ? withEdges(next, [...edgesOf(doc), ...edges]) : next, ids: nodes.map((node) => node.id) };
}
