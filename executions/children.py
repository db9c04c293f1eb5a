"""Child executions: what a composite node (flow.group, flow.foreach, flow.subworkflow) runs.

A child is an ordinary execution with a parent (`parent`, `parent_node_id`, `parent_index`,
`depth`). The composite node's run asks for its children (nodes.composition.ChildRuns); in the
transaction that records that ask (executions.finishing) `spawn` creates every child's row at
once — its own input, its own result later — and starts the first `concurrency` of them; the
node waits, holding no worker, its engine.composition.Progress on its node run.

A child that ends moves its parent in its own last transaction (`child_ended`, which
executions.transition calls when it writes an end): it starts the next child (before the
parent's lock when it succeeded, so that ends on many workers queue on that lock only to count),
locks the parent execution, moves the counter, and completes the node when it was the last —
exactly once, since the child's end and the counter commit together, in the order child lock →
parent lock that every path here keeps (the parent's own transactions never lock a started
child). The node's output is read from the children's rows once, when the last one ends.

Cancel, pause and resume reach the children after the parent's transaction commits
(`cancel_children`, `pause_children`, `resume_children`, called by executions.services)."""

import logging
import uuid

from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from engine import composition, policy
from engine.errors import PERMANENT, NodeError
from engine.states import EXECUTION_FINAL, ExecutionStatus, NodeStatus
from executions import outputs, store, transition as transitions
from executions.compiled import compiled_for
from executions.contexts import load_node_entries
from executions.dispatch import after_transition
from executions.models import Definition, Execution, ExecutionEvent, NodeRun
from executions.starting import input_problems
from executions.transition import Transition
from nodes.validation import validate_document

logger = logging.getLogger("nodeflow.engine")

E, N = ExecutionStatus, NodeStatus

# The event a parent's log gets when one of its node's children ends: {"children": counts, "child": …}.
CHILD_ENDED = "NODE_PROGRESS"
INSERT_BATCH = 1000


class ChildrenRefused(NodeError):
    """The composite node cannot run its children (depth limit, unknown workflow, invalid input)."""


# -- spawning ---------------------------------------------------------------------------------


def spawn(transition, run, runs):
    """Create and start the children of composite node run `run` (nodes.composition.ChildRuns `runs`)
    inside the parent's `transition`. Returns ("wait", wait spec) when the node waits for them, or
    ("complete", output, ports) when it is done at once (no items, every child kept from before,
    or a sub-workflow called with wait: false). Raises NodeError when they cannot run."""
    parent = transition.execution
    depth = parent.depth + 1
    problem = composition.depth_problem(depth, settings.NODEFLOW["MAX_CALL_DEPTH"])
    if problem:
        raise ChildrenRefused(problem, PERMANENT, code="call_depth_exceeded",
                              details={"limit": settings.NODEFLOW["MAX_CALL_DEPTH"]})
    document, fields = _document_of(parent, runs)
    if runs.kind == "subworkflow":
        _check_input(document, runs.inputs[0])
    definition = Definition.store(document)
    compiled = compiled_for(definition.sha256, load_document=lambda: document)
    start_node = _start_node(compiled)
    concurrency = 1
    if runs.kind == "foreach":
        concurrency = composition.effective_concurrency(runs.concurrency, settings.NODEFLOW["FOREACH_MAX_CONCURRENCY"])
    progress = composition.Progress(runs.kind, len(runs.inputs), concurrency, runs.on_item_error)
    # A first run of the node has no children yet; a run again (a retry, a lost worker) keeps those that succeeded.
    kept = _keep_succeeded(parent.pk, run.node_id) if run.attempt > 1 else set()
    progress.started = progress.succeeded = len(kept)
    indexed = runs.kind == "foreach"
    new = [
        Execution(
            owner_id=parent.owner_id, definition=definition, trigger="group" if runs.kind != "subworkflow" else
            "subworkflow", trigger_node=start_node, input=child_input, parent_id=parent.pk,
            parent_node_id=run.node_id, parent_index=index if indexed else None, depth=depth, **fields,
        )
        for index, child_input in enumerate(runs.inputs) if (index if indexed else None) not in kept
    ]
    action, count = composition.first_action(progress)
    if runs.kind == "subworkflow" and not runs.wait:
        action, count = composition.COMPLETE, 1
    # The first ones are written whole and started now; the others wait as rows (_start_next).
    Execution.objects.bulk_create(new[count:], batch_size=INSERT_BATCH)
    for child in new[:count]:
        _start_child(child, transition.dispatcher)
    if runs.kind == "subworkflow" and not runs.wait:
        return "complete", {"execution_id": str(new[0].pk)}, ("main",)
    if action == composition.COMPLETE:
        output, ports = composition.output_of(progress, _children_rows(parent.pk, run.node_id))
        return "complete", output, ports
    progress.started += count
    return "wait", {"children": progress.as_dict()}


