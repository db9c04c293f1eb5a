"""Save-time warnings about global variables: a document that reads `globals.<key>` for a key its
owner has not got (yet). A warning, not an error: the key may be written by another workflow, or by
this one, before the read runs; at run time a missing key fails the expression like any path."""

from nodes.globals_read import global_keys
from nodes.registry import UnknownNodeType, registry
from variables.models import Variable

WARNING_CODES = {"unknown_global_key": "An expression or condition reads globals.<key>, and no such key exists yet."}


def document_warnings(owner_id, document):
    """[{code, message, node_id, edge, path}] for each node reading a global variable the owner lacks."""
    reads, written = [], set()
    nodes = document.get("nodes") if isinstance(document, dict) else None
    for index, node in enumerate(nodes if isinstance(nodes, list) else []):
        if not isinstance(node, dict) or not isinstance(node.get("params", {}), dict):
            continue
        written |= _written_keys(node)
        try:
            node_type = registry.for_node(node)
        except (UnknownNodeType, TypeError):
            continue
        keys = global_keys({**node_type.defaults, **node.get("params", {})}, node_type)
        if keys:
            reads.append((index, node.get("id"), sorted(keys)))
    if not reads or owner_id is None:
        return []
    reads = [(index, node_id, [key for key in keys if key not in written]) for index, node_id, keys in reads]
    wanted = {key for _, _, keys in reads for key in keys}
    if not wanted:
        return []
    existing = set(Variable.objects.filter(owner_id=owner_id, key__in=wanted, version__gt=0).values_list("key", flat=True))
    return [
        {"code": "unknown_global_key", "node_id": node_id, "edge": None, "path": f"nodes[{index}].params",
         "message": f"reads globals.{key}, and there is no global variable {key!r} yet: the read fails at run "
                    f"time unless something writes it first (or use `| default(…)`)"}
        for index, node_id, keys in reads for key in keys if key not in existing
    ]


def _written_keys(node):
    """The keys a Set node of the document writes with scope global: they will exist once it has run."""
    params = node.get("params", {})
    if node.get("type") == "data.set" and params.get("scope") == "global" and isinstance(params.get("vars"), dict):
        return set(params["vars"])
    return set()
