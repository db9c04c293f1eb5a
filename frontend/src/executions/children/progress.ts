/**
 * A composite node's children in the run view (COMPOSITION.md): how many there are and how many
 * succeeded, failed, are running or queued, by node id of the execution being watched.
 */
import { createContext, useContext } from "react";

export interface ChildCounts {
  total: number;
  succeeded: number;
  failed: number;
  running: number;
  queued: number;
}

export const ChildProgressContext = createContext<Readonly<Record<string, ChildCounts>>>({});

export function useChildCounts(nodeId: string): ChildCounts | undefined {
  return useContext(ChildProgressContext)[nodeId];
}

/** What a progress line says: "37 / 100 done · 2 failed · 5 running". */
export function progressText(counts: ChildCounts): string {
  const done = counts.succeeded + counts.failed;
  const parts = [`${done} / ${counts.total} done`];
  if (counts.failed) parts.push(`${counts.failed} failed`);
  if (counts.running) parts.push(`${counts.running} running`);
  return parts.join(" · ");
}

/** The share of children finished, 0..1 (0 with none). */
export function progressShare(counts: ChildCounts): number {
  return counts.total ? (counts.succeeded + counts.failed) / counts.total : 0;
}