def _document_of(parent, runs):
    """(the document the children run, the fields they take from it: workflow, version, revision)."""
    if runs.kind != "subworkflow":
        return runs.body, {"workflow_id": parent.workflow_id, "version": parent.version, "revision": parent.revision}
    workflow_model = Execution._meta.get_field("workflow").related_model
    workflow = workflow_model.objects.filter(pk=_uuid_or_none(runs.workflow), owner_id=parent.owner_id).first()
    if workflow is None:  # another user's workflow is as unknown as a missing one
        raise ChildrenRefused(f"workflow {runs.workflow} not found", PERMANENT, code="workflow_not_found",
                              details={"workflow": runs.workflow, "status": 404})
    version = runs.version
    if version in (None, "draft"):
        document, number, revision = workflow.definition, None, workflow.revision
    else:
        chosen = workflow.published_version if version == "published" else \
            workflow.versions.filter(number=version).first()
        if chosen is None:
            what = "is not published" if version == "published" else f"has no version {version}"
            raise ChildrenRefused(f"workflow {workflow.name!r} {what}", PERMANENT, code="version_not_found")
        document, number, revision = chosen.definition, chosen.number, None
    errors = validate_document(document)
    if errors:
        raise ChildrenRefused(f"workflow {workflow.name!r} is invalid: {errors[0]['message']}", PERMANENT,
                              code="invalid_workflow", details={"errors": errors[:20]})
    return document, {"workflow_id": workflow.pk, "version": number, "revision": revision}


def _uuid_or_none(value):
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def _check_input(document, value):
    schema = document.get("input_schema")
    if schema:
        problems = input_problems(schema, value)
        if problems:
            raise ChildrenRefused(f"the sub-workflow's input: {problems}", PERMANENT, code="invalid_input")


def _start_node(compiled):
    """Where a child starts: its trigger.group, else its first trigger (a called workflow's manual trigger)."""
    roots = compiled.graph.roots()
    for wanted in (lambda t: t.type == "trigger.group", lambda t: t.trigger):
        for node_id in roots:
            if wanted(compiled.node_types[node_id]):
                return node_id
    if roots:
        return roots[0]
    raise ChildrenRefused("the body has no trigger.group node to start at", PERMANENT, code="no_trigger")


def _keep_succeeded(execution_id, node_id):
    """The indexes of the node's children that succeeded before (a retry keeps them); the others
    (failed, cancelled, from an earlier run of the node) are deleted, to be created again."""
    children = Execution.objects.filter(parent_id=execution_id, parent_node_id=node_id)
    rows = list(children.values_list("parent_index", "status"))
    if not rows:
        return set()
    again = composition.to_run_again({index: status for index, status in rows})
    if again:
        children.exclude(status=E.SUCCEEDED).delete()
    return {index for index, status in rows if status == E.SUCCEEDED}


def _start_next(execution_id, node_id, count, dispatcher):
    """Start up to `count` children of the node not started yet, in index order; how many started.

    Rows another transaction holds (a cancel reaching them) are skipped, not waited for."""
    if count <= 0:
        return 0
    children = store.take_unstarted_children(execution_id, node_id, count)
    for child in children:
        _start_child(child, dispatcher)
    return len(children)


