/** The debugging endpoints of DEBUGGING.md: partial and debug runs, stepping, vars edits, workflow tests. */
import { api, request } from "../../api/client";

export interface TestFailure { path: string; expected: unknown; actual: unknown; missing?: boolean; error?: string }
export interface TestCaseResult { name: string; ok: boolean; execution_id: string | null; status: string | null; duration_ms: number | null; failures: TestFailure[] }
export interface TestReport { passed: number; failed: number; cases: TestCaseResult[] }

export interface RunRequest {
  input?: unknown;
  from_execution?: string;
  start_at?: string;
  stop_after?: string[];
  debug?: { breakpoints: readonly string[]; step?: boolean };
}

export const debugApi = {
  run: (workflowId: string, body: RunRequest) =>
    request<{ execution_id: string; status: string; left_out?: string[] }>("POST", `workflows/${workflowId}/run/`, body),
  runTests: (workflowId: string, names?: string[]) =>
    request<TestReport>("POST", `workflows/${workflowId}/test/`, names ? { names } : {}),
  step: (executionId: string) => request<{ execution_id: string; status: string }>("POST", `executions/${executionId}/step/`),
  editVars: (executionId: string, vars: Record<string, unknown>) =>
    request<{ paused_at: string[]; vars: Record<string, Record<string, unknown>> }>("PATCH", `executions/${executionId}/vars/`, vars),
  /** The workflow's newest top-level run, or null. */
  latestRun: async (workflowId: string) => (await api.executions.list({ workflow: workflowId, limit: 1 })).results[0] ?? null,
};
