"""The part of a workflow document its triggers reach (issue 25: "run with problems"): a draft whose
only problems lie in nodes no trigger leads to — a half-built branch, a copy not wired in yet — can
still run what is connected, as long as the run says what it left out."""


def _node_ids(document):
    nodes = document.get("nodes") if isinstance(document, dict) else None
    return [node["id"] for node in nodes or () if isinstance(node, dict) and isinstance(node.get("id"), str)]


def reachable_ids(document, start_ids):
    """The ids of the nodes reachable from `start_ids` along the document's edges (the starts included).
    Lenient: works on drafts that do not validate (unknown ids, malformed edges are skipped)."""
    known = set(_node_ids(document))
    successors = {}
    for edge in document.get("edges") or ():
        if isinstance(edge, dict) and edge.get("from") in known and edge.get("to") in known:
            successors.setdefault(edge["from"], []).append(edge["to"])
    seen = {node_id for node_id in start_ids if node_id in known}
    stack = list(seen)
    while stack:
        for target in successors.get(stack.pop(), ()):
            if target not in seen:
                seen.add(target)
                stack.append(target)
    return seen


def reachable_part(document, start_ids):
    """(the document with only the reachable nodes and the edges between them, the ids left out in
    document order). The document is returned as it is when nothing is left out."""
    kept = reachable_ids(document, start_ids)
    left_out = [node_id for node_id in _node_ids(document) if node_id not in kept]
    if not left_out:
        return document, []
    dropped = set(left_out)
    nodes = [node for node in document.get("nodes") or ()
             if not (isinstance(node, dict) and node.get("id") in dropped)]
    edges = [edge for edge in document.get("edges") or ()
             if not (isinstance(edge, dict) and (edge.get("from") in dropped or edge.get("to") in dropped))]
    return {**document, "nodes": nodes, "edges": edges}, left_out
