"""Branching on JsonLogic conditions evaluated against the context."""

from engine import jsonlogic
from engine.errors import NodeError
from nodes.registry import NodeResult, register_node


def _evaluate(rule, context, where):
    try:
        return jsonlogic.apply(rule, context)
    except jsonlogic.JsonLogicError as exc:
        raise NodeError(f"{where}: {exc}", code="jsonlogic") from None


@register_node(
    "logic.if",
    title="If",
    category="logic",
    ports_out=("true", "false"),
    raw_params=("condition",),
    jsonlogic_params=("condition",),
    description="Follows `true` when the JsonLogic condition holds for the context, else `false`.",
    params_schema={
        "type": "object",
        "properties": {"condition": {"title": "Condition (JsonLogic)", "x-nodeflow-widget": "jsonlogic"}},
        "required": ["condition"],
        "additionalProperties": False,
    },
)
def if_(call):
    passed = jsonlogic.truthy(_evaluate(call.params["condition"], call.context, "condition"))
    return NodeResult(output={"result": passed}, ports=("true" if passed else "false",))


def _switch_ports(params):
    names = [case.get("name") for case in params.get("cases") or [] if isinstance(case, dict)]
    return [name for name in names if isinstance(name, str)] + ["default"]


@register_node(
    "logic.switch",
    title="Switch",
    category="logic",
    ports_out=("default",),
    dynamic_ports=_switch_ports,
    raw_params=("cases",),
    jsonlogic_params=("cases.*.condition",),
    description="Follows the port of the first case whose JsonLogic condition holds, else `default`.",
    params_schema={
        "type": "object",
        "properties": {
            "cases": {
                "type": "array",
                "title": "Cases",
                "items": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,63}$"},
                        "condition": {"x-nodeflow-widget": "jsonlogic"},
                    },
                    "required": ["name", "condition"],
                    "additionalProperties": False,
                },
            }
        },
        "required": ["cases"],
        "additionalProperties": False,
    },
)
def switch(call):
    for index, case in enumerate(call.params["cases"]):
        if jsonlogic.truthy(_evaluate(case["condition"], call.context, f"cases[{index}].condition")):
            return NodeResult(output={"case": case["name"]}, ports=(case["name"],))
    return NodeResult(output={"case": "default"}, ports=("default",))
