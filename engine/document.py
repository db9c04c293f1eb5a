"""The JSON Schema of the workflow document (FORMAT.md), one per `api_version`.

The schema describes the document's structure: which keys exist, their types and
ranges. It is what `/api/schema/nodeflow/v1/` serves and what the OpenAPI schema uses
for `definition`. What a JSON Schema cannot say (node types, ports, the graph,
expressions) is checked by `nodes.validation`, which also turns schema violations
into its `{code, message, node_id, edge, path}` problems.

The schema is plain data with no `$ref`, so that it can be embedded as it is (an
OpenAPI 3.1 component, an editor's form library) without resolving anything.
"""

import re

API_VERSION = "nodeflow/v1"
# Documents say `nodeflow/v<major>`; only majors listed in SCHEMAS can be read.
API_VERSION_PATTERN = re.compile(r"^nodeflow/v(?P<major>[0-9]{1,6})$")
NODE_ID_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"

ON_ERROR = ("fail", "continue", "route")
MERGE_STRATEGIES = ("error", "last_write", "first_write", "collect")

_POSITIVE_SECONDS = {"type": "number", "exclusiveMinimum": 0}

RETRY_SCHEMA = {
    "type": "object",
    "title": "Retry",
    "description": "Attempts with exponential backoff and full jitter.",
    "properties": {
        "max_attempts": {"type": "integer", "minimum": 1, "title": "Attempts (including the first)"},
        "backoff_s": {"type": "number", "minimum": 0, "title": "First backoff (s)"},
        "max_backoff_s": {"type": "number", "minimum": 0, "title": "Longest backoff (s)"},
        "jitter": {"type": "boolean", "title": "Full jitter"},
    },
    "additionalProperties": False,
}

NODE_SCHEMA = {
    "type": "object",
    "title": "Node",
    "properties": {
        "id": {
            "type": "string",
            "pattern": NODE_ID_PATTERN,
            "description": "Unique in the workflow; others read the node's output as `nodes.<id>`.",
        },
        "type": {"type": "string", "minLength": 1, "description": "A registered node type (GET /api/v1/node-types/)."},
        "version": {
            "type": "integer",
            "minimum": 1,
            "description": "The node type's version; omitted means the latest, recorded at save time.",
        },
        "name": {"type": "string", "maxLength": 200, "description": "For people."},
        "description": {"type": "string"},
        "position": {
            "type": "array",
            "items": {"type": "number"},
            "minItems": 2,
            "maxItems": 2,
            "description": "[x, y] on the canvas.",
        },
        "params": {
            "type": "object",
            "description": "Checked against the node type's params_schema; strings may hold {{ expressions }}.",
        },
        "retry": RETRY_SCHEMA,
        "timeout_s": {**_POSITIVE_SECONDS, "description": "Per attempt."},
        "on_error": {
            "type": "string",
            "enum": list(ON_ERROR),
            "default": "fail",
            "description": "After the last attempt: fail the execution, continue with the error as output, "
            "or route to the node's `error` port.",
        },
    },
    "required": ["id", "type"],
    "additionalProperties": False,
}

EDGE_SCHEMA = {
    "type": "object",
    "title": "Edge",
    "properties": {
        "from": {"type": "string", "description": "Source node id."},
        "to": {"type": "string", "description": "Target node id."},
        "port": {
            "type": "string",
            "minLength": 1,
            "default": "main",
            "description": "The source node's output port.",
        },
    },
    "required": ["from", "to"],
    "additionalProperties": False,
}

