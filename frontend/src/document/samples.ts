/**
 * Suggestions from what actually ran (issue 25, item 10 of the list): the paths inside the last run's
 * input and node outputs — a response body's fields included — offered next to the static catalog
 * paths, like n8n's schema view. Only nodes the static list already offers (upstream ones) are
 * expanded, so a sample never suggests reading a node that may not have run. Pure.
 */

export interface RunSamples {
  input?: unknown;
  /** Each node's output in the last run, by node id. */
  outputs: Record<string, unknown>;
}

const MAX_DEPTH = 4;
const MAX_PER_ROOT = 60;

function isPlainKey(key: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key);
}

/** The paths inside `value` under `prefix` (objects by key, a list by its first item), each with a short sample. */
export function samplePaths(value: unknown, prefix: string): { path: string; sample: string }[] {
  const found: { path: string; sample: string }[] = [];
  const walk = (item: unknown, path: string, depth: number) => {
    if (found.length >= MAX_PER_ROOT || depth > MAX_DEPTH) return;
    if (Array.isArray(item)) {
      if (item.length) {
        found.push({ path: `${path}.0`, sample: preview(item[0]) });
        walk(item[0], `${path}.0`, depth + 1);
      }
      return;
    }
    if (typeof item !== "object" || item === null) return;
    for (const [key, child] of Object.entries(item)) {
      if (!isPlainKey(key)) continue;
      found.push({ path: `${path}.${key}`, sample: preview(child) });
      walk(child, `${path}.${key}`, depth + 1);
    }
  };
  walk(value, prefix, 1);
  return found;
}

function preview(value: unknown): string {
  const text = JSON.stringify(value) ?? "null";
  return text.length > 40 ? `${text.slice(0, 39)}…` : text;
}

/**
 * The static paths with the run's paths added: after `input`, the paths inside the run's input;
 * after `nodes.X.output`, those inside X's output. Samples are returned for showing next to them.
 */
export function withRunPaths(paths: readonly string[], samples: RunSamples | null): { paths: string[]; samples: Map<string, string> } {
  const shown = new Map<string, string>();
  if (!samples) return { paths: [...paths], samples: shown };
  const taken = new Set(paths);
  const result: string[] = [];
  for (const path of paths) {
    result.push(path);
    let extra: { path: string; sample: string }[] = [];
    if (path === "input" && samples.input !== undefined) extra = samplePaths(samples.input, "input");
    const match = /^nodes\.([a-z][a-z0-9_]*)\.output$/.exec(path);
    if (match && match[1] in samples.outputs) extra = samplePaths(samples.outputs[match[1]], path);
    for (const item of extra) {
      shown.set(item.path, item.sample);
      if (taken.has(item.path)) continue;
      taken.add(item.path);
      result.push(item.path);
    }
  }
  return { paths: result, samples: shown };
}

/**
 * The text with the open expression's path replaced by the chosen one, the caret left right after
 * the path — inside the braces, where the next `.field` goes — and `{{ }}` spaced and closed.
 */
export function insertSuggestion(text: string, start: number, caret: number, path: string): { text: string; caret: number } {
  const after = text.slice(caret);
  const closed = /^[A-Za-z0-9_.]*\s*}}/.test(after);
  const rest = closed ? after.replace(/^[A-Za-z0-9_.]*/, "") : ` }}${after}`;
  const spaced = text[start - 1] === "{" ? " " : "";
  const next = text.slice(0, start) + spaced + path + (closed && !/^\s/.test(rest) ? ` ${rest}` : rest);
  return { text: next, caret: start + spaced.length + path.length };
}
