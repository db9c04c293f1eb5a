/**
 * The workflow document ⇄ the canvas's nodes and edges (@xyflow/react).
 *
 * The document is the truth; the canvas is drawn from it. `documentToCanvas` and
 * `canvasToDocument` are pure and inverse: converting a document to the canvas and back
 * gives the same document, key for key and in the same order, including what the canvas
 * cannot draw (malformed nodes, edges to missing nodes), which is carried over untouched.
 */
import type { Edge, Node } from "@xyflow/react";
import type { NodeRunStatus, NodeTypeEntry } from "../api/types";
import type { Catalog } from "../catalog/catalog";
import { defaultPositions, hasPosition } from "./graph";
import { nodePorts, type NodePorts } from "./ports";
import {
  edgePort,
  edgesOf,
  isDrawableNode,
  isRecord,
  nodesOf,
  type DocEdge,
  type DocNode,
  type Position,
  type Problem,
  type WorkflowDocument,
} from "./types";

/** A node's state in an execution being watched (issue 11 fills it; the node component shows it). */
export type RunState = NodeRunStatus;

export interface CanvasNodeData extends Record<string, unknown> {
  /** The document's node, untouched (its position is the canvas node's `position`). */
  node: DocNode;
  entry: NodeTypeEntry | undefined;
  ports: NodePorts;
  /** What people see: the node's name, else its type's title, else its type. */
  title: string;
  problems: Problem[];
  /** The position drawn for a node the document gives none; kept out of the document unless it moves. */
  autoPosition?: Position;
  runState?: RunState;
  runNote?: string;
}

export interface CanvasEdgeData extends Record<string, unknown> {
  /** The document's edge, untouched. */
  edge: DocEdge;
  port: string;
  problems: Problem[];
  runState?: RunState;
}

export type CanvasNode = Node<CanvasNodeData>;
export type CanvasEdge = Edge<CanvasEdgeData>;

/** What the canvas shows on top of the document: validation, selection, sizes, run states. */
export interface Decorations {
  problems?: readonly Problem[];
  selectedNodes?: ReadonlySet<string>;
  selectedEdges?: ReadonlySet<string>;
  /** Sizes the canvas measured (xyflow re-measures nodes that arrive without them). */
  measured?: ReadonlyMap<string, { width: number; height: number }>;
  nodeRunStates?: Readonly<Record<string, RunState>>;
  /** The execution view: a short note per node run (its duration, its attempt). */
  nodeRunNotes?: Readonly<Record<string, string>>;
  /** The execution view: whether data went along an edge (from `edge.from`'s `port`). */
  edgeCarried?: (edge: DocEdge, port: string) => boolean;
}

/** Categories with a node component of their own (editor/nodes.tsx); others are drawn as "custom". */
export const NODE_CATEGORIES: ReadonlySet<string> = new Set(["trigger", "http", "code", "logic", "data", "flow"]);

/** The canvas type of a node: its category, which picks the node component. */
export function canvasNodeType(entry: NodeTypeEntry | undefined): string {
  if (!entry) return "unknown";
  return NODE_CATEGORIES.has(entry.category) ? entry.category : "custom";
}

/** A stable, unique id for each drawable edge, in document order: `from.port->to`, `#n` for repeats. */
export function edgeIds(edges: readonly DocEdge[]): string[] {
  const seen = new Map<string, number>();
  return edges.map((edge) => {
    const base = `${edge.from}.${edgePort(edge)}->${edge.to}`;
    const count = (seen.get(base) ?? 0) + 1;
    seen.set(base, count);
    return count === 1 ? base : `${base}#${count}`;
  });
}

function isDocEdge(value: unknown): value is DocEdge {
  return isRecord(value) && typeof value.from === "string" && typeof value.to === "string" && (value.port === undefined || (typeof value.port === "string" && value.port !== ""));
}

/** Document nodes the canvas draws: drawable and the first with their id. */
function drawnNodes(doc: WorkflowDocument): DocNode[] {
  const seen = new Set<string>();
  const drawn: DocNode[] = [];
  for (const value of nodesOf(doc)) {
    if (!isDrawableNode(value) || seen.has(value.id)) continue;
    seen.add(value.id);
    drawn.push(value);
  }
  return drawn;
}

/** Document edges the canvas draws: well formed, between drawn nodes. */
function drawnEdges(doc: WorkflowDocument, ids: ReadonlySet<string>): DocEdge[] {
  return edgesOf(doc).filter((value): value is DocEdge => isDocEdge(value) && ids.has(value.from) && ids.has(value.to));
}

/** The edges the canvas draws, by their canvas id. */
export function canvasEdgesById(doc: WorkflowDocument): Map<string, DocEdge> {
  const edges = drawnEdges(doc, new Set(drawnNodes(doc).map((node) => node.id)));
  const ids = edgeIds(edges);
  return new Map(edges.map((edge, index) => [ids[index], edge]));
}

function sameEdgeRef(ref: Record<string, unknown>, edge: DocEdge): boolean {
  const port = typeof ref.port === "string" && ref.port ? ref.port : "main";
  return ref.from === edge.from && ref.to === edge.to && port === edgePort(edge);
}

