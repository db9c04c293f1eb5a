"""Trigger nodes: where an execution starts. Their output is what the trigger brought."""

from nodes.registry import register_node


def _pass_input(call):
    return call.context["input"]


register_node(
    "trigger.manual",
    title="Manual trigger",
    category="trigger",
    trigger=True,
    description="Starts the workflow from the Run button or POST /api/v1/workflows/{id}/run/; outputs the run's input.",
    params_schema={"type": "object", "properties": {}, "additionalProperties": False},
)(_pass_input)

register_node(
    "trigger.schedule",
    title="Schedule",
    category="trigger",
    trigger=True,
    description="Starts the published workflow every N units or on a cron expression; outputs {fired_at, schedule}.",
    defaults={"unit": "minutes", "timezone": "UTC", "overlap": "allow"},
    params_schema={
        "type": "object",
        "properties": {
            "every": {"type": "integer", "minimum": 1, "title": "Every"},
            "unit": {"type": "string", "enum": ["seconds", "minutes", "hours", "days"], "default": "minutes"},
            "cron": {"type": "string", "title": "Cron expression", "description": "5 fields: minute hour day month weekday"},
            "timezone": {"type": "string", "default": "UTC", "title": "Time zone (IANA name)"},
            "overlap": {"type": "string", "enum": ["allow", "skip"], "default": "allow"},
        },
        "additionalProperties": False,
        "oneOf": [{"required": ["every"], "not": {"required": ["cron"]}}, {"required": ["cron"], "not": {"required": ["every"]}}],
    },
)(_pass_input)

register_node(
    "trigger.webhook",
    title="Webhook",
    category="trigger",
    trigger=True,
    description="Starts the workflow on a request to its generated URL; outputs {body, headers, query, method}.",
    defaults={"methods": ["POST"], "auth": "none", "response": "async", "timeout_s": 30, "max_body_kb": 1024},
    params_schema={
        "type": "object",
        "properties": {
            "methods": {
                "type": "array",
                "items": {"type": "string", "enum": ["GET", "POST", "PUT", "PATCH", "DELETE"]},
                "minItems": 1,
                "uniqueItems": True,
                "default": ["POST"],
            },
            "auth": {"type": "string", "enum": ["none", "header", "hmac"], "default": "none"},
            "secret": {"type": "string", "title": "Secret (header value or HMAC key)"},
            "header_name": {"type": "string", "title": "Secret header name"},
            "hmac_preset": {"type": "string", "enum": ["generic", "github", "stripe"]},
            "response": {"type": "string", "enum": ["async", "sync"], "default": "async"},
            "timeout_s": {"type": "number", "exclusiveMinimum": 0, "maximum": 300, "default": 30},
            "max_body_kb": {"type": "integer", "minimum": 1, "maximum": 102400, "default": 1024},
            "require_json": {"type": "boolean", "default": False},
            "response_status": {"type": "integer", "minimum": 100, "maximum": 599},
        },
        "additionalProperties": False,
    },
)(_pass_input)
