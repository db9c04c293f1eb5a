"""flow.merge: an n-way join with combine options (it doubles as an "edit fields" node)."""

from engine.scheduling import JOIN_ALL, JOIN_FIRST
from nodes.registry import register_node


def _join_mode(params):
    return JOIN_FIRST if params.get("mode") == "first" else JOIN_ALL


@register_node(
    "flow.merge",
    title="Merge",
    category="flow",
    join_mode=_join_mode,
    defaults={"mode": "all", "shape": "object"},
    description=(
        "Joins any number of branches: `all` waits for every taken branch, `first` goes on with the "
        "first to finish and cancels the rest. Output shapes: object (keyed by upstream node id), "
        "append (list), merge_by_key."
    ),
    params_schema={
        "type": "object",
        "properties": {
            "mode": {"type": "string", "enum": ["all", "first"], "default": "all"},
            "shape": {"type": "string", "enum": ["object", "append", "merge_by_key"], "default": "object"},
            "key": {"type": "string", "title": "Key (merge_by_key)"},
            "fields": {"type": "object", "title": "Pick and rename fields", "additionalProperties": {"type": "string"}},
        },
        "additionalProperties": False,
    },
)
def merge(call):
    return call.upstream_outputs()
