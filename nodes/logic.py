"""Branching on JsonLogic conditions evaluated against the context."""

import json

from engine import jsonlogic
from engine.errors import PERMANENT, NodeError
from nodes.registry import NodeResult, register_node

# Ports a switch case may not be named after: the fallback, and the port of on_error "route".
RESERVED_CASE_NAMES = ("default", "error")


def _evaluate(rule, context, where):
    try:
        return jsonlogic.apply(rule, context)
    except jsonlogic.JsonLogicError as exc:
        raise NodeError(
            f"{where} could not be evaluated: {exc} (rule: {_shown(rule)})",
            PERMANENT,
            code="jsonlogic",
            details={"rule": rule},
        ) from None


def _shown(rule, limit=200):
    text = json.dumps(rule, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@register_node(
    "logic.if",
    instant=True,
    title="If",
    category="logic",
    ports_out=("true", "false"),
    raw_params=("condition",),
    jsonlogic_params=("condition",),
    description=(
        "Follows `true` when the JsonLogic condition holds for the context (`{\"var\": \"input.x\"}` "
        "reads it), else `false`. Truthiness is JsonLogic's: null, false, 0, \"\" and [] are false."
    ),
    params_schema={
        "type": "object",
        "properties": {"condition": {"title": "Condition (JsonLogic)", "x-nodeflow-widget": "jsonlogic"}},
        "required": ["condition"],
        "additionalProperties": False,
    },
)
def if_(call):
    value = _evaluate(call.params["condition"], call.context, "condition")
    passed = jsonlogic.truthy(value)
    call.log(f"condition is {'true' if passed else 'false'}")
    return NodeResult(output={"result": passed}, ports=("true" if passed else "false",))


def _switch_ports(params):
    names = [case.get("name") for case in params.get("cases") or [] if isinstance(case, dict)]
    ports = [name for name in names if isinstance(name, str) and name not in RESERVED_CASE_NAMES]
    return list(dict.fromkeys(ports)) + ["default"]


@register_node(
    "logic.switch",
    instant=True,
    title="Switch",
    category="logic",
    ports_out=("default",),
    dynamic_ports=_switch_ports,
    raw_params=("cases",),
    jsonlogic_params=("cases.*.condition",),
    description=(
        "Follows the port named after the first case whose JsonLogic condition holds, else `default`. "
        "Case names are unique; `default` and `error` are taken."
    ),
    params_schema={
        "type": "object",
        "properties": {
            "cases": {
                "type": "array",
                "title": "Cases",
                "items": {
                    "type": "object",
                    "properties": {
                        "name": {
                            "type": "string",
                            "pattern": "^[a-z][a-z0-9_]{0,63}$",
                            "not": {"enum": list(RESERVED_CASE_NAMES)},
                        },
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
    cases = call.params["cases"]
    _check_cases(cases)
    for index, case in enumerate(cases):
        value = _evaluate(case["condition"], call.context, f"cases[{index}] ({case['name']!r}) condition")
        if jsonlogic.truthy(value):
            call.log(f"case {case['name']!r} matched")
            return NodeResult(output={"case": case["name"]}, ports=(case["name"],))
    call.log("no case matched: default")
    return NodeResult(output={"case": "default"}, ports=("default",))


def _check_cases(cases):
    """The cases as the run needs them (save-time validation says the same, earlier)."""
    if not isinstance(cases, list):
        raise NodeError("cases must be a list of {name, condition}", PERMANENT, code="logic.invalid_params")
    seen = set()
    for index, case in enumerate(cases):
        if not isinstance(case, dict) or "condition" not in case or not isinstance(case.get("name"), str):
            raise NodeError(f"cases[{index}] must be an object with a name and a condition", PERMANENT,
                            code="logic.invalid_params")
        name = case["name"]
        if name in RESERVED_CASE_NAMES:
            raise NodeError(f"cases[{index}] is named {name!r}, which is a reserved port; choose another name",
                            PERMANENT, code="logic.invalid_params")
        if name in seen:
            raise NodeError(f"cases[{index}]: two cases are named {name!r}; case names must be unique", PERMANENT,
                            code="logic.invalid_params")
        seen.add(name)
