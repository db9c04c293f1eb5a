/**
 * Breakpoints are the editor's, not the document's: each browser keeps them per workflow (localStorage),
 * and a debug run sends them in its request (DEBUGGING.md `debug.breakpoints`).
 */
import { useSyncExternalStore } from "react";
import { toggled } from "../../document/debugging";

const NONE: readonly string[] = [];
const listeners = new Set<() => void>();
const cache = new Map<string, readonly string[]>();
const key = (workflowId: string) => `nodeflow:breakpoints:${workflowId}`;

export function breakpointsOf(workflowId: string): readonly string[] {
  let list = cache.get(workflowId);
  if (!list) {
    let stored: unknown = [];
    try {
      stored = JSON.parse(localStorage.getItem(key(workflowId)) ?? "[]");
    } catch {
      stored = [];
    }
    list = Array.isArray(stored) ? stored.filter((item): item is string => typeof item === "string") : NONE;
    cache.set(workflowId, list);
  }
  return list;
}

export function toggleBreakpoint(workflowId: string, nodeId: string): void {
  const next = toggled(breakpointsOf(workflowId), nodeId);
  cache.set(workflowId, next);
  try {
    localStorage.setItem(key(workflowId), JSON.stringify(next));
  } catch {
    // a private window without storage keeps them for this page only
  }
  listeners.forEach((listener) => listener());
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The workflow's breakpoints; re-renders when they change. */
export function useBreakpoints(workflowId: string | undefined): readonly string[] {
  return useSyncExternalStore(subscribe, () => (workflowId ? breakpointsOf(workflowId) : NONE));
}
