"""Starting an execution: check the input against the workflow's input_schema, create the
execution and its node runs, and queue the trigger node — one transaction, two round trips
on PostgreSQL. Workflows, triggers and the command line start runs through here."""

from django.db import transaction

from engine import reachable
from engine.graph import Graph
from engine.pins import strip_pins
from engine.schemas import schema_errors
from engine.states import NodeStatus
from executions import limits, partial, store, tracing
from executions.compiled import compiled_for
from executions.models import Definition, Execution, ExecutionEvent, NodeRun
from executions.transition import Transition
from nodes.registry import UnknownNodeType, registry
from nodes.validation import InvalidWorkflow, validate_document

N = NodeStatus


def run_workflow(workflow, *, dispatcher, input_data=None, version="draft", trigger="manual", trigger_node=None,
                 execution_id=None, from_execution=None, start_at=None, stop_after=None, debug=None, run_here=None):
    """Start an execution of a workflow: its draft, its published version or version number `version`.

    What the API's run, schedules and webhooks call. InvalidWorkflow when the document does not
    validate, LookupError when there is no such version. A partial run (DEBUGGING.md) of the draft
    from `start_at` reuses what execution `from_execution` left before it, and with `stop_after`
    runs only what those nodes need (partial.PartialRunRefused when it cannot)."""
    if version in (None, "draft"):
        document, number, revision = workflow.definition, None, workflow.revision
    elif version == "published":
        if workflow.published_version is None:
            raise LookupError("the workflow is not published")
        published = workflow.published_version
        document, number, revision = published.definition, published.number, None
    else:
        published = workflow.versions.filter(number=version).first()
        if published is None:
            raise LookupError(f"the workflow has no version {version}")
        document, number, revision = published.definition, published.number, None
    if version not in (None, "draft"):
        document = strip_pins(document)  # pins are for building a workflow: a published version runs for real
    errors = validate_document(document)
    left_out = []
    if errors and version in (None, "draft") and trigger == "manual":
        document, left_out, errors = _connected_part(document, errors)
    if errors:
        raise InvalidWorkflow(errors)
    if debug is not None:
        partial.check_nodes(Graph.from_document(document), None, debug["breakpoints"], field="debug")
    plan = None
    if start_at is not None or stop_after:
        earlier = None
        if start_at is not None:
            if from_execution is None:
                raise partial.PartialRunRefused("start_at needs from_execution: the run whose outputs it reuses",
                                                "from_execution")
            earlier = partial.earlier_execution(from_execution, workflow)
            if input_data is None:
                input_data = earlier.input
        plan = partial.planner(Graph.from_document(document), earlier=earlier, start_at=start_at,
                               stop_after=stop_after or ())
    execution = start_execution(
        document,
        dispatcher=dispatcher,
        owner_id=workflow.owner_id,
        workflow=workflow,
        version=number,
        revision=revision,
        input_data=input_data,
        trigger=trigger,
        trigger_node=trigger_node,
        execution_id=execution_id,
        plan=plan,
        debug=debug,
        run_here=run_here,
    )
    execution.left_out = left_out  # the nodes a manual draft run left out (not stored: the definition says it)
    return execution


def _connected_part(document, errors):
    """A manual run of a draft with problems: (the part its triggers reach, the ids left out, its
    problems). It runs when every problem lies outside that part; else the draft's problems stand."""
    starts = [node["id"] for node in document.get("nodes") or ()
              if isinstance(node, dict) and isinstance(node.get("id"), str) and _is_trigger(node.get("type"))]
    part, left_out = reachable.reachable_part(document, starts)
    if not left_out or not starts:
        return document, [], errors
    remaining = validate_document(part)
    return (part, left_out, []) if not remaining else (document, [], errors)


def _is_trigger(type_name):
    try:
        return isinstance(type_name, str) and registry.get(type_name).trigger
    except UnknownNodeType:
        return False


class InvalidInput(ValueError):
    """The run's input does not match the workflow's input_schema."""


