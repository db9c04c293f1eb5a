"""Composite nodes: flow.group, flow.foreach, flow.subworkflow, and trigger.group, where a body starts.

Each composite node runs its graph as child executions (COMPOSITION.md). Its run function
only says what to run — a ChildRuns: the body as a document, one input per child, the limits —
and waits (WaitFor(children=…)); executions/children.py creates and starts the children in the
transaction that records the wait, and completes the node when they have ended. A body's
`params.graph` is passed through unrendered (`raw_params`): its expressions read the child's
own context, never the outer one."""

from dataclasses import dataclass

from engine.composition import COLLECT, ERRORS_PORT, ON_ITEM_ERROR, batches
from engine.errors import PERMANENT, NodeError
from engine.graph import MAIN
from nodes.registry import NodeResult, WaitFor, register_node

API_VERSION = "nodeflow/v1"
BODY_TRIGGER = "trigger.group"


@dataclass
class ChildRuns:
    """What a composite node asks to run: its kind, the body (a workflow document; None for a
    sub-workflow, whose document is the called workflow's), each child's input, and its limits."""

    kind: str
    inputs: list
    body: dict | None = None
    concurrency: int = 1
    on_item_error: str = "fail"
    workflow: str | None = None
    version: object = "published"
    wait: bool = True


GRAPH_SCHEMA = {
    "type": "object",
    "title": "Body",
    "description": "The nodes and edges run for each child, starting at their trigger.group node.",
    "properties": {
        "nodes": {"type": "array", "items": {"type": "object"}},
        "edges": {"type": "array", "items": {"type": "object"}},
    },
    "required": ["nodes", "edges"],
}

VARS_SCHEMA = {"type": "object", "title": "Variables", "description": "The body's variables at its start (empty "
               "when omitted): values or expressions of the outer context."}


def body_document(node_id, graph, body_vars=None):
    """The workflow document a body runs as: its nodes and edges, the body's starting variables
    written into its trigger.group (which sets them), so one stored definition serves every child."""
    nodes = []
    for node in graph.get("nodes") or []:
        if body_vars and isinstance(node, dict) and node.get("type") == BODY_TRIGGER:
            node = {**node, "params": {**(node.get("params") or {}), "vars": body_vars}}
        nodes.append(node)
    return {"api_version": API_VERSION, "name": f"{node_id} (body)", "nodes": nodes, "edges": graph.get("edges") or []}


register_node(
    BODY_TRIGGER,
    instant=True,
    title="Group start",
    category="trigger",
    trigger=True,
    description="Where a group's, a loop's or a sub-workflow's body starts; outputs the child's input "
    "(for flow.foreach: {item, index, items_total}).",
    params_schema={"type": "object", "properties": {"vars": VARS_SCHEMA}, "additionalProperties": False},
)(lambda call: NodeResult(output=call.context["input"], vars=dict(call.params.get("vars") or {})))


@register_node(
    "flow.group",
    instant=True,
    title="Group",
    category="flow",
    raw_params=("graph",),
    description="Runs its body as one child execution with a local context; only the body's result (its "
    "flow.terminal's, or its one last node's output) is visible outside.",
    params_schema={
        "type": "object",
        "properties": {
            "graph": GRAPH_SCHEMA,
            "input": {"title": "Input", "description": "The body's input (default: {input, vars} of the outer "
                      "context)"},
            "vars": VARS_SCHEMA,
        },
        "required": ["graph"],
        "additionalProperties": False,
    },
)
def group(call):
    params = call.params
    body_input = params["input"] if "input" in params else {"input": call.context["input"],
                                                            "vars": call.context["vars"]}
    body = body_document(call.node_id, params["graph"], params.get("vars"))
    return NodeResult(wait=WaitFor(children=ChildRuns("group", [body_input], body=body)))


def _foreach_ports(params):
    return [MAIN, ERRORS_PORT] if params.get("on_item_error") == COLLECT else [MAIN]


@register_node(
    "flow.foreach",
    instant=True,
    title="For each",
    category="flow",
    raw_params=("graph",),
    ports_out=(MAIN, ERRORS_PORT),
    dynamic_ports=_foreach_ports,
    defaults={"concurrency": 4, "batch_size": 1, "on_item_error": "fail"},
    description="Runs its body once per item (each iteration a child execution, at most `concurrency` at once); "
    "outputs the iterations' results in item order. on_item_error: fail (the rest is cancelled), continue "
    "(failed items left out), collect ({results, errors}; the `errors` port is taken when an item failed).",
    params_schema={
        "type": "object",
        "properties": {
            "items": {"title": "Items", "description": "An expression giving a list, e.g. {{ nodes.fetch.output.body }}"},
            "graph": GRAPH_SCHEMA,
            "concurrency": {"type": "integer", "minimum": 1, "default": 4, "title": "Concurrency",
                            "description": "Iterations running at once (capped by NODEFLOW_FOREACH_MAX_CONCURRENCY)"},
            "batch_size": {"type": "integer", "minimum": 1, "default": 1, "title": "Batch size",
                           "description": "1: each iteration gets one item; n: a list of up to n items"},
            "on_item_error": {"type": "string", "enum": list(ON_ITEM_ERROR), "default": "fail",
                              "title": "When an item fails"},
            "input": {"type": "object", "title": "Extra input", "description": "Added to each iteration's input"},
            "vars": VARS_SCHEMA,
        },
        "required": ["items", "graph"],
        "additionalProperties": False,
    },
)
def foreach(call):
    params = call.params
    items = params["items"]
    if not isinstance(items, list):
        raise NodeError(f"items must be a list; the expression gave {type(items).__name__}", PERMANENT,
                        code="invalid_items")
    chunks = batches(items, int(params.get("batch_size") or 1))
    extra = params.get("input") or {}
    inputs = [{**extra, "item": chunk, "index": index, "items_total": len(chunks)} for index, chunk in enumerate(chunks)]
    body = body_document(call.node_id, params["graph"], params.get("vars"))
    return NodeResult(wait=WaitFor(children=ChildRuns(
        "foreach", inputs, body=body, concurrency=int(params.get("concurrency") or 4),
        on_item_error=params.get("on_item_error") or "fail",
    )))


def _version_ok(version):
    return version in ("published", "draft") or (isinstance(version, int) and not isinstance(version, bool)
                                                 and version >= 1)


@register_node(
    "flow.subworkflow",
    instant=True,
    title="Sub-workflow",
    category="flow",
    defaults={"version": "published", "wait": True},
    check_params=lambda params: [] if _version_ok(params.get("version", "published")) else
    [("version", "version must be 'published', 'draft' or a version number")],
    description="Runs another of your workflows as a child execution and outputs its result "
    "(wait: false — {execution_id} at once). Calls nest at most NODEFLOW_MAX_CALL_DEPTH deep.",
    params_schema={
        "type": "object",
        "properties": {
            "workflow": {"type": "string", "format": "uuid", "title": "Workflow"},
            "version": {"oneOf": [{"type": "string", "enum": ["published", "draft"]},
                                  {"type": "integer", "minimum": 1}],
                        "default": "published", "title": "Version"},
            "input": {"title": "Input", "description": "The called workflow's input (value or expression)"},
            "wait": {"type": "boolean", "default": True, "title": "Wait for its result"},
        },
        "required": ["workflow"],
        "additionalProperties": False,
    },
)
def subworkflow(call):
    params = call.params
    return NodeResult(wait=WaitFor(children=ChildRuns(
        "subworkflow", [params.get("input", {})], workflow=str(params["workflow"]),
        version=params.get("version", "published"), wait=bool(params.get("wait", True)),
    )))
