/**
 * The run inspector's part for a composite node: a loop's iterations (paged, filtered by status),
 * each opening its child run; a group's or a sub-workflow's child run. A child run opens in the
 * same execution view as any run (its own node table, context and logs).
 */
import { useEffect, useState } from "react";
import { Link } from "../../app/router";
import { Button } from "../../ui/Button";
import { formatDuration } from "../live";
import { CHILD_STATUSES, listChildren, type ComposedExecution } from "./api";
import { progressText, useChildCounts } from "./progress";
import "../../styles/composition.css";

export const ITERATIONS_PAGE = 20;
/** While the node runs, its children are asked for again this often. */
const REFRESH_MS = 1500;

const COMPOSITE_TYPES = new Set(["flow.foreach", "flow.group", "flow.subworkflow"]);

export function isComposite(type: string | undefined): boolean {
  return Boolean(type && COMPOSITE_TYPES.has(type));
}

function childRoute(child: ComposedExecution) {
  return { name: "execution" as const, workflowId: String(child.workflow), executionId: String(child.id) };
}

function StatusChip({ status }: { status: string }) {
  return <span className={`nf-status nf-status--${status}`} data-status={status}>{status}</span>;
}

export function ChildRuns({ executionId, nodeId, type, active }: { executionId: string; nodeId: string; type: string | undefined; active: boolean }) {
  if (type === "flow.foreach") return <Iterations executionId={executionId} nodeId={nodeId} active={active} />;
  return <ChildRun executionId={executionId} nodeId={nodeId} active={active} />;
}

/** A page of a node's children, asked for again while `active` (the node still runs). */
function useChildren(executionId: string, nodeId: string, status: string, offset: number, limit: number, active: boolean) {
  const [page, setPage] = useState<{ count: number; results: ComposedExecution[] } | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let cancelled = false;
    let timer = 0;
    const load = () => {
      listChildren(executionId, { nodeId, status: status || undefined, offset, limit }).then(
        (answer) => {
          if (cancelled) return;
          setPage({ count: answer.count, results: answer.results });
          setError(null);
          if (active) timer = window.setTimeout(load, REFRESH_MS);
        },
        (reason: Error) => !cancelled && setError(reason.message),
      );
    };
    load();
    return () => {
      cancelled = true;
      window.clearTimeout(timer);
    };
  }, [executionId, nodeId, status, offset, limit, active]);
  return { page, error };
}

function Iterations({ executionId, nodeId, active }: { executionId: string; nodeId: string; active: boolean }) {
  const [status, setStatus] = useState("");
  const [offset, setOffset] = useState(0);
  const counts = useChildCounts(nodeId);
  const { page, error } = useChildren(executionId, nodeId, status, offset, ITERATIONS_PAGE, active);
  const count = page?.count ?? 0;
  return (
    <section className="nf-iterations" aria-label="Iterations" data-testid="iterations">
      <div className="nf-iterations-head">
        <h3 className="nf-panel-subtitle">Iterations</h3>
        {counts && <span className="nf-muted nf-small" data-testid="iterations-progress">{progressText(counts)}</span>}
        <select className="nf-input nf-input--small" aria-label="Show iterations" value={status}
          onChange={(event) => {
            setStatus(event.target.value);
            setOffset(0);
          }}>
          <option value="">All</option>
          {CHILD_STATUSES.map((name) => <option key={name} value={name}>{name}</option>)}
        </select>
      </div>
      {error && <p className="nf-field-error" role="alert">{error}</p>}
      {!page && !error && <p className="nf-muted"><span className="nf-spinner" /> Loading…</p>}
      {page && (page.results.length ? (
        <table>
          <thead><tr><th>#</th><th>Status</th><th>Duration</th><th /></tr></thead>
          <tbody>
            {page.results.map((child) => (
              <tr key={String(child.id)} data-iteration={child.parent?.index ?? ""}>
                <td className="nf-num">{child.parent?.index ?? "—"}</td>
                <td><StatusChip status={String(child.status)} /></td>
                <td>{formatDuration(child.duration_ms as number | null) || "—"}</td>
                <td><Link to={childRoute(child)} className="nf-link-button">Open run</Link></td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : <p className="nf-muted nf-small">{status ? `No ${status} iteration.` : "No iteration yet."}</p>)}
      {count > ITERATIONS_PAGE && (
        <div className="nf-iterations-pages">
          <Button size="small" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - ITERATIONS_PAGE))}>Previous</Button>
          <span className="nf-muted nf-small" data-testid="iterations-page">{offset + 1}–{Math.min(count, offset + ITERATIONS_PAGE)} of {count}</span>
          <Button size="small" disabled={offset + ITERATIONS_PAGE >= count} onClick={() => setOffset(offset + ITERATIONS_PAGE)}>Next</Button>
        </div>
      )}
    </section>
  );
}

function ChildRun({ executionId, nodeId, active }: { executionId: string; nodeId: string; active: boolean }) {
  const { page, error } = useChildren(executionId, nodeId, "", 0, 5, active);
  return (
    <section className="nf-iterations" aria-label="Child run" data-testid="child-run">
      <h3 className="nf-panel-subtitle">Child run</h3>
      {error && <p className="nf-field-error" role="alert">{error}</p>}
      {page && !page.results.length && <p className="nf-muted nf-small">Not started yet.</p>}
      {page?.results.map((child) => (
        <p key={String(child.id)} className="nf-iterations-head">
          <StatusChip status={String(child.status)} />
          <Link to={childRoute(child)} className="nf-link-button">Open the child run</Link>
        </p>
      ))}
    </section>
  );
}
