/** Importing other engines' files (IMPORT.md): which format a file is in, and the import report
 * kept for the editor to show once the imported draft opens. */
import type { DocNode, ImportFormat, ImportReport } from "../api/types";

const STAGEFLOW_NODE_TYPES = new Set(["stage", "condition", "parallel", "terminal"]);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The format of a parsed file, as the server detects it; null when it is none of them. */
export function detectFormat(value: unknown): ImportFormat | null {
  if (!isObject(value)) return null;
  if (typeof value.api_version === "string" && value.api_version.startsWith("nodeflow/")) return "nodeflow";
  if (Array.isArray(value.nodes) && isObject(value.connections)) return "n8n";
  if ("entry" in value && Array.isArray(value.nodes)
      && value.nodes.some((node) => isObject(node) && STAGEFLOW_NODE_TYPES.has(String(node.type)))) return "stageflow";
  return null;
}

export const FORMAT_TITLES: Record<ImportFormat, string> = { nodeflow: "NodeFlow", n8n: "n8n", stageflow: "stageflow" };

/** Whether a node is the placeholder the importer left for something it could not translate. */
export function isUntranslated(node: Pick<DocNode, "type" | "description">): boolean {
  return node.type === "flow.noop" && typeof node.description === "string" && node.description.startsWith("Untranslated ");
}

export interface StoredReport {
  format: ImportFormat;
  report: ImportReport;
}

const key = (workflowId: string) => `nodeflow:import-report:${workflowId}`;

/** Keep the report of a new import for the editor page (this tab only). */
export function keepReport(workflowId: string, stored: StoredReport): void {
  try {
    sessionStorage.setItem(key(workflowId), JSON.stringify(stored));
  } catch {
    // A full or disabled storage only loses the report panel; the draft is imported.
  }
}

export function keptReport(workflowId: string): StoredReport | null {
  try {
    const text = sessionStorage.getItem(key(workflowId));
    return text ? (JSON.parse(text) as StoredReport) : null;
  } catch {
    return null;
  }
}

export function forgetReport(workflowId: string): void {
  try {
    sessionStorage.removeItem(key(workflowId));
  } catch {
    // nothing kept
  }
}

/** One line per report entry, for the report panel. */
export function reportSummary(report: ImportReport): string {
  const parts = [`${report.translated.length} node(s) translated`];
  if (report.untranslated.length) parts.push(`${report.untranslated.length} not translated`);
  if (report.warnings.length) parts.push(`${report.warnings.length} warning(s)`);
  return parts.join(", ");
}