def _start_child(child, dispatcher, start_here=None):
    """Write a created child whole with its node runs, and queue its start node, as
    starting.start_execution does: one round trip (Transition.creating). With `start_here`, the
    start node may run here at once instead (see child_ended): what it claimed to run next."""
    compiled = compiled_for(child.definition_id)
    graph = compiled.graph
    runs = [
        NodeRun(execution=child, node_id=node_id, type=compiled.node_types[node_id].type,
                type_version=compiled.node_types[node_id].version, inputs_remaining=len(graph.incoming[node_id]))
        for node_id in graph.order
    ]
    transition = Transition.creating(child, runs, dispatcher, compiled)
    transition.event(ExecutionEvent.STATE_CHANGED, status=child.status, previous=None, trigger=child.trigger,
                     trigger_node=child.trigger_node, parent={"execution_id": str(child.parent_id),
                                                              "node_id": child.parent_node_id,
                                                              "index": child.parent_index})
    transition.queue_node(child.trigger_node)
    for node_id in graph.roots():
        if node_id != child.trigger_node:
            transition.set_node(transition.run(node_id), N.SKIPPED)
            transition.resolve(node_id, ())
    handed = start_here(transition) if start_here is not None else []
    transition.flush()
    return handed


# -- a child's end ----------------------------------------------------------------------------


class ChildHooks:
    """What executions.transition does when a child execution ends (installed by this module)."""

    @staticmethod
    def result(transition):
        """A body without a flow.terminal: its result is the output of its one last node."""
        child = transition.execution
        if child.result is not None:
            return
        compiled = transition.compiled
        if any(node_type.type == "flow.terminal" for node_type in compiled.node_types.values()):
            return
        sinks = [node_id for node_id in compiled.graph.order if not compiled.graph.successors(node_id)]
        if len(sinks) != 1:
            return
        entry = transition.recorded.get(sinks[0]) or load_node_entries(child.pk, sinks).get(sinks[0]) or {}
        transition.set_execution(result=entry.get("output"))

    @staticmethod
    def ended(transition):
        transition.handed += child_ended(transition.execution, transition.dispatcher, transition.start_here)

    @staticmethod
    def cancelled(transition, node_id, reason):
        """After the commit (a child's end locks its parent, so never while the parent is locked)."""
        execution_id, dispatcher = str(transition.execution.pk), transition.dispatcher
        after_transition(dispatcher)(lambda: cancel_children(execution_id, dispatcher=dispatcher, node_id=node_id,
                                                             reason=reason))


def child_ended(child, dispatcher, start_here=None):
    """Move the parent's node after `child` ended (in the child's last transaction): count it,
    start the next child, or complete or fail the node. Returns the node runs of a child started
    here with `start_here` (finishing._start_here) that this worker is to run after the commit.

    Every child's end passes through the parent's lock one at a time, so what it does there is
    kept short: a child that succeeded takes and starts its successor first, without the lock
    (its own end frees the slot; SKIP LOCKED keeps two ends from taking the same row), and only
    counts under it. A pause or cancel that committed in between is found under the lock, and
    the child started early is paused or cancelled with it, in the same transaction."""
    early, handed = _start_early(child, dispatcher, start_here)
    parent = Transition(child.parent_id, dispatcher, node_ids=[child.parent_node_id])
    run = parent.run(child.parent_node_id)
    wait = run.wait or {}
    if run.status != N.WAITING or "children" not in wait or parent.execution.status in EXECUTION_FINAL:
        # The node ended meanwhile (cancelled, failed, a wait: false call): nothing waits for it.
        _withdraw(early, dispatcher, E.CANCELLED, "the node the child belongs to has ended")
        return []
    progress = composition.Progress.from_dict(wait["children"])
    progress.started += len(early)
    succeeded = child.status == E.SUCCEEDED
    action, count = composition.after_child(progress, succeeded)
    if parent.execution.status == E.PAUSED:
        _withdraw(early, dispatcher, E.PAUSED)
    elif action == composition.START:
        progress.started += _start_next(parent.execution.pk, run.node_id, count, dispatcher)
    parent.event(CHILD_ENDED, run.node_id, children=progress.counts(),
                 child={"execution_id": str(child.pk), "index": child.parent_index, "status": child.status})
    if action == composition.COMPLETE:
        _complete(parent, run, progress, wait)
    elif action == composition.FAIL_NODE:
        _fail(parent, run, progress, child)
    else:
        parent.set_node(run, wait={**wait, "children": progress.as_dict()})
    parent.flush()
    return handed  # a paused child's claimed node still runs, as a running node does under a pause


