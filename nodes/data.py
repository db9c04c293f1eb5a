"""Writing variables and shaping data."""

from engine.errors import PERMANENT, NodeError
from nodes.registry import NodeResult, register_node


@register_node(
    "data.set",
    instant=True,
    title="Set",
    category="data",
    description=(
        "Writes keys into the run's `vars` and/or sets its own output. Values are JSON or expressions; "
        "a value that is exactly one `{{ … }}` keeps its JSON type (number, list, object…)."
    ),
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
    variables = call.params.get("vars")
    if variables is None:
        variables = {}
    if not isinstance(variables, dict):
        raise NodeError(
            f"vars must be an object of variable names to values, not {type(variables).__name__}",
            PERMANENT,
            code="data.invalid_params",
        )
    if variables:
        call.log(f"set vars: {', '.join(variables)}")
    return NodeResult(output=call.params.get("output"), vars=dict(variables))
