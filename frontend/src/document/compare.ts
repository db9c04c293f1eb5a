/** What differs between two versions of one workflow document, node by node, for people choosing between them. Pure. */
import { canonicalJson } from "../executions/revision";
import { edgesOf, isDrawableNode, nodesOf, type WorkflowDocument } from "./types";

export type NodeChange = "added" | "removed" | "changed" | "same";

export interface NodeLine {
  id: string;
  /** The node's name, or its id when it has none. */
  label: string;
  type: string;
  change: NodeChange;
}

export interface VersionSide {
  name: string;
  nodes: NodeLine[];
  edges: number;
}

export interface Comparison {
  mine: VersionSide;
  theirs: VersionSide;
  /** Whether anything but node positions differs (moving nodes around is rarely what someone wants to keep). */
  differs: boolean;
}

function nodeMap(doc: WorkflowDocument) {
  return new Map(nodesOf(doc).filter(isDrawableNode).map((node) => [node.id, node]));
}

/** A node without its position: what it does. */
function meaning(node: object): string {
  const { position: _position, ...rest } = node as Record<string, unknown>;
  return canonicalJson(rest);
}

function side(doc: WorkflowDocument, other: Map<string, object>, missing: NodeChange): VersionSide {
  const nodes = nodesOf(doc).filter(isDrawableNode).map((node): NodeLine => {
    const counterpart = other.get(node.id);
    const change: NodeChange = !counterpart ? missing : meaning(counterpart) === meaning(node) ? "same" : "changed";
    return { id: node.id, label: typeof node.name === "string" && node.name.trim() ? node.name : node.id, type: node.type, change };
  });
  return { name: typeof doc.name === "string" ? doc.name : "", nodes, edges: edgesOf(doc).length };
}

/** Compares this tab's draft (mine) with the one saved elsewhere (theirs). */
export function compareVersions(mine: WorkflowDocument, theirs: WorkflowDocument): Comparison {
  const mineSide = side(mine, nodeMap(theirs), "added");
  const theirSide = side(theirs, nodeMap(mine), "added");
  const strip = (doc: WorkflowDocument) =>
    canonicalJson({ ...doc, nodes: nodesOf(doc).map((node) => (isDrawableNode(node) ? JSON.parse(meaning(node)) : node)) });
  return { mine: mineSide, theirs: theirSide, differs: strip(mine) !== strip(theirs) };
}