def start_execution(document, *, dispatcher, owner=None, owner_id=None, workflow=None, version=None, revision=None,
                    input_data=None, trigger="manual", trigger_node=None, execution_id=None, plan=None,
                    debug=None, run_here=None, savepoint=True):
    """Create an execution of `document` and queue its trigger node (sent after commit).

    The owner is a user, or only its id (`owner_id`), which saves loading the user.
    `execution_id`: the id to create it with (a webhook accepted by the door answered it already).
    `plan`: a partial run's (executions.partial.planner), applied to the new runs; it runs at once,
    past any concurrency limit (a person debugging waits for it). `debug`: a debug run's state
    (engine.policy.debug_request): it pauses before its breakpoints. `run_here`
    (executing.StartHere): runs the instant nodes in this transaction, in this thread. `savepoint=False`:
    inside a caller's transaction that is rolled back as a whole if this fails after writing (a batch of
    starts, triggers.accepted), no savepoint of its own: two round trips less. What it refuses before
    writing (InvalidInput, and ValueError for a trigger node the document lacks) leaves that transaction
    as it was either way."""
    input_data = {} if input_data is None else input_data
    schema = document.get("input_schema")
    checked = _schema_subject(trigger, input_data)
    if schema and checked is not _UNCHECKED:
        problems = input_problems(schema, checked)
        if problems:
            raise InvalidInput(problems)
    # Written, if it is new, with the execution (Transition.creating → store.insert).
    definition = Definition.of(document)
    compiled = compiled_for(definition.sha256, load_document=lambda: document)
    graph = compiled.graph
    start_node = _choose_trigger(compiled, trigger, trigger_node)
    with transaction.atomic(savepoint=savepoint):
        execution = Execution(
            **({"pk": execution_id} if execution_id is not None else {}),
            workflow=workflow,
            owner_id=owner.pk if owner is not None else owner_id,
            definition=definition,
            version=version,
            revision=revision,
            trigger=trigger,
            trigger_node=start_node,
            input=input_data,
            debug=debug,
        )
        runs = [
            store.new(
                NodeRun,
                execution_id=execution.pk,
                node_id=node_id,
                type=compiled.node_types[node_id].type,
                type_version=compiled.node_types[node_id].version,
                inputs_remaining=len(graph.incoming[node_id]),
            )
            for node_id in graph.order
        ]
        for run in runs:  # as NodeRun(execution=execution) would: run.execution is the one in memory
            run._state.fields_cache["execution"] = execution
        # Past a concurrency limit it is created held: queued, its trigger node left pending until
        # the end of another execution releases it (executions.limits).
        execution.held = limits.admit(execution, compiled.settings) if plan is None else ""
        # Built in memory and written at flush: one INSERT for the execution, one for its node runs.
        transition = Transition.creating(execution, runs, dispatcher, compiled, definition=definition)
        # The log opens with the execution itself, before any node of it moves.
        transition.event(ExecutionEvent.STATE_CHANGED, status=execution.status, previous=None, trigger=trigger,
                         trigger_node=start_node, **({"held": execution.held} if execution.held else {}))
        planned = plan(transition) if plan is not None else False
        if not execution.held and not planned and transition.run(start_node).status == N.PENDING:
            transition.queue_node(start_node)
        # Every other root (other triggers) does not fire in this execution.
        for node_id in graph.roots():
            if node_id != start_node and not planned:
                transition.set_node(transition.run(node_id), N.SKIPPED)
                transition.resolve(node_id, ())
        if run_here is not None and not execution.held and not planned and debug is None:
            run_here(transition)
        transition.flush()
    if tracing.enabled():
        tracing.execution_started(execution)
    return execution


def input_problems(schema, value):
    """What is wrong with `value` against the JSON Schema `schema`, as one message ("" when nothing).

    Patterns run on a linear-time engine (engine.schemas), so no input can stall the caller."""
    return "; ".join(_schema_error_text(error) for error in schema_errors(schema, value))


_UNCHECKED = object()


def _schema_subject(trigger, input_data):
    """What the workflow's input_schema describes: a manual run's input, a webhook's body.

    A schedule's input ({fired_at, schedule}) and a variable change's ({key, old, new, …}) are
    NodeFlow's own, so they are not checked."""
    if trigger == "webhook":
        return input_data.get("body") if isinstance(input_data, dict) else input_data
    if trigger in ("schedule", "variable"):
        return _UNCHECKED
    return input_data


def _choose_trigger(compiled, trigger, trigger_node):
    graph = compiled.graph
    if trigger_node:
        if trigger_node not in graph.nodes:
            raise ValueError(f"no node {trigger_node!r} in the workflow")
        return trigger_node
    roots = graph.roots()
    wanted = f"trigger.{trigger}"
    for node_id in roots:
        if compiled.node_types[node_id].type == wanted:
            return node_id
    for node_id in roots:
        if compiled.node_types[node_id].trigger:
            return node_id
    if roots:
        return roots[0]
    raise ValueError("the workflow has no trigger node")


def _schema_error_text(error):
    where = "/".join(str(p) for p in error.absolute_path) or "(root)"
    return f"input at {where}: {error.message}"
