/** The app's pages and their URLs (relative to the app's base URL). Pure. */

export type Route =
  | { name: "workflows" }
  | { name: "editor"; workflowId: string }
  /** Issue 11: an execution of a workflow, watched live on its canvas. */
  | { name: "execution"; workflowId: string; executionId: string }
  /** Executions, of every workflow or of one. */
  | { name: "executions"; workflowId?: string }
  /** Issue 22: the owner's global variables. */
  | { name: "variables" }
  | { name: "not-found"; path: string };

const UUID = "[0-9a-fA-F-]{36}";
const EDITOR = new RegExp(`^workflows/(${UUID})/?$`);
const WORKFLOW_EXECUTIONS = new RegExp(`^workflows/(${UUID})/executions/?$`);
const EXECUTION = new RegExp(`^workflows/(${UUID})/executions/(${UUID})/?$`);

export function parseRoute(pathname: string, baseUrl = "/"): Route {
  const path = pathname.startsWith(baseUrl) ? pathname.slice(baseUrl.length) : pathname.replace(/^\//, "");
  if (path === "" || path === "workflows" || path === "workflows/") return { name: "workflows" };
  if (path === "executions" || path === "executions/") return { name: "executions" };
  if (path === "variables" || path === "variables/") return { name: "variables" };
  let match = EDITOR.exec(path);
  if (match) return { name: "editor", workflowId: match[1].toLowerCase() };
  match = WORKFLOW_EXECUTIONS.exec(path);
  if (match) return { name: "executions", workflowId: match[1].toLowerCase() };
  match = EXECUTION.exec(path);
  if (match) return { name: "execution", workflowId: match[1].toLowerCase(), executionId: match[2].toLowerCase() };
  return { name: "not-found", path: pathname };
}

export function routeUrl(route: Route, baseUrl = "/"): string {
  switch (route.name) {
    case "workflows":
      return baseUrl;
    case "editor":
      return `${baseUrl}workflows/${route.workflowId}`;
    case "execution":
      return `${baseUrl}workflows/${route.workflowId}/executions/${route.executionId}`;
    case "executions":
      return route.workflowId ? `${baseUrl}workflows/${route.workflowId}/executions` : `${baseUrl}executions`;
    case "variables":
      return `${baseUrl}variables`;
    case "not-found":
      return route.path;
  }
}
