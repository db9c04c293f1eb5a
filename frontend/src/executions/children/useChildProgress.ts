/**
 * The run view's counts of each group's or loop's children, live: the snapshot's node runs carry
 * them, and each child's end adds a NODE_PROGRESS event with the new counts to the parent's stream
 * (live.ts keeps them on the node). A node that started before any child ended (counts not heard
 * yet) has them asked for once per state it shows.
 */
import { useEffect, useMemo, useState } from "react";
import { api } from "../../api/client";
import { bodyOf } from "../../document/groups";
import { isDrawableNode, nodesOf, type WorkflowDocument } from "../../document/types";
import type { LiveState, NodeRunSummary } from "../live";
import type { ChildCounts } from "./progress";

/** The top-level nodes of `doc` that run a body (groups and loops): their frames show progress. */
export function progressNodes(doc: WorkflowDocument | undefined): string[] {
  if (!doc) return [];
  return nodesOf(doc).filter((node) => isDrawableNode(node) && bodyOf(node)).map((node) => (node as { id: string }).id);
}

function started(run: NodeRunSummary | undefined): boolean {
  return Boolean(run && run.status !== "pending" && run.status !== "queued" && run.status !== "skipped");
}

/** Counts by node: what the live state holds, else `fetched`. */
export function childCountsOf(live: LiveState, ids: readonly string[], fetched: Readonly<Record<string, ChildCounts>> = {}): Record<string, ChildCounts> {
  const counts: Record<string, ChildCounts> = {};
  for (const id of ids) {
    const value = live.nodes[id]?.children ?? fetched[id];
    if (value) counts[id] = value;
  }
  return counts;
}

/** Nodes started with no counts heard, with their state: what to ask the server about ("" for none). */
export function missingKey(live: LiveState, ids: readonly string[]): string {
  return ids.filter((id) => started(live.nodes[id]) && !live.nodes[id]?.children).map((id) => `${id}:${live.nodes[id]?.status}`).join(" ");
}

export function useChildProgress(executionId: string | undefined, live: LiveState, doc: WorkflowDocument | undefined): Record<string, ChildCounts> {
  const ids = useMemo(() => progressNodes(doc), [doc]);
  const [fetched, setFetched] = useState<Record<string, ChildCounts>>({});
  const missing = missingKey(live, ids);
  useEffect(() => {
    if (!executionId || !missing) return;
    let cancelled = false;
    api.executions.nodes(executionId).then((runs) => {
      if (cancelled) return;
      const found: Record<string, ChildCounts> = {};
      for (const run of runs) if (run.children) found[run.node_id] = run.children;
      setFetched((current) => ({ ...current, ...found }));
    }, () => undefined);
    return () => {
      cancelled = true;
    };
  }, [executionId, missing]);
  const nodes = live.nodes;
  return useMemo(() => childCountsOf({ ...live, nodes }, ids, fetched), [nodes, ids, fetched]); // eslint-disable-line react-hooks/exhaustive-deps
}
