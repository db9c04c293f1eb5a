"""Validation of workflow documents: every problem at once, each {code, message, node_id, edge, path}."""

import re

from engine.graph import Graph
from nodes.registry import UnknownNodeType, registry

API_VERSION = "nodeflow/v1"
NODE_ID = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def problem(code, message, node_id=None, edge=None, path=None):
    return {"code": code, "message": message, "node_id": node_id, "edge": edge, "path": path}


def validate_document(document):
    """Every problem of the document, or [] when it can be published and run."""
    if not isinstance(document, dict):
        return [problem("invalid_document", "the workflow document must be a JSON object", path="")]
    errors = []
    version = document.get("api_version")
    if version != API_VERSION:
        errors.append(problem("api_version", f"api_version must be {API_VERSION!r}, not {version!r}", path="api_version"))
    nodes = document.get("nodes")
    edges = document.get("edges", [])
    if not isinstance(nodes, list) or not all(isinstance(n, dict) for n in nodes):
        return errors + [problem("invalid_document", "nodes must be a list of objects", path="nodes")]
    if not isinstance(edges, list) or not all(isinstance(e, dict) for e in edges):
        return errors + [problem("invalid_document", "edges must be a list of objects", path="edges")]
    seen = set()
    for index, node in enumerate(nodes):
        node_id = node.get("id")
        if not isinstance(node_id, str) or not NODE_ID.match(node_id):
            errors.append(problem("invalid_node_id", f"node id {node_id!r} must match [a-z][a-z0-9_]{{0,63}}",
                                  path=f"nodes[{index}].id"))
        elif node_id in seen:
            errors.append(problem("duplicate_node_id", f"node id {node_id!r} is used twice", node_id, path=f"nodes[{index}].id"))
        seen.add(node_id)
        try:
            registry.for_node(node)
        except UnknownNodeType as exc:
            errors.append(problem("unknown_node_type", str(exc), node_id, path=f"nodes[{index}].type"))
    for index, edge in enumerate(edges):
        for end in ("from", "to"):
            if edge.get(end) not in seen:
                errors.append(problem("edge_to_missing_node", f"edge {end} {edge.get(end)!r}: no such node",
                                      edge=edge, path=f"edges[{index}].{end}"))
    if errors:
        return errors
    graph = Graph.from_document(document)
    cycle = graph.find_cycle()
    if cycle:
        errors.append(problem("cycle", "the graph has a cycle: " + " → ".join(cycle), cycle[0]))
    if not any(registry.for_node(node).trigger for node in nodes):
        errors.append(problem("no_trigger", "the workflow has no trigger node", path="nodes"))
    return errors
