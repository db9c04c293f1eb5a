"""Controls of an execution: cancel, pause, resume, retry, and expiry past its timeout."""

import logging
import uuid

from django.db import transaction

from engine import policy
from engine.errors import TIMEOUT
from engine.states import EXECUTION_FINAL, ExecutionStatus, NodeStatus
from executions import children
from executions.dispatch import when_committed
from executions.models import ExecutionEvent, NodeRun
from executions.transition import Transition

logger = logging.getLogger("nodeflow.engine")

E, N = ExecutionStatus, NodeStatus


class NotAllowed(ValueError):
    """The execution is not in a state that allows this control."""


def cancel_execution(execution_id, *, dispatcher, reason="cancelled by the user"):
    """Cancel: queued node tasks are revoked, running ones stopped, the execution is `cancelled`."""
    with transaction.atomic():
        transition = Transition(execution_id, dispatcher)
        if transition.execution.status in EXECUTION_FINAL:
            raise NotAllowed(f"the execution is already {transition.execution.status}")
        transition.cancel_open_nodes(reason)
        transition.set_execution(E.CANCELLED, error={"class": "cancelled", "message": reason})
        transition.flush()
        # Its children (executions.children) after the commit: a child's end locks its parent.
        when_committed(dispatcher)(lambda: children.cancel_children(execution_id, dispatcher=dispatcher))


def pause_execution(execution_id, *, dispatcher):
    """Pause: no new node starts; running ones finish."""
    with transaction.atomic():
        transition = Transition(execution_id, dispatcher)
        status = transition.execution.status
        if status not in (E.QUEUED, E.RUNNING, E.WAITING):
            raise NotAllowed(f"a {status} execution cannot be paused")
        transition.set_execution(E.PAUSED)
        transition.flush()
        when_committed(dispatcher)(lambda: children.reach_children(
            execution_id, lambda child: _quietly(pause_execution, child, dispatcher), (E.QUEUED, E.RUNNING, E.WAITING)))


def resume_execution(execution_id, *, dispatcher):
    """Resume a paused execution: send again what was queued or waiting to retry."""
    with transaction.atomic():
        transition = Transition(execution_id, dispatcher)
        if transition.execution.status != E.PAUSED:
            raise NotAllowed(f"a {transition.execution.status} execution is not paused")
        transition.set_execution(E.RUNNING)
        pending = NodeRun.objects.filter(execution_id=execution_id, status__in=[N.QUEUED, N.RETRYING])
        for run in pending:
            transition.runs.setdefault(run.node_id, run)
            if run.status == N.RETRYING:
                transition.queue_node(run.node_id)  # its delayed message was dropped while paused
            else:
                transition.to_start.append(run.node_id)
        transition.settle()
        transition.flush()

    def resume_children():
        children.reach_children(execution_id, lambda child: _quietly(resume_execution, child, dispatcher), (E.PAUSED,))
        children.refill(execution_id, dispatcher=dispatcher)  # what the pause held back
    when_committed(dispatcher)(resume_children)


def _quietly(control, execution_id, dispatcher):
    """A control reaching a child: one that moved on meanwhile (ended, resumed) is left as it is."""
    try:
        control(execution_id, dispatcher=dispatcher)
    except NotAllowed:
        pass


def retry_execution(execution_id, *, dispatcher):
    """Run a failed or timed-out execution again from its failed nodes, keeping the outputs of
    the nodes that completed (engine.policy.retry_plan). A cancelled execution stays cancelled:
    the user stopped it."""
    with transaction.atomic():
        transition = Transition(execution_id, dispatcher)
        execution = transition.execution
        if execution.status not in (E.FAILED, E.TIMED_OUT):
            raise NotAllowed(f"a {execution.status} execution cannot be retried; only failed or timed-out ones")
        runs = transition.load_all_runs()
        retry_number = execution.events.filter(type=ExecutionEvent.STATE_CHANGED, data__has_key="retry").count() + 1
        transition.set_execution(E.RUNNING, event_data={"retry": retry_number}, error=None, finished_at=None)
        plan = policy.retry_plan(transition.compiled.graph, {node_id: (run.status, run.ports) for node_id, run in runs.items()})
        for step in plan:
            # The first run's times go too: a node this retry skips or runs again shows only this retry's (issue 25).
            fields = {"error": None, "inputs_remaining": step.inputs_remaining, "inputs_taken": step.inputs_taken,
                      "started_at": None, "finished_at": None}
            if step.rule is policy.REQUEUE:
                transition.set_node(runs[step.node_id], step.rule.to_state, task_id=uuid.uuid4().hex, **fields)
                transition.to_start.append(step.node_id)
            else:
                transition.set_node(runs[step.node_id], step.rule.to_state, **fields)
        transition.settle()
        transition.flush()


def expire_execution(execution_id, *, dispatcher):
    """The execution ran past settings.timeout_s: it ends `timed_out` and what is left is cancelled."""
    with transaction.atomic():
        transition = Transition(execution_id, dispatcher)
        execution = transition.execution
        if execution.status in EXECUTION_FINAL:
            return False
        limit = transition.compiled.settings.get("timeout_s")
        transition.fail_execution(
            {"class": TIMEOUT, "message": f"the execution ran longer than its timeout of {limit} s"}, E.TIMED_OUT
        )
        transition.flush()
        when_committed(dispatcher)(lambda: children.cancel_children(
            execution_id, dispatcher=dispatcher, reason="the parent execution timed out"))
        return True
