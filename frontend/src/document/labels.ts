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

/**
 * A server problem message as people read it (issue 25, item 11 of the list): without the node
 * type's prefix ("http.request v1: ") and document paths ("nodes[1].params.url" → "url"); the
 * API keeps the full message, with `path`, for developers.
 */
export function readableMessage(message: string, doc: WorkflowDocument): string {
  const nodes = nodesOf(doc);
  const byIndex = (index: string) => {
    const node = nodes[Number(index)];
    return isDrawableNode(node) ? nodeName(doc, node.id) : `node ${Number(index) + 1}`;
  };
  let text = message.replace(/^[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+ v\d+: /, "");
  text = text.replace(/\bnodes\[\d+\]\.params needs /g, "missing ");
  text = text.replace(/\bnodes\[\d+\]\.params\.([A-Za-z0-9_.[\]]+)/g, "$1");
  text = text.replace(/\bnodes\[\d+\]\.([A-Za-z_][A-Za-z0-9_.[\]]*)/g, "$1");
  text = text.replace(/\bnodes\[(\d+)\]/g, (_match, index: string) => byIndex(index));
  return text.charAt(0).toUpperCase() + text.slice(1);
}