export function problemsOfNode(problems: readonly Problem[], nodeId: string): Problem[] {
  return problems.filter((problem) => problem.node_id === nodeId && !problem.edge);
}

export function problemsOfEdge(problems: readonly Problem[], edge: DocEdge): Problem[] {
  return problems.filter((problem) => isRecord(problem.edge) && sameEdgeRef(problem.edge, edge));
}

export function buildCanvasNode(
  node: DocNode,
  entry: NodeTypeEntry | undefined,
  usedPorts: Iterable<string>,
  autoPosition: Position | undefined,
  decorations: Decorations,
): CanvasNode {
  const position = autoPosition ?? (node.position as Position);
  const data: CanvasNodeData = {
    node,
    entry,
    ports: nodePorts(node, entry, usedPorts),
    title: (typeof node.name === "string" && node.name.trim()) || entry?.title || node.type,
    problems: problemsOfNode(decorations.problems ?? [], node.id),
  };
  if (autoPosition) data.autoPosition = autoPosition;
  const runState = decorations.nodeRunStates?.[node.id];
  if (runState !== undefined) data.runState = runState;
  const runNote = decorations.nodeRunNotes?.[node.id];
  if (runNote) data.runNote = runNote;
  const canvasNode: CanvasNode = {
    id: node.id,
    type: canvasNodeType(entry),
    position: { x: position[0], y: position[1] },
    data,
    selected: decorations.selectedNodes?.has(node.id) ?? false,
  };
  const measured = decorations.measured?.get(node.id);
  if (measured) canvasNode.measured = measured;
  return canvasNode;
}

export function buildCanvasEdge(edge: DocEdge, id: string, decorations: Decorations): CanvasEdge {
  const port = edgePort(edge);
  const problems = problemsOfEdge(decorations.problems ?? [], edge);
  return {
    id,
    source: edge.from,
    target: edge.to,
    sourceHandle: port,
    targetHandle: "main",
    type: "nodeflow",
    data: decorations.edgeCarried?.(edge, port) ? { edge, port, problems, runState: "completed" } : { edge, port, problems },
    selected: decorations.selectedEdges?.has(id) ?? false,
  };
}

/** Output ports each node's edges leave from, by node id. */
function usedPortsByNode(edges: readonly DocEdge[]): Map<string, string[]> {
  const used = new Map<string, string[]>();
  for (const edge of edges) used.set(edge.from, [...(used.get(edge.from) ?? []), edgePort(edge)]);
  return used;
}

/**
 * Reuses canvas nodes and edges between conversions when nothing they show changed, so
 * that the canvas re-renders only what an edit touched (a 200-node workflow stays smooth).
 */
export interface CanvasCache {
  nodes: Map<string, { key: unknown[]; value: CanvasNode }>;
  edges: Map<string, { key: unknown[]; value: CanvasEdge }>;
  /** The last result's lists, given again when every item is the same (no store update in xyflow). */
  lastNodes: CanvasNode[];
  lastEdges: CanvasEdge[];
}

export function createCanvasCache(): CanvasCache {
  return { nodes: new Map(), edges: new Map(), lastNodes: [], lastEdges: [] };
}

function sameItems<T>(a: readonly T[], b: readonly T[]): boolean {
  return a.length === b.length && a.every((item, index) => item === b[index]);
}

function sameKey(a: unknown[], b: unknown[]): boolean {
  return a.length === b.length && a.every((value, index) => value === b[index]);
}

function problemsKey(problems: readonly Problem[]): string {
  return problems.length ? JSON.stringify(problems) : "";
}

/** The canvas's nodes and edges for a document; with a cache, unchanged items keep their identity. */
export function documentToCanvas(
  doc: WorkflowDocument,
  catalog: Catalog,
  decorations: Decorations = {},
  cache?: CanvasCache,
): { nodes: CanvasNode[]; edges: CanvasEdge[] } {
  const docNodes = drawnNodes(doc);
  const ids = new Set(docNodes.map((node) => node.id));
  const docEdges = drawnEdges(doc, ids);
  const used = usedPortsByNode(docEdges);
  const auto = defaultPositions(doc);
  const problems = decorations.problems ?? [];
  const nodes = docNodes.map((node) => {
    const entry = catalog.get(node.type, node.version);
    const usedPorts = used.get(node.id) ?? [];
    const autoPosition = hasPosition(node) ? undefined : auto.get(node.id);
    if (!cache) return buildCanvasNode(node, entry, usedPorts, autoPosition, decorations);
    const measured = decorations.measured?.get(node.id);
    const key = [
      node, entry, usedPorts.join(" "), autoPosition?.join(" "), problemsKey(problemsOfNode(problems, node.id)),
      decorations.selectedNodes?.has(node.id) ?? false, measured?.width, measured?.height, decorations.nodeRunStates?.[node.id], decorations.nodeRunNotes?.[node.id],
    ];
    const hit = cache.nodes.get(node.id);
    if (hit && sameKey(hit.key, key)) return hit.value;
    const value = buildCanvasNode(node, entry, usedPorts, autoPosition, decorations);
    cache.nodes.set(node.id, { key, value });
    return value;
  });
  const idsOfEdges = edgeIds(docEdges);
  const edges = docEdges.map((edge, index) => {
    const id = idsOfEdges[index];
    if (!cache) return buildCanvasEdge(edge, id, decorations);
    const key = [edge, problemsKey(problemsOfEdge(problems, edge)), decorations.selectedEdges?.has(id) ?? false, decorations.edgeCarried?.(edge, edgePort(edge)) ?? false];
    const hit = cache.edges.get(id);
    if (hit && sameKey(hit.key, key)) return hit.value;
    const value = buildCanvasEdge(edge, id, decorations);
    cache.edges.set(id, { key, value });
    return value;
  });
  if (cache) {
    for (const id of cache.nodes.keys()) if (!ids.has(id)) cache.nodes.delete(id);
    const liveEdges = new Set(idsOfEdges);
    for (const id of cache.edges.keys()) if (!liveEdges.has(id)) cache.edges.delete(id);
    if (sameItems(nodes, cache.lastNodes)) return { nodes: cache.lastNodes, edges: sameItems(edges, cache.lastEdges) ? cache.lastEdges : (cache.lastEdges = edges) };
    cache.lastNodes = nodes;
    if (sameItems(edges, cache.lastEdges)) return { nodes, edges: cache.lastEdges };
    cache.lastEdges = edges;
  }
  return { nodes, edges };
}

