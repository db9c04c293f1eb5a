"""Trigger nodes: where an execution starts. Their output is what the trigger brought.

They live in the triggers app, which makes them fire (schedules through celery-beat,
webhooks at /hooks/<token>, changes of global variables through workflows.variable_triggers),
and are registered like any app's `<app>/nodes.py`: the node registry finds them, so `nodes` never imports `triggers`. Their `check_params`
hooks hold the checks JSON Schema cannot express (a cron expression, a time zone name,
a secret that the auth mode needs); workflow validation reports what they find as
`invalid_params`."""

from engine.globals import KEY_OR_PREFIX, KEY_PATTERN
from nodes.registry import register_node
from triggers import schedules

SECRET_HEADER = "X-NodeFlow-Secret"
HMAC_PRESETS = ("generic", "github", "stripe")
REPLAY_WINDOW_S = 300


def _pass_input(call):
    return call.context["input"]


def _expression_problems(params, raw=()):
    """Trigger params are read by the server before any run exists: a {{ expression }} has nothing to read."""
    return [(name, f"{name} is read before the run starts, so it cannot hold a {{{{ expression }}}}")
            for name, value in params.items() if name not in raw and "{{" in repr(value)]


def _schedule_problems(params):
    # `every` and `unit` are the schema's business; cron and the time zone need parsing.
    problems = _expression_problems(params)
    if problems:
        return problems
    for param, check in (("timezone", schedules.check_timezone), ("cron", schedules.parse_cron)):
        if isinstance(params.get(param), str):  # else the schema reported it
            try:
                check(params[param])
            except schedules.InvalidSchedule as exc:
                problems.append((param, str(exc)))
    return problems


def _webhook_problems(params):
    problems = _expression_problems(params, raw=("secret",))
    if params.get("auth") in ("header", "hmac") and not params.get("secret"):
        problems.append(("secret", f"auth {params['auth']!r} needs a secret"))
    return problems


register_node(
    "trigger.manual",
    instant=True,
    title="Manual trigger",
    category="trigger",
    trigger=True,
    description="Starts the workflow from the Run button or POST /api/v1/workflows/{id}/run/; outputs the run's input.",
    params_schema={"type": "object", "properties": {}, "additionalProperties": False},
)(_pass_input)

register_node(
    "trigger.schedule",
    instant=True,
    title="Schedule",
    check_params=_schedule_problems,
    category="trigger",
    trigger=True,
    description="Starts the published workflow every N units or on a cron expression (celery-beat); "
    "outputs {fired_at, schedule}.",
    defaults={"unit": "minutes", "timezone": "UTC", "overlap": "allow"},
    params_schema={
        "type": "object",
        "properties": {
            "every": {"type": "integer", "minimum": 1, "title": "Every"},
            "unit": {"type": "string", "enum": list(schedules.UNIT_SECONDS), "default": "minutes"},
            "cron": {"type": "string", "title": "Cron expression",
                     "description": "5 fields: minute hour day-of-month month day-of-week (0 or sun = Sunday); "
                     "@hourly, @daily, @weekly, @monthly, @yearly"},
            "timezone": {"type": "string", "default": "UTC", "title": "Time zone (IANA name)"},
            "overlap": {"type": "string", "enum": ["allow", "skip"], "default": "allow",
                        "description": "skip: do not start while the previous run of this schedule is unfinished"},
        },
        "additionalProperties": False,
        "oneOf": [{"required": ["every"], "not": {"required": ["cron"]}}, {"required": ["cron"], "not": {"required": ["every"]}}],
    },
)(_pass_input)

register_node(
    "trigger.webhook",
    instant=True,
    title="Webhook",
    check_params=_webhook_problems,
    category="trigger",
    trigger=True,
    description="Starts the workflow on a request to its generated URL (/hooks/<token>; /hooks/test/<token> runs "
    "the draft while the workflow listens); outputs {body, headers, query, method}.",
    defaults={"methods": ["POST"], "auth": "none", "hmac_preset": "generic", "header_name": SECRET_HEADER,
              "replay_window_s": REPLAY_WINDOW_S, "response": "async", "timeout_s": 30, "response_status": 200,
              "max_body_kb": 1024, "require_json": False},
    # The secret is stored encrypted; the document holds a reference to it ("nodeflow-secret:<id>").
    raw_params=("secret",),
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
            "auth": {"type": "string", "enum": ["none", "header", "hmac"], "default": "none",
                     "description": "header: the secret in a header; hmac: an HMAC-SHA256 signature of the body"},
            "secret": {"type": "string", "title": "Secret (header value or HMAC key)", "writeOnly": True,
                       "description": "Stored encrypted: saved documents hold a reference (nodeflow-secret:<id>) "
                       "instead. Send the reference back to keep the secret, a new text to change it."},
            "header_name": {"type": "string", "pattern": "^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$",
                            "default": SECRET_HEADER, "title": "Secret header name (auth: header)"},
            "hmac_preset": {"type": "string", "enum": list(HMAC_PRESETS), "default": "generic",
                            "description": "generic: X-NodeFlow-Signature: t=<unix>,v1=<hex of HMAC(secret, "
                            "'<t>.<body>')>; github: X-Hub-Signature-256; stripe: Stripe-Signature"},
            "replay_window_s": {"type": "integer", "minimum": 1, "maximum": 86400, "default": REPLAY_WINDOW_S,
                                "description": "Signed requests older than this, or seen before within it, are refused"},
            "response": {"type": "string", "enum": ["async", "sync"], "default": "async",
                         "description": "async: 202 with the execution id at once; sync: the workflow's result"},
            "timeout_s": {"type": "number", "exclusiveMinimum": 0, "maximum": 300, "default": 30,
                          "description": "sync: answer 504 with the execution id after this long"},
            "response_status": {"type": "integer", "minimum": 100, "maximum": 599, "default": 200,
                                "description": "sync: the status code of the answer carrying the result"},
            "max_body_kb": {"type": "integer", "minimum": 1, "maximum": 102400, "default": 1024},
            "require_json": {"type": "boolean", "default": False,
                             "description": "refuse (400) a body that is not JSON"},
            "rate_limit_per_min": {"type": "integer", "minimum": 1,
                                   "description": "requests per minute to this URL (the server's limit caps it)"},
        },
        "additionalProperties": False,
    },
)(_pass_input)


def _variable_problems(params):
    problems = _expression_problems(params)
    key = params.get("key")
    if not problems and isinstance(key, str) and not KEY_OR_PREFIX.match(key):
        problems.append(("key", f"{key[:140]!r} is not a global variable's key, nor a prefix of keys ending in * "
                                f"(keys match {KEY_PATTERN})"))
    return problems


register_node(
    "trigger.variable",
    instant=True,
    title="Variable changed",
    check_params=_variable_problems,
    category="trigger",
    trigger=True,
    description="Starts the published workflow each time a global variable of its owner changes: `key` names it, or "
    "ends in * to watch every key with that prefix. Once per committed change (never for a write that leaves the "
    "value equal); outputs {key, old, new, execution_id, node_id} (execution_id and node_id: who wrote it, null "
    "for a write through the API).",
    params_schema={
        "type": "object",
        "properties": {
            "key": {"type": "string", "title": "Key (or prefix*)", "minLength": 1, "maxLength": 129},
        },
        "required": ["key"],
        "additionalProperties": False,
    },
)(_pass_input)
