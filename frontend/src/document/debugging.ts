/**
 * Debugging a workflow (DEBUGGING.md), as pure edits of the document and small rules: pins (a node
 * of a draft run completes with its pinned output instead of running) and test cases made from a run.
 */
import { isRecord, type WorkflowDocument } from "./types";

export type Pins = Record<string, unknown>;

export interface TestCase {
  name: string;
  input?: unknown;
  pins?: Pins;
  expect: { status?: string; result?: unknown; nodes?: Record<string, { status?: string; output?: unknown }>; assert?: unknown[] };
  max_steps?: number;
}

/** The document's pins ({} when it has none). */
export function pinsOf(doc: WorkflowDocument): Pins {
  const pins = (doc as Record<string, unknown>).pins;
  return isRecord(pins) ? pins : {};
}

/** The pin of a node's output: the output itself, or `{port, output}` when it left by another port than main. */
export function pinFor(output: unknown, ports: readonly string[] | undefined): unknown {
  const port = ports && ports.length === 1 ? ports[0] : "main";
  return port === "main" ? output : { port, output };
}

/** The document with `nodeId` pinned to `pin`. */
export function withPin(doc: WorkflowDocument, nodeId: string, pin: unknown): WorkflowDocument {
  return { ...doc, pins: { ...pinsOf(doc), [nodeId]: pin } } as WorkflowDocument;
}

/** The document without the pin of `nodeId` (and without `pins` once none is left). */
export function withoutPin(doc: WorkflowDocument, nodeId: string): WorkflowDocument {
  const rest = { ...pinsOf(doc) };
  if (!(nodeId in rest)) return doc;
  delete rest[nodeId];
  const next = { ...doc } as Record<string, unknown>;
  if (Object.keys(rest).length) next.pins = rest;
  else delete next.pins;
  return next as WorkflowDocument;
}

/** The document's test cases. */
export function testsOf(doc: WorkflowDocument): TestCase[] {
  const tests = (doc as Record<string, unknown>).tests;
  return Array.isArray(tests) ? (tests.filter((item) => isRecord(item)) as unknown as TestCase[]) : [];
}

/** A test case from a finished run: its input, and its status and result as what is expected. */
export function caseFromRun(run: { input?: unknown; status?: unknown; result?: unknown }, taken: readonly string[]): TestCase {
  let number = taken.length + 1;
  while (taken.includes(`case ${number}`)) number += 1;
  const expect: TestCase["expect"] = { status: String(run.status ?? "succeeded") };
  if (run.result !== undefined && run.result !== null) expect.result = run.result;
  return { name: `case ${number}`, input: run.input ?? {}, expect };
}

/** The document with `test` added to its tests. */
export function withTestCase(doc: WorkflowDocument, test: TestCase): WorkflowDocument {
  return { ...doc, tests: [...testsOf(doc), test] } as WorkflowDocument;
}

/** The document without the test case named `name`. */
export function withoutTestCase(doc: WorkflowDocument, name: string): WorkflowDocument {
  const rest = testsOf(doc).filter((test) => test.name !== name);
  const next = { ...doc } as Record<string, unknown>;
  if (rest.length) next.tests = rest;
  else delete next.tests;
  return next as WorkflowDocument;
}

/** The list with `id` added, or removed when it is there. */
export function toggled(list: readonly string[], id: string): string[] {
  return list.includes(id) ? list.filter((item) => item !== id) : [...list, id];
}

/** The node a "re-run with the current draft" starts at: the first node that failed in the run. */
export function failedNode(runs: readonly { node_id: string; status: string; started_at?: string | null }[]): string | null {
  const failed = runs.filter((run) => run.status === "failed");
  failed.sort((a, b) => String(a.started_at ?? "").localeCompare(String(b.started_at ?? "")));
  return failed[0]?.node_id ?? null;
}