def _start_early(child, dispatcher, start_here):
    """The next child of the node, started before the parent's lock is taken: those started (none or one).

    Only after a loop's child that succeeded (a failure may end the node) and on PostgreSQL, where
    ends on several workers wait for that lock; the row is taken only while the parent runs and its node
    waits, as read now."""
    if child.status != E.SUCCEEDED or child.parent_index is None or not store.fast():
        return [], []  # (a group's or a call's only child has no successor)
    started = store.take_unstarted_children(child.parent_id, child.parent_node_id, 1, while_parent_runs=True)
    handed = []
    for new in started:
        handed += _start_child(new, dispatcher, start_here)
    return started, handed


def _withdraw(started, dispatcher, status, reason=None):
    """Pause or cancel, in this transaction, children started early for a parent that was paused or
    whose node ended before its lock was taken (no other transaction has seen them yet)."""
    for new in started:
        transition = Transition(new.pk, dispatcher)
        if status == E.PAUSED:
            transition.set_execution(E.PAUSED)
        else:
            transition.cancel_open_nodes(reason)
            transition.set_execution(E.CANCELLED, error={"class": "cancelled", "message": reason})
        transition.flush()


def _complete(parent, run, progress, wait):
    rows = _children_rows(parent.execution.pk, run.node_id)
    output, ports = composition.output_of(progress, rows)
    stored = outputs.store_if_large(str(parent.execution.pk), f"{run.node_id}-{run.attempt}", output)
    parent.set_node(run, N.COMPLETED, event_data={"ports": list(ports)}, output=stored, ports=list(ports),
                    finished_at=parent.now(), finish_seq=parent.execution.last_seq + 1,
                    wait={"children": progress.as_dict()})
    parent.recorded[run.node_id] = {"output": output, "status": N.COMPLETED}
    parent.event(ExecutionEvent.DATA_AVAILABLE, run.node_id, ports=list(ports), has_output=output is not None)
    if policy.WAKE.applies_to(parent.execution.status):
        parent.set_execution(policy.WAKE.to_state)
    parent.resolve(run.node_id, ports)
    parent.settle()


def _fail(parent, run, progress, child):
    """A child failed under on_item_error `fail` (or a group's, a call's only child): the node fails
    through its own on_error (its retry policy does not apply: a retry of the execution re-runs the
    failed children), and its other children are cancelled after the commit."""
    child_error = Execution.objects.filter(pk=child.pk).values_list("error", flat=True).get() or {}
    message = composition.failure_message(progress, child.parent_index, child_error)
    error = NodeError(message, PERMANENT, code="child_failed",
                      details={"execution_id": str(child.pk), "index": child.parent_index,
                               "status": child.status, "error": child_error})
    error_dict = {**error.as_dict(), "node_id": run.node_id}
    parent.event(ExecutionEvent.ERROR_OCCURRED, run.node_id, error=error_dict, attempt=run.attempt)
    node = {**parent.compiled.graph.node(run.node_id), "retry": None}
    decision = policy.after_failure(node, run.attempt, PERMANENT)
    ports = list(decision.ports)
    fields = dict(ports=ports, finished_at=parent.now(), error=error_dict, finish_seq=parent.execution.last_seq + 1,
                  wait={"children": progress.as_dict()},
                  output={"error": error_dict} if decision.rule is policy.CONTINUE else None)
    parent.set_node(run, decision.rule.to_state, event_data={"ports": ports, "error": error_dict}, **fields)
    parent.recorded[run.node_id] = {"output": fields["output"], "status": decision.rule.to_state, "error": error_dict}
    execution_id, node_id, dispatcher = str(parent.execution.pk), run.node_id, parent.dispatcher
    after_transition(dispatcher)(lambda: cancel_children(execution_id, dispatcher=dispatcher, node_id=node_id,
                                                    reason=f"item {child.parent_index} failed"))
    if decision.fails_execution:
        parent.fail_execution({"node_id": run.node_id, **error.as_dict()})
        return
    if policy.WAKE.applies_to(parent.execution.status):
        parent.set_execution(policy.WAKE.to_state)
    parent.resolve(run.node_id, decision.ports)
    parent.settle()


