/** Where in a node's form the server's problems belong. */
import type { Problem } from "../document/types";

/**
 * A problem's field path relative to the node's params ("url", "cases.0.name"), or null
 * when it is about the node as a whole. A missing required param (`… needs 'url'`) is
 * about that param.
 */
export function paramPath(problem: Problem): string | null {
  const match = /^nodes\[\d+\]\.params(.*)$/.exec(problem.path ?? "");
  if (!match) return null;
  const rest = match[1].replace(/\[(\d+)\]/g, ".$1").replace(/^\./, "");
  if (rest) return rest;
  const needs = /needs '([^']+)'/.exec(problem.message);
  return needs ? needs[1] : null;
}

/** A lookup of messages by field path, for the form. */
export function messageLookup(problems: readonly Problem[]): (path: string, deep: boolean) => string[] | undefined {
  const byPath = new Map<string, string[]>();
  for (const problem of problems) {
    const path = paramPath(problem);
    if (path !== null) byPath.set(path, [...(byPath.get(path) ?? []), problem.message]);
  }
  return (path, deep) => {
    const found: string[] = [];
    for (const [key, messages] of byPath) {
      if (key === path || (deep && key.startsWith(`${path}.`))) found.push(...messages);
    }
    return found.length ? found : undefined;
  };
}

/**
 * A problem's message as the node it is shown on reads it: without the "http.request v1:
 * nodes[1].params" prefix the server adds to say where (the canvas shows where).
 */
export function shortMessage(problem: Problem): string {
  const rest = problem.message.replace(/^[\w.-]+ v\d+: nodes\[\d+\]\.params(?:\.|\s)?/, "");
  if (rest === problem.message || !rest) return problem.message;
  return rest.charAt(0).toUpperCase() + rest.slice(1);
}
