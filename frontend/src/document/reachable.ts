/**
 * Run with problems (issue 25): which nodes a manual run leaves out — those no trigger leads to —
 * and whether the draft can run at all (every problem lies in a node left out). The server decides
 * the same way (engine/reachable.py); this lets the editor say so before the run. Pure.
 */
import { edgesOf, isDrawableNode, isRecord, nodesOf, type Problem, type WorkflowDocument } from "./types";

/** Ids of the nodes reachable from the trigger nodes along the edges. */
export function reachableFromTriggers(doc: WorkflowDocument, isTrigger: (type: string) => boolean): Set<string> {
  const nodes = nodesOf(doc).filter(isDrawableNode);
  const successors = new Map<string, string[]>();
  for (const edge of edgesOf(doc)) {
    if (!isRecord(edge) || typeof edge.from !== "string" || typeof edge.to !== "string") continue;
    successors.set(edge.from, [...(successors.get(edge.from) ?? []), edge.to]);
  }
  const seen = new Set(nodes.filter((node) => isTrigger(node.type)).map((node) => node.id));
  const stack = [...seen];
  while (stack.length) {
    for (const next of successors.get(stack.pop()!) ?? []) {
      if (!seen.has(next)) {
        seen.add(next);
        stack.push(next);
      }
    }
  }
  return seen;
}

export interface Runnable {
  /** Whether a manual run can start: no problems, or all of them in nodes it leaves out. */
  runnable: boolean;
  /** The nodes a run leaves out (empty when the draft has no problems: then everything is run). */
  leftOut: string[];
}

export function runnablePart(doc: WorkflowDocument, problems: readonly Problem[], isTrigger: (type: string) => boolean): Runnable {
  if (!problems.length) return { runnable: true, leftOut: [] };
  const reached = reachableFromTriggers(doc, isTrigger);
  const leftOut = nodesOf(doc).filter(isDrawableNode).map((node) => node.id).filter((id) => !reached.has(id));
  const outside = new Set(leftOut);
  const runnable = reached.size > 0 && leftOut.length > 0 && problems.every((problem) => typeof problem.node_id === "string" && outside.has(problem.node_id));
  return { runnable, leftOut: runnable ? leftOut : [] };
}

/**
 * The nodes of the draft a run left out, when what ran is the draft without them (and their edges);
 * null when the run's document differs otherwise (then it ran another revision).
 */
export function leftOutOfRun(ran: WorkflowDocument, draft: WorkflowDocument, same: (a: unknown, b: unknown) => boolean): string[] | null {
  const ranIds = new Set(nodesOf(ran).filter(isDrawableNode).map((node) => node.id));
  const leftOut = nodesOf(draft).filter(isDrawableNode).map((node) => node.id).filter((id) => !ranIds.has(id));
  if (!leftOut.length) return null;
  const dropped = new Set(leftOut);
  const pruned = {
    ...draft,
    nodes: nodesOf(draft).filter((node) => !(isDrawableNode(node) && dropped.has(node.id))),
    edges: edgesOf(draft).filter((edge) => !(isRecord(edge) && (dropped.has(edge.from as string) || dropped.has(edge.to as string)))),
  };
  return same(pruned, ran) ? leftOut : null;
}
