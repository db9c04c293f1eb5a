/**
 * A debug run paused at a breakpoint, in the run inspector: where it waits, the context at that point
 * (after the last node that finished) and its variables, editable (PATCH …/vars/, DEBUGGING.md).
 */
import { useEffect, useRef, useState } from "react";
import { api } from "../../api/client";
import type { WatchedExecution } from "../../executions/useExecution";
import { Button } from "../../ui/Button";
import { JsonTree } from "../../ui/JsonTree";
import { toast } from "../../ui/overlays";
import { NodeTitle } from "../NodeTitle";
import { debugApi } from "./debugApi";

export function pausedAt(execution: Record<string, unknown> | null | undefined): string[] {
  const at = execution?.paused_at;
  return execution?.status === "paused" && Array.isArray(at) ? at.filter((id): id is string => typeof id === "string") : [];
}

/**
 * Where a paused debug run waits: the live stream says that it paused and which nodes wait; the
 * execution's detail says which of them wait at a breakpoint (paused_at), asked for at each pause
 * with a node waiting (a plain pause holds none, and the page asks nothing more than the stream).
 */
export function usePausedAt(live: WatchedExecution): string[] {
  const execution = live.execution as Record<string, unknown> | null;
  const id = execution ? String(execution.id) : "";
  const status = execution ? String(execution.status) : "";
  const waiting = Object.values(live.nodes).filter((run) => run.status === "waiting").map((run) => run.node_id).sort().join(",");
  const [fetched, setFetched] = useState<{ key: string; at: string[] } | null>(null);
  const key = `${id}:${status}:${waiting}`;
  useEffect(() => {
    if (status !== "paused" || !id || !waiting) return;
    let cancelled = false;
    api.executions.get(id).then((detail) => !cancelled && setFetched({ key, at: pausedAt(detail as Record<string, unknown>) }), () => undefined);
    return () => {
      cancelled = true;
    };
  }, [id, status, key]);
  if (status !== "paused" || !waiting) return [];
  return fetched?.key === key ? fetched.at : pausedAt(execution);
}

export function PausedPanel({ executionId, live }: { executionId: string; live: WatchedExecution }) {
  const at = usePausedAt(live);
  const key = at.join(",");
  const [context, setContext] = useState<Record<string, unknown> | null>(null);
  const [text, setText] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  // Typed variables not applied yet are the user's: a context that arrives later does not overwrite them.
  const typed = useRef(false);
  useEffect(() => {
    if (!key) return;
    let cancelled = false;
    api.executions.globalContext(executionId).then((answer) => {
      if (cancelled) return;
      const value = ((answer as { context?: unknown }).context ?? {}) as Record<string, unknown>;
      setContext(value);
      if (!typed.current) setText(JSON.stringify(value.vars ?? {}, null, 2));
    }, () => undefined);
    return () => {
      cancelled = true;
    };
  }, [executionId, key]);
  if (!at.length) return null;
  const apply = async () => {
    let vars: unknown;
    try {
      vars = JSON.parse(text);
    } catch (reason) {
      setProblem(`Not valid JSON: ${reason instanceof Error ? reason.message : reason}`);
      return;
    }
    if (!vars || typeof vars !== "object" || Array.isArray(vars) || !Object.keys(vars).length) {
      setProblem("The variables are a JSON object with at least one key.");
      return;
    }
    setProblem(null);
    try {
      await debugApi.editVars(executionId, vars as Record<string, unknown>);
      typed.current = false;
      toast("Variables changed: the paused nodes start with them.");
    } catch (reason) {
      setProblem(reason instanceof Error ? reason.message : String(reason));
    }
  };
  return (
    <section className="nf-paused" aria-label="Paused at a breakpoint" data-testid="paused-panel">
      <h3 className="nf-panel-subtitle">Paused before {at.map((id, index) => <span key={id}>{index ? ", " : ""}<NodeTitle id={id} /></span>)}</h3>
      <label className="nf-field-label" htmlFor="nf-paused-vars">Variables (edit, then apply)</label>
      <textarea id="nf-paused-vars" className="nf-input nf-code-input" rows={5} spellCheck={false} value={text}
        onChange={(event) => {
          typed.current = true;
          setText(event.target.value);
        }} aria-invalid={problem ? true : undefined} />
      {problem && <p className="nf-field-error" role="alert">{problem}</p>}
      <Button size="small" onClick={() => void apply()}>Apply variables</Button>
      {context && <JsonTree value={context} root="context" label="Context at this point" />}
    </section>
  );
}
