/**
 * The NodeFlow REST API, as the editor uses it: session auth with Django's CSRF token,
 * JSON in and out, errors as ApiError with the API's `{error: {code, message, details}}`.
 * Views added later (executions, live updates) extend `api` here.
 */
import { appConfig } from "../app/config";
import type {
  Execution,
  ExecutionContext,
  ExecutionDefinition,
  ImportedWorkflow,
  ImportFormat,
  Listening,
  NodeTypeEntry,
  Paginated,
  SavedWorkflow,
  ValidationResult,
  VersionDetail,
  Version,
  Workflow,
  WorkflowDocument,
} from "./types";
import type { NodeRunDetail, NodeRunSummary } from "../executions/live";

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: unknown;

  constructor(status: number, code: string, message: string, details: unknown = null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

/** Django's CSRF token: the `csrftoken` cookie, else the one the page carries. */
export function csrfToken(): string {
  const cookie = document.cookie.split(";").map((part) => part.trim()).find((part) => part.startsWith("csrftoken="));
  if (cookie) return decodeURIComponent(cookie.slice("csrftoken=".length));
  return document.querySelector<HTMLMetaElement>('meta[name="csrf-token"]')?.content ?? "";
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

function toLogin(): void {
  const { loginUrl } = appConfig();
  window.location.assign(`${loginUrl}?next=${encodeURIComponent(window.location.pathname + window.location.search)}`);
}

export async function request<T>(method: string, path: string, body?: unknown, init: RequestInit = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (!SAFE_METHODS.has(method)) headers["X-CSRFToken"] = csrfToken();
  let response: Response;
  try {
    response = await fetch(appConfig().apiRoot + path, {
      ...init,
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") throw error;
    throw new ApiError(0, "network_error", "NodeFlow cannot be reached; check your connection.");
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let data: unknown = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: reported below
  }
  if (response.ok) return data as T;
  const error = (data as { error?: { code?: string; message?: string; details?: unknown } } | null)?.error;
  if (response.status === 403 && !error) {
    // Django's CSRF refusal (an HTML page): the session changed under this page.
    throw new ApiError(403, "csrf_failed", "Your session changed (signed out or in elsewhere?): reload the page to continue.");
  }
  if (response.status === 401 || (response.status === 403 && error?.code === "not_authenticated")) {
    toLogin();
  }
  throw new ApiError(response.status, error?.code ?? "http_error", error?.message ?? `The server answered ${response.status}.`, error?.details ?? null);
}

export interface SaveBody {
  name?: string;
  definition: WorkflowDocument;
  /** The revision the draft was edited on: a save over a newer one is refused (409 `revision_conflict`). */
  revision?: number;
}

export const api = {
  nodeTypes: () => request<NodeTypeEntry[]>("GET", "node-types/"),
  /** The JSON Schema of workflow documents (served outside the API root). */
  documentSchema: async (): Promise<Record<string, unknown>> => {
    const response = await fetch(appConfig().documentSchemaUrl, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!response.ok) throw new ApiError(response.status, "http_error", `The document schema answered ${response.status}.`);
    return response.json();
  },
  workflows: {
    list: (limit = 500, offset = 0) => request<Paginated<Workflow>>("GET", `workflows/?limit=${limit}&offset=${offset}`),
    get: (id: string) => request<Workflow>("GET", `workflows/${id}/`),
    create: (body: { name?: string; definition?: WorkflowDocument }) => request<SavedWorkflow>("POST", "workflows/", body),
    save: (id: string, body: SaveBody) => request<SavedWorkflow>("PUT", `workflows/${id}/`, body),
    rename: (id: string, name: string) => request<SavedWorkflow>("PATCH", `workflows/${id}/`, { name }),
    remove: (id: string) => request<void>("DELETE", `workflows/${id}/`),
    validate: (definition: WorkflowDocument, init?: RequestInit) => request<ValidationResult>("POST", "workflows/validate/", { definition }, init),
    publish: (id: string) => request<VersionDetail>("POST", `workflows/${id}/publish/`),
    unpublish: (id: string) => request<Workflow>("POST", `workflows/${id}/unpublish/`),
    /** Makes the draft's webhook test URLs live for a while (400 `no_webhook` without a webhook trigger). */
    listen: (id: string) => request<Listening>("POST", `workflows/${id}/listen/`),
    /** One published version with its document. */
    version: (id: string, number: number) => request<VersionDetail>("GET", `workflows/${id}/versions/${number}/`),
    versions: (id: string, limit = 1) => request<Paginated<Version>>("GET", `workflows/${id}/versions/?limit=${limit}`),
    exportDocument: (id: string) => request<WorkflowDocument>("GET", `workflows/${id}/export/`),
    importDocument: (document: unknown, format: ImportFormat = "nodeflow") =>
      request<ImportedWorkflow>("POST", "workflows/import/", { format, document }),
  },
  executions: {
    /** The newest executions, newest first (optionally of one workflow). */
    list: (options: { workflow?: string; limit?: number; offset?: number; status?: string; trigger?: string } = {}) => {
      const query = new URLSearchParams({ limit: String(options.limit ?? 100) });
      if (options.offset) query.set("offset", String(options.offset));
      if (options.workflow) query.set("workflow", options.workflow);
      if (options.status) query.set("status", options.status);
      if (options.trigger) query.set("trigger", options.trigger);
      return request<Paginated<Execution>>("GET", `executions/?${query}`);
    },
    get: (id: string) => request<Execution>("GET", `executions/${id}/`),
    /** Every node run of an execution, in the order they started. */
    nodes: (id: string) => request<NodeRunSummary[]>("GET", `executions/${id}/nodes/`),
    /** Every node run with its data: input, output, error, logs, attempts. */
    nodeDetails: (id: string) => request<NodeRunDetail[]>("GET", `executions/${id}/nodes/`),
    /** cancel / pause / resume / retry: 202, or 409 when the execution's state does not allow it. */
    control: (id: string, action: "cancel" | "pause" | "resume" | "retry") =>
      request<{ execution_id: string; status: string }>("POST", `executions/${id}/${action}/`),
    provideInput: (id: string, nodeId: string, data: unknown) => request<unknown>("POST", `executions/${id}/input/`, { node_id: nodeId, data }),
    /** The global context after a node ran, or (diff) what that node changed, as JSON Patch. */
    context: (id: string, after: string, diff = false) =>
      request<unknown>("GET", `executions/${id}/context/?after=${encodeURIComponent(after)}${diff ? "&diff=1" : ""}`),
    /** The global context after the last node that finished (`after`: that node, null before any). */
    globalContext: (id: string) => request<ExecutionContext>("GET", `executions/${id}/context/`),
    /** The workflow document exactly as the execution ran it, with the version or draft revision it was. */
    definition: (id: string) => request<ExecutionDefinition>("GET", `executions/${id}/definition/`),
    /** Runs a workflow's draft (or a version); 202 with the new execution's id. */
    run: (workflowId: string, input: unknown, version: string | number = "draft") =>
      request<{ execution_id: string; status: string; left_out?: string[] }>("POST", `workflows/${workflowId}/run/`, { input, version }),
  },
};

/** The newest execution of each workflow in a newest-first list of executions. */
export function lastRunByWorkflow(executions: readonly Execution[]): Map<string, Execution> {
  const last = new Map<string, Execution>();
  for (const execution of executions) {
    if (execution.workflow && !last.has(execution.workflow)) last.set(execution.workflow, execution);
  }
  return last;
}
