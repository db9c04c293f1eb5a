/**
 * Child executions over the API (COMPOSITION.md, API.md): `GET /executions/?parent=&node_id=&status=`
 * lists one parent's children ordered by index; an execution carries `children` counts, and a
 * child its `parent: {execution_id, node_id, index}`.
 */
import { request } from "../../api/client";
import type { Execution, Paginated } from "../../api/types";
import type { ChildCounts } from "./progress";

export interface ParentLink {
  execution_id: string;
  node_id: string;
  /** The iteration of a loop; null for a group or a sub-workflow call. */
  index: number | null;
}

/** An execution with the composition fields (optional: an older server does not send them). */
export type ComposedExecution = Execution & { parent?: ParentLink | null; children?: ChildCounts | null };

export const CHILD_STATUSES = ["queued", "running", "paused", "succeeded", "failed", "cancelled", "timed_out"] as const;

export interface ChildQuery {
  nodeId?: string;
  status?: string;
  limit?: number;
  offset?: number;
}

export function childrenUrl(parentId: string, query: ChildQuery = {}): string {
  const params = new URLSearchParams({ parent: parentId, limit: String(query.limit ?? 20) });
  if (query.nodeId) params.set("node_id", query.nodeId);
  if (query.status) params.set("status", query.status);
  if (query.offset) params.set("offset", String(query.offset));
  return `executions/?${params}`;
}

export function listChildren(parentId: string, query: ChildQuery = {}): Promise<Paginated<ComposedExecution>> {
  return request<Paginated<ComposedExecution>>("GET", childrenUrl(parentId, query));
}

export function getExecution(id: string): Promise<ComposedExecution> {
  return request<ComposedExecution>("GET", `executions/${id}/`);
}

/** A child's link to its parent (null for a top-level execution). */
export function parentOf(execution: Execution | null | undefined): ParentLink | null {
  const parent = (execution as ComposedExecution | null | undefined)?.parent;
  return parent && typeof parent.execution_id === "string" ? parent : null;
}