def _children_rows(execution_id, node_id):
    """(index, status, result, item, error) of the node's children in index order: one query, and one
    more for the items of those that did not succeed (each child's own input holds its item)."""
    rows = Execution.objects.filter(parent_id=execution_id, parent_node_id=node_id)
    values = list(rows.order_by("parent_index").values_list("parent_index", "status", "result", "error"))
    items = {}
    if any(status != E.SUCCEEDED for _index, status, _result, _error in values):
        items = {index: (child_input or {}).get("item") if isinstance(child_input, dict) else None
                 for index, child_input in rows.exclude(status=E.SUCCEEDED).values_list("parent_index", "input")}
    return [(index, status, result, items.get(index), error) for index, status, result, error in values]


# -- reaching the children --------------------------------------------------------------------


def open_children(execution_id, node_id=None, statuses=(E.QUEUED, E.RUNNING, E.WAITING, E.PAUSED)):
    children = Execution.objects.filter(parent_id=execution_id, status__in=list(statuses))
    if node_id:
        children = children.filter(parent_node_id=node_id)
    return children


def cancel_children(execution_id, *, dispatcher, node_id=None, reason="the parent execution was cancelled"):
    """Cancel the open children of an execution (of one of its nodes), and theirs: those not started
    at once in one statement, the started ones (at most the concurrency of each node) one by one."""
    now = timezone.now()
    error = {"class": "cancelled", "message": reason}
    open_children(execution_id, node_id, statuses=[E.QUEUED]).filter(last_seq=0).update(
        status=E.CANCELLED, finished_at=now, error=error)
    for child_id in list(open_children(execution_id, node_id).values_list("id", flat=True)):
        with transaction.atomic():
            transition = Transition(child_id, dispatcher)
            if transition.execution.status in EXECUTION_FINAL:
                continue
            transition.cancel_open_nodes(reason)
            transition.set_execution(E.CANCELLED, error=error)
            transition.flush()
        cancel_children(str(child_id), dispatcher=dispatcher, reason=reason)


def reach_children(execution_id, control, statuses):
    """Apply a control of executions.services (pause, resume) to the started children in `statuses`."""
    for child_id in open_children(execution_id, statuses=statuses).exclude(last_seq=0).values_list("id", flat=True):
        control(str(child_id))


def refill(execution_id, *, dispatcher):
    """After a resume: start the children a paused parent held back, up to each node's concurrency."""
    with transaction.atomic():
        transition = Transition(execution_id, dispatcher)
        if transition.execution.status != E.RUNNING and transition.execution.status != E.WAITING:
            return
        waiting = NodeRun.objects.filter(execution_id=execution_id, status=N.WAITING, wait__has_key="children")
        for run in waiting:
            run = transition.runs.setdefault(run.node_id, run)
            progress = composition.Progress.from_dict(run.wait["children"])
            started = _start_next(execution_id, run.node_id, composition.to_start(progress), dispatcher)
            if started:
                progress.started += started
                transition.set_node(run, wait={**run.wait, "children": progress.as_dict()})
        transition.flush()


transitions.child_hooks = ChildHooks


# -- counting ---------------------------------------------------------------------------------

_COUNTED_AS = {E.SUCCEEDED: "succeeded", E.FAILED: "failed", E.TIMED_OUT: "failed", E.CANCELLED: "failed",
               E.RUNNING: "running", E.WAITING: "running", E.PAUSED: "running", E.QUEUED: "queued"}


def _counts(rows):
    counts = {"total": 0, "succeeded": 0, "failed": 0, "running": 0, "queued": 0}
    for status, number in rows:
        counts["total"] += number
        counts[_COUNTED_AS[status]] += number
    return counts


def child_counts(execution_id):
    """{total, succeeded, failed, running, queued} of an execution's children: one aggregate query."""
    rows = Execution.objects.filter(parent_id=execution_id).values_list("status").annotate(n=Count("id"))
    return _counts(rows)


def children_of_page(execution_ids):
    """child_counts of several executions in one query (a page of the executions list)."""
    rows = Execution.objects.filter(parent_id__in=list(execution_ids)).values_list("parent_id", "status")
    grouped = {}
    for parent_id, status, number in rows.annotate(n=Count("id")):
        grouped.setdefault(parent_id, []).append((status, number))
    return {execution_id: _counts(grouped.get(execution_id, ())) for execution_id in execution_ids}