/** The document node a canvas node stands for, with the canvas position written back. */
function nodeFromCanvas(canvasNode: CanvasNode): DocNode {
  const { node, autoPosition } = canvasNode.data;
  const x = canvasNode.position.x;
  const y = canvasNode.position.y;
  if (autoPosition && autoPosition[0] === x && autoPosition[1] === y) return node;
  const position = node.position;
  if (Array.isArray(position) && position[0] === x && position[1] === y) return node;
  return { ...node, position: [x, y] };
}

/** The document edge a canvas edge stands for (a new edge when it was drawn on the canvas). */
function edgeFromCanvas(canvasEdge: CanvasEdge): DocEdge {
  const port = canvasEdge.sourceHandle || "main";
  const original = canvasEdge.data?.edge;
  if (original && original.from === canvasEdge.source && original.to === canvasEdge.target && edgePort(original) === port) return original;
  const edge: DocEdge = { from: canvasEdge.source, to: canvasEdge.target };
  if (port !== "main") edge.port = port;
  return edge;
}

/**
 * The document after the canvas changed: `doc` with its drawn nodes and edges replaced
 * by the canvas's (moved, removed, added). Everything the canvas does not draw stays
 * where it was; new nodes and edges go at the end. Unchanged nodes and edges keep their
 * identity, so a document converted and back is `===`-equal item by item.
 */
export function canvasToDocument(doc: WorkflowDocument, nodes: readonly CanvasNode[], edges: readonly CanvasEdge[]): WorkflowDocument {
  const canvasNodes = new Map(nodes.map((node) => [node.id, node]));
  const drawnIds = new Set(drawnNodes(doc).map((node) => node.id));
  const placed = new Set<string>();
  const outNodes: unknown[] = [];
  for (const value of nodesOf(doc)) {
    if (!isDrawableNode(value) || !drawnIds.has(value.id) || placed.has(value.id)) {
      outNodes.push(value); // not drawn (malformed, or a repeated id): kept as it is
      continue;
    }
    placed.add(value.id);
    const canvasNode = canvasNodes.get(value.id);
    if (canvasNode) outNodes.push(nodeFromCanvas(canvasNode));
  }
  for (const node of nodes) if (!placed.has(node.id)) outNodes.push(nodeFromCanvas(node));

  const docEdges = drawnEdges(doc, drawnIds);
  const drawnEdgeSet = new Set<unknown>(docEdges);
  const byId = new Map(edgeIds(docEdges).map((id, index) => [id, docEdges[index]]));
  const canvasEdges = new Map(edges.map((edge) => [edge.id, edge]));
  const keptIds = new Set(edges.map((edge) => edge.id));
  const liveNodes = new Set(nodes.map((node) => node.id));
  const outEdges: unknown[] = [];
  const idOf = new Map([...byId].map(([id, edge]) => [edge as unknown, id]));
  for (const value of edgesOf(doc)) {
    if (!drawnEdgeSet.has(value)) {
      // Not drawn: kept, unless it was malformed-free and its node was deleted on the canvas.
      if (isDocEdge(value) && (drawnIds.has(value.from) && !liveNodes.has(value.from) || drawnIds.has(value.to) && !liveNodes.has(value.to))) continue;
      outEdges.push(value);
      continue;
    }
    const id = idOf.get(value) as string;
    if (!keptIds.has(id)) continue;
    outEdges.push(edgeFromCanvas(canvasEdges.get(id) as CanvasEdge));
  }
  for (const edge of edges) if (!byId.has(edge.id)) outEdges.push(edgeFromCanvas(edge));

  const result: WorkflowDocument = { ...doc, nodes: outNodes as DocNode[] };
  if (doc.edges !== undefined || outEdges.length) result.edges = outEdges as DocEdge[];
  return result;
}
