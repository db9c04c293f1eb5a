"""Debug runs (DEBUGGING.md): step past the nodes a paused debug run holds, resume it to the next
breakpoint, and change its variables while it is paused.

A held node is a node run `waiting` with `wait: {"reason": "breakpoint"}` (Transition.queue_node
holds it, by engine.policy.holds_at_breakpoint): only rows say where a debug run is, so no worker
waits with it and a worker restart changes nothing."""

import uuid

from django.db import transaction

from engine import policy
from engine.states import ExecutionStatus, NodeStatus
from executions.models import ExecutionEvent, NodeRun
from executions.services import NotAllowed
from executions.transition import Transition

E, N = ExecutionStatus, NodeStatus


def held_node_ids(transition):
    """The nodes the paused debug run holds, as its debug state records them."""
    return list((transition.execution.debug or {}).get("paused_at") or [])


def release_held(transition, *, step):
    """Queue the nodes the debug run holds; with `step`, it pauses again before each next node.
    Nothing to do for an execution that is not a debug run."""
    debug = transition.execution.debug
    if not debug:
        return
    for run in transition.load_runs(held_node_ids(transition)):
        if run.status == N.WAITING and (run.wait or {}).get("reason") == policy.BREAKPOINT:
            transition.set_node(run, N.QUEUED, task_id=uuid.uuid4().hex, wait=None)
            transition.to_start.append(run.node_id)
    transition.set_execution(debug=policy.released(debug, step))


def step_execution(execution_id, *, dispatcher):
    """Run the nodes a paused debug run holds, and pause again before the ones after them."""
    _go_on(execution_id, dispatcher, step=True)


def resume_debug_execution(execution_id, *, dispatcher):
    """Run the nodes a paused debug run holds, and go on to the next breakpoint."""
    _go_on(execution_id, dispatcher, step=False)


def _go_on(execution_id, dispatcher, step):
    with transaction.atomic():
        transition = Transition(execution_id, dispatcher)
        _check_paused_debug(transition)
        transition.set_execution(E.RUNNING)
        release_held(transition, step=step)
        # What a pause left queued (another branch made ready meanwhile) goes on too.
        for run in NodeRun.objects.filter(execution_id=execution_id, status=N.QUEUED):
            if run.node_id not in transition.to_start:
                transition.runs.setdefault(run.node_id, run)
                transition.to_start.append(run.node_id)
        transition.settle()
        transition.flush()


def edit_vars(execution_id, changes, *, dispatcher):
    """Change run variables while a debug run is paused: the held nodes start with them, and a
    VARS_EDITED event records the change."""
    with transaction.atomic():
        transition = Transition(execution_id, dispatcher)
        _check_paused_debug(transition)
        debug = policy.vars_edited(transition.execution.debug, changes)
        transition.set_execution(debug=debug)
        transition.event(ExecutionEvent.VARS_EDITED, changes=changes, nodes=held_node_ids(transition))
        transition.flush()
        return debug


def _check_paused_debug(transition):
    execution = transition.execution
    if not execution.debug:
        raise NotAllowed("the execution is not a debug run")
    if execution.status != E.PAUSED or not held_node_ids(transition):
        raise NotAllowed(f"a {execution.status} execution is not paused at a breakpoint")
