"""Writing variables and shaping data."""

from nodes.registry import NodeResult, register_node


@register_node(
    "data.set",
    title="Set",
    category="data",
    description="Writes keys into the run's `vars` and/or its own output; expressions keep their JSON types.",
    params_schema={
        "type": "object",
        "properties": {
            "vars": {"type": "object", "title": "Variables to write"},
            "output": {"title": "Output"},
        },
        "additionalProperties": False,
    },
)
def set_(call):
    return NodeResult(output=call.params.get("output"), vars=dict(call.params.get("vars") or {}))
