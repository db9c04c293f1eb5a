"""Flow control nodes: noop, terminal, fail, wait."""

from datetime import datetime, timedelta, timezone

from engine.errors import NodeError
from nodes.registry import NodeResult, WaitFor, register_node


@register_node(
    "flow.noop",
    instant=True,
    title="No operation",
    category="flow",
    description="Does nothing; useful as a junction or a placeholder in a draft.",
    params_schema={"type": "object", "properties": {}, "additionalProperties": False},
)
def noop(call):
    return None


@register_node(
    "flow.terminal",
    instant=True,
    title="Terminal",
    category="flow",
    ports_out=(),
    description="Ends a path and sets the execution's result (and artifacts: context paths returned with it).",
    params_schema={
        "type": "object",
        "properties": {
            "result": {"title": "Result", "description": "Any JSON; expressions allowed"},
            "artifacts": {"type": "array", "items": {"type": "string"}, "title": "Artifacts (context paths)"},
        },
        "additionalProperties": False,
    },
)
def terminal(call):
    result = call.params.get("result")
    artifacts = {}
    for path in call.params.get("artifacts") or []:
        artifacts[path] = _read_path(call.context, path)
    return NodeResult(output=result, result=result, artifacts=artifacts or None, ports=())


def _read_path(context, path):
    value = context
    for part in path.split("."):
        try:
            value = value[int(part)] if isinstance(value, list) else value[part]
        except (KeyError, IndexError, ValueError, TypeError):
            raise NodeError(f"artifact path {path!r} does not exist in the context (missing at {part!r})") from None
    return value


@register_node(
    "flow.fail",
    instant=True,
    title="Fail",
    category="flow",
    ports_out=(),
    description="Ends the execution as failed with a message.",
    params_schema={
        "type": "object",
        "properties": {"message": {"type": "string", "title": "Message"}},
        "required": ["message"],
        "additionalProperties": False,
    },
)
def fail(call):
    raise NodeError(str(call.params["message"]), code="flow.fail")


def _wait_ports(params):
    return ["main", "timeout"] if "input" in params else ["main"]


@register_node(
    "flow.wait",
    instant=True,
    title="Wait",
    category="flow",
    ports_out=("main", "timeout"),
    dynamic_ports=_wait_ports,
    description=(
        "Waits for a duration, until a time, or until input arrives through "
        "POST /api/v1/executions/{id}/input/ (with an optional timeout that takes the `timeout` port). "
        "A waiting node holds no worker."
    ),
    params_schema={
        "type": "object",
        "properties": {
            "seconds": {"type": "number", "minimum": 0, "maximum": 31_622_400, "title": "Seconds"},
            "until": {"type": "string", "title": "Until (ISO 8601 time)"},
            "input": {
                "type": "object",
                "title": "Wait for input",
                "properties": {
                    "schema": {"type": "object", "title": "JSON Schema of the input"},
                    "timeout_s": {"type": "number", "exclusiveMinimum": 0, "title": "Timeout (s)"},
                },
                "additionalProperties": False,
            },
        },
        "additionalProperties": False,
        "oneOf": [{"required": ["seconds"]}, {"required": ["until"]}, {"required": ["input"]}],
    },
)
def wait(call):
    params = call.params
    now = datetime.now(timezone.utc)
    if "seconds" in params:
        return NodeResult(wait=WaitFor(until=now + timedelta(seconds=float(params["seconds"]))))
    if "until" in params:
        try:
            until = datetime.fromisoformat(str(params["until"]))
        except ValueError:
            raise NodeError(f"until={params['until']!r} is not an ISO 8601 time") from None
        if until.tzinfo is None:
            until = until.replace(tzinfo=timezone.utc)
        return NodeResult(wait=WaitFor(until=until))
    spec = params.get("input") or {}
    timeout = spec.get("timeout_s")
    return NodeResult(
        wait=WaitFor(
            wants_input=True,
            input_schema=spec.get("schema"),
            until=now + timedelta(seconds=float(timeout)) if timeout else None,
        )
    )
