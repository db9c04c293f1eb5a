/** What the Django page tells the app (frontend/templates/frontend/index.html, `#nodeflow-config`). */
export interface AppConfig {
  /** The app's root URL, e.g. "/". */
  baseUrl: string;
  apiRoot: string;
  /** The JSON Schema of nodeflow/v1 documents (node settings and workflow settings forms). */
  documentSchemaUrl: string;
  loginUrl: string;
  logoutUrl: string;
  user: { username: string };
  version: string;
  /** Set when code nodes cannot run fully isolated here: the sandbox's mode, why, and the command that fixes it. */
  sandbox?: { mode: string; detail: string; fix: string } | null;
}

const FALLBACK: AppConfig = {
  baseUrl: "/",
  apiRoot: "/api/v1/",
  documentSchemaUrl: "/api/schema/nodeflow/v1/",
  loginUrl: "/login/",
  logoutUrl: "/logout/",
  user: { username: "" },
  version: "",
};

let config: AppConfig | null = null;

export function appConfig(): AppConfig {
  if (config) return config;
  const element = typeof document !== "undefined" ? document.getElementById("nodeflow-config") : null;
  config = { ...FALLBACK, ...(element?.textContent ? (JSON.parse(element.textContent) as Partial<AppConfig>) : {}) };
  return config;
}
