/** The global variables API (COMPOSITION.md "Variables beyond one run"), as the Variables page uses it. */
import { request } from "../api/client";
import type { Paginated } from "../api/types";

export interface Variable {
  key: string;
  value: unknown;
  version: number;
  created_at: string;
  updated_at: string;
}

export interface VariableChange {
  id: number;
  key: string;
  op: string;
  old: unknown;
  new: unknown;
  old_version: number;
  new_version: number;
  execution_id: string | null;
  node_id: string;
  user: string | null;
  at: string;
  triggers: "none" | "pending" | "done";
  started: string[];
  trigger_error: string;
}

const path = (key: string) => `variables/${encodeURIComponent(key)}`;

export const variablesApi = {
  list: (options: { search?: string; prefix?: string; limit?: number; offset?: number } = {}) => {
    const query = new URLSearchParams({ limit: String(options.limit ?? 500) });
    if (options.offset) query.set("offset", String(options.offset));
    if (options.search) query.set("search", options.search);
    if (options.prefix) query.set("prefix", options.prefix);
    return request<Paginated<Variable>>("GET", `variables/?${query}`);
  },
  get: (key: string) => request<Variable>("GET", path(key)),
  /** Writes the value; with `expectedVersion`, only when the key is still at it (else 409 `conflict`). */
  put: (key: string, value: unknown, expectedVersion?: number) =>
    request<Variable>("PUT", path(key), expectedVersion === undefined ? { value } : { value, expected_version: expectedVersion }),
  remove: (key: string) => request<void>("DELETE", path(key)),
  history: (key: string, limit = 50) => request<Paginated<VariableChange>>("GET", `${path(key)}/history/?limit=${limit}`),
};