SETTINGS_SCHEMA = {
    "type": "object",
    "title": "Settings",
    "properties": {
        "timeout_s": {**_POSITIVE_SECONDS, "description": "The whole execution's time limit."},
        "merge": {
            "type": "string",
            "enum": list(MERGE_STRATEGIES),
            "default": "error",
            "description": "How branch writes to `vars` merge at a join.",
        },
        "max_parallel": {"type": "integer", "minimum": 1, "description": "Node runs of one execution at a time."},
        "max_concurrent": {"type": "integer", "minimum": 1,
                           "description": "Executions of this workflow running at a time; further runs stay queued."},
        "priority": {"type": "string", "enum": ["high", "normal", "low"], "default": "normal",
                     "description": "Which queued runs start first, and their place in the workers' queues."},
        "retention": {
            "type": "object",
            "title": "Retention",
            "description": "How long finished executions are kept; a key left out takes the server's default.",
            "properties": {
                "days": {"type": "integer", "minimum": 0,
                         "description": "Days a succeeded or cancelled execution is kept; 0: no age limit."},
                "failed_days": {"type": "integer", "minimum": 0,
                                "description": "Days a failed or timed-out execution is kept; 0: no age limit."},
                "count": {"type": "integer", "minimum": 0,
                          "description": "At most this many succeeded or cancelled executions kept, the newest "
                                         "(failed ones go by failed_days only); 0: no limit."},
            },
            "additionalProperties": False,
        },
    },
    "additionalProperties": False,
}

PINS_SCHEMA = {
    "type": "object",
    "title": "Pinned data",
    "description": "Outputs that nodes of a draft run complete with instead of running (DEBUGGING.md): the output, "
                   "or {\"port\", \"output\"} for a node whose port matters. Published versions ignore them.",
    "propertyNames": {"pattern": NODE_ID_PATTERN},
}

TEST_CASE_SCHEMA = {
    "type": "object",
    "title": "Test case",
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 200},
        "input": {"description": "The run's input."},
        "pins": {**PINS_SCHEMA, "description": "Pins of this case, over the document's."},
        "expect": {
            "type": "object",
            "properties": {
                "status": {"type": "string", "description": "The execution's final status."},
                "result": {"description": "A deep subset of the execution's result."},
                "nodes": {"type": "object", "propertyNames": {"pattern": NODE_ID_PATTERN},
                          "additionalProperties": {"type": "object", "properties": {
                              "status": {"type": "string"}, "output": {}}, "additionalProperties": False},
                          "description": "{node id: {status, output}}, each a subset match."},
                "assert": {"type": "array", "description": "JsonLogic rules over the final context, all truthy."},
            },
            "additionalProperties": False,
        },
        "max_steps": {"type": "integer", "minimum": 1, "description": "Node runs before the case is stopped "
                                                                       "(default 1,000)."},
    },
    "required": ["name", "expect"],
    "additionalProperties": False,
}

DOCUMENT_SCHEMA_V1 = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "urn:nodeflow:schema:nodeflow/v1",
    "title": "NodeFlow workflow document (nodeflow/v1)",
    "type": "object",
    "properties": {
        "api_version": {"type": "string", "enum": [API_VERSION]},
        "name": {"type": "string", "maxLength": 200},
        "description": {"type": "string"},
        "settings": SETTINGS_SCHEMA,
        "input_schema": {"type": "object", "description": "A JSON Schema (2020-12) for the run's input."},
        "nodes": {"type": "array", "items": NODE_SCHEMA},
        "edges": {"type": "array", "items": EDGE_SCHEMA},
        "pins": PINS_SCHEMA,
        "tests": {"type": "array", "items": TEST_CASE_SCHEMA, "description": "Workflow tests (DEBUGGING.md)."},
    },
    "required": ["api_version", "nodes"],
    "additionalProperties": False,
}

SCHEMAS = {API_VERSION: DOCUMENT_SCHEMA_V1}


def document_schema(api_version=API_VERSION):
    """The JSON Schema of documents of `api_version`; LookupError for a version this server cannot read."""
    try:
        return SCHEMAS[api_version]
    except KeyError:
        raise LookupError(f"no schema for api_version {api_version!r}") from None


def api_version_major(api_version):
    """The major number of an `nodeflow/v<n>` string, or None when it is not one."""
    match = API_VERSION_PATTERN.match(api_version) if isinstance(api_version, str) else None
    return int(match["major"]) if match else None


def embeddable(schema):
    """The schema without `$schema`/`$id`, for embedding in another document (an OpenAPI component)."""
    return {key: value for key, value in schema.items() if key not in ("$schema", "$id")}
