/**
 * Above a child run: the way back to its parents, outermost first — each parent run, and the
 * node of it (with the iteration) that ran this child. A parent node's link opens the parent run
 * with that node selected (`#node=` on its URL, see `useNodeFromHash`).
 */
import { useEffect, useRef, useState, type MouseEvent } from "react";
import { Link, urlOf } from "../../app/router";
import type { Execution } from "../../api/types";
import type { EditorStore } from "../../editor/store";
import { getExecution, parentOf, type ComposedExecution, type ParentLink } from "./api";

export { parentOf };
import "../../styles/composition.css";

/** Parents are followed at most this far (the call-depth limit is 10). */
const MAX_PARENTS = 12;

interface Crumb {
  link: ParentLink;
  parent: ComposedExecution;
}

export function Breadcrumb({ execution }: { execution: Execution | null }) {
  const first = parentOf(execution);
  const [crumbs, setCrumbs] = useState<Crumb[] | null>(null);
  const firstId = first?.execution_id;
  useEffect(() => {
    if (!first) return;
    let cancelled = false;
    (async () => {
      const found: Crumb[] = [];
      let link: ParentLink | null = first;
      while (link && found.length < MAX_PARENTS) {
        const parent = await getExecution(link.execution_id);
        found.unshift({ link, parent });
        link = parentOf(parent);
      }
      if (!cancelled) setCrumbs(found);
    })().catch(() => !cancelled && setCrumbs([]));
    return () => {
      cancelled = true;
    };
    // first is followed by its id
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [firstId]);
  if (!first) return null;
  return (
    <nav className="nf-breadcrumb" aria-label="Parent runs" data-testid="breadcrumb">
      <span className="nf-muted">Child run of</span>
      {(crumbs ?? [{ link: first, parent: null }]).map(({ link, parent }, index) => {
        const route = parent ? { name: "execution" as const, workflowId: String(parent.workflow), executionId: link.execution_id } : null;
        return (
          <span key={`${link.execution_id}:${index}`} className="nf-breadcrumb-item">
            {index > 0 && <span className="nf-breadcrumb-sep"> › </span>}
            {route ? <Link to={route} data-crumb="run">run {link.execution_id.slice(0, 8)}</Link> : <span>run {link.execution_id.slice(0, 8)}</span>}
            <span className="nf-breadcrumb-sep"> › </span>
            {route ? <a href={`${urlOf(route)}#node=${encodeURIComponent(link.node_id)}`} data-crumb="node" onClick={(event) => onNodeLink(event, route, link.node_id)}>node {link.node_id}</a> : <span>node {link.node_id}</span>}
            {link.index !== null && link.index !== undefined && <span className="nf-muted"> · iteration {link.index}</span>}
          </span>
        );
      })}
    </nav>
  );
}

function onNodeLink(event: MouseEvent<HTMLAnchorElement>, route: { name: "execution"; workflowId: string; executionId: string }, nodeId: string) {
  if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  window.history.pushState(null, "", `${urlOf(route)}#node=${encodeURIComponent(nodeId)}`);
  window.dispatchEvent(new PopStateEvent("popstate"));
}

/**
 * Selects the node named by the URL's `#node=` once the run view opens (a breadcrumb's parent
 * node); going from one run to another (a parent, an iteration) drops the other run's selection.
 */
export function useNodeFromHash(store: EditorStore, executionId: string | undefined) {
  const previous = useRef(executionId);
  useEffect(() => {
    const before = previous.current;
    previous.current = executionId;
    if (!executionId) return;
    const match = /^#node=(.+)$/.exec(window.location.hash);
    if (match) store.select([decodeURIComponent(match[1])]);
    else if (before && before !== executionId) store.select([], []);
  }, [store, executionId]);
}
