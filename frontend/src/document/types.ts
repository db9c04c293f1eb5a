/** The workflow document (FORMAT.md) as the editor handles it. */
import type { DocEdge, DocNode, Problem, WorkflowDocument } from "../api/types";

export type { DocEdge, DocNode, Problem, WorkflowDocument };

export const API_VERSION = "nodeflow/v1";
export const MAIN_PORT = "main";
export const ERROR_PORT = "error";
export const NODE_ID_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;

export type Position = [number, number];

/** A JSON value, for params and anything else the document does not type. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A drawable node: an object with a string id and type (anything else is kept but not drawn). */
export function isDrawableNode(value: unknown): value is DocNode {
  return isRecord(value) && typeof value.id === "string" && typeof value.type === "string";
}

export function edgePort(edge: DocEdge): string {
  return typeof edge.port === "string" && edge.port ? edge.port : MAIN_PORT;
}

export function nodesOf(doc: WorkflowDocument): unknown[] {
  return Array.isArray(doc.nodes) ? doc.nodes : [];
}

export function edgesOf(doc: WorkflowDocument): unknown[] {
  return Array.isArray(doc.edges) ? doc.edges : [];
}

export function emptyDocument(name: string): WorkflowDocument {
  return { api_version: API_VERSION as WorkflowDocument["api_version"], name, nodes: [], edges: [] };
}
