/** Graph questions the editor asks of a document: ancestors, fresh ids, default positions. */
import { edgesOf, isDrawableNode, isRecord, nodesOf, type DocNode, type Position, type WorkflowDocument } from "./types";

/** Edges as [from, to] pairs between string ids (malformed edges are skipped). */
function links(doc: WorkflowDocument): [string, string][] {
  const pairs: [string, string][] = [];
  for (const edge of edgesOf(doc)) {
    if (isRecord(edge) && typeof edge.from === "string" && typeof edge.to === "string") pairs.push([edge.from, edge.to]);
  }
  return pairs;
}

/** Ids of the nodes upstream of `nodeId` (its ancestors), nearest first. */
export function ancestors(doc: WorkflowDocument, nodeId: string): string[] {
  const parents = new Map<string, string[]>();
  for (const [from, to] of links(doc)) {
    const list = parents.get(to) ?? [];
    list.push(from);
    parents.set(to, list);
  }
  const seen = new Set<string>([nodeId]);
  const order: string[] = [];
  let frontier = [nodeId];
  while (frontier.length) {
    const next: string[] = [];
    for (const id of frontier) {
      for (const parent of parents.get(id) ?? []) {
        if (seen.has(parent)) continue;
        seen.add(parent);
        order.push(parent);
        next.push(parent);
      }
    }
    frontier = next;
  }
  return order;
}

/** A node id like `http_request` from a type like `http.request`, unique among `taken`. */
export function freshNodeId(type: string, taken: Set<string>): string {
  let base = type.toLowerCase().replace(/[^a-z0-9_]+/g, "_").replace(/^_+|_+$/g, "");
  if (!/^[a-z]/.test(base)) base = `node_${base}`;
  base = base.slice(0, 56) || "node";
  if (!taken.has(base)) return base;
  for (let n = 2; ; n++) {
    const id = `${base}_${n}`;
    if (!taken.has(id)) return id;
  }
}

export function nodeIds(doc: WorkflowDocument): Set<string> {
  return new Set(nodesOf(doc).filter(isDrawableNode).map((node) => node.id));
}

export const LAYOUT = { x0: 80, y0: 80, dx: 280, dy: 140 };

/**
 * Positions for nodes that have none: columns by longest distance from a root, rows in
 * document order. Nodes with a position keep it. Pure; cycles are cut where they close.
 */
export function defaultPositions(doc: WorkflowDocument): Map<string, Position> {
  const nodes = nodesOf(doc).filter(isDrawableNode);
  const missing = nodes.filter((node) => !hasPosition(node));
  const result = new Map<string, Position>();
  if (!missing.length) return result;
  const ids = new Set(nodes.map((node) => node.id));
  const parents = new Map<string, string[]>();
  for (const [from, to] of links(doc)) {
    if (!ids.has(from) || !ids.has(to)) continue;
    parents.set(to, [...(parents.get(to) ?? []), from]);
  }
  const depth = new Map<string, number>();
  const visiting = new Set<string>();
  const depthOf = (id: string): number => {
    const known = depth.get(id);
    if (known !== undefined) return known;
    if (visiting.has(id)) return 0;
    visiting.add(id);
    let d = 0;
    for (const parent of parents.get(id) ?? []) d = Math.max(d, depthOf(parent) + 1);
    visiting.delete(id);
    depth.set(id, d);
    return d;
  };
  const rows = new Map<number, number>();
  // Positioned nodes may sit anywhere; start the generated block below them.
  let top = LAYOUT.y0;
  for (const node of nodes) if (hasPosition(node)) top = Math.max(top, (node.position as number[])[1] + LAYOUT.dy);
  for (const node of missing) {
    const column = depthOf(node.id);
    const row = rows.get(column) ?? 0;
    rows.set(column, row + 1);
    result.set(node.id, [LAYOUT.x0 + column * LAYOUT.dx, top + row * LAYOUT.dy]);
  }
  return result;
}

export function hasPosition(node: DocNode): boolean {
  const position = node.position;
  return Array.isArray(position) && position.length === 2 && position.every((value) => typeof value === "number" && Number.isFinite(value));
}

/** `wanted`, or the first spot down and to the right of it that no node's corner sits close to. */
export function freePosition(doc: WorkflowDocument, wanted: Position): Position {
  const corners = nodesOf(doc).filter(isDrawableNode).filter(hasPosition).map((node) => node.position as number[]);
  let [x, y] = wanted;
  for (let step = 0; step < 50 && corners.some(([cx, cy]) => Math.abs(cx - x) < 30 && Math.abs(cy - y) < 30); step++) {
    x += 40;
    y += 40;
  }
  return [x, y];
}
