/** How people read a node: by its name, its id in brackets only where two could be confused. Pure. */
import { isDrawableNode, nodesOf, type WorkflowDocument } from "./types";

/** The node's name, or its id when it has none (or the node is not in the document). */
export function nodeName(doc: WorkflowDocument, id: string): string {
  const node = nodesOf(doc).find((item) => isDrawableNode(item) && item.id === id);
  const name = node && isDrawableNode(node) && typeof node.name === "string" ? node.name.trim() : "";
  return name || id;
}

/** "Look up user (lookup)" for a named node, "lookup" for one without a name. */
export function nodeLabel(doc: WorkflowDocument, id: string): string {
  const name = nodeName(doc, id);
  return name === id ? id : `${name} (${id})`;
}
