"""Use cases of executions: cancel, pause, resume, retry, and the reaper."""

import logging
import uuid
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from engine.errors import TIMEOUT, TRANSIENT, NodeError
from engine.states import EXECUTION_FINAL, ExecutionStatus, NodeStatus
from executions.models import Execution, ExecutionEvent, NodeRun
from executions.runtime import Transition, compiled_for

logger = logging.getLogger("nodeflow.engine")

E, N = ExecutionStatus, NodeStatus

# A node whose worker was lost this many times fails instead of being run again.
MAX_LOST_WORKERS = 3
# Past a node's timeout, Celery's hard time limit gets this long before the reaper steps in.
NODE_TIMEOUT_GRACE_S = 6


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


def pause_execution(execution_id, *, dispatcher):
    """Pause: no new node starts; running ones finish."""
    with transaction.atomic():
        transition = Transition(execution_id, dispatcher)
        status = transition.execution.status
        if status not in (E.QUEUED, E.RUNNING, E.WAITING):
            raise NotAllowed(f"a {status} execution cannot be paused")
        transition.set_execution(E.PAUSED)
        transition.flush()


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


def retry_execution(execution_id, *, dispatcher):
    """Run a failed (or timed-out, or cancelled) execution again from its failed nodes,
    keeping the outputs of the nodes that completed."""
    with transaction.atomic():
        transition = Transition(execution_id, dispatcher)
        execution = transition.execution
        if execution.status not in (E.FAILED, E.TIMED_OUT):
            raise NotAllowed(f"a {execution.status} execution cannot be retried; only failed or timed-out ones")
        graph = transition.compiled.graph
        runs = {run.node_id: run for run in NodeRun.objects.filter(execution_id=execution_id)}
        transition.runs.update(runs)
        retry_number = execution.events.filter(type=ExecutionEvent.STATE_CHANGED, data__has_key="retry").count() + 1
        transition.set_execution(E.RUNNING, event_data={"retry": retry_number}, error=None, finished_at=None)
        again = [r for r in runs.values() if r.status == N.FAILED and not (r.ports or [])]
        again += [r for r in runs.values() if r.status == N.CANCELLED]
        for run in sorted(again, key=lambda r: graph.order.index(r.node_id)):
            remaining, taken = _join_counters(graph, runs, run.node_id)
            if run.status == N.FAILED or (remaining == 0 and taken):
                transition.set_node(run, N.QUEUED, error=None, inputs_remaining=remaining, inputs_taken=taken,
                                    task_id=uuid.uuid4().hex)
                transition.to_start.append(run.node_id)
            else:
                transition.set_node(run, N.PENDING, error=None, inputs_remaining=remaining, inputs_taken=taken)
        transition.settle()
        transition.flush()


def _join_counters(graph, runs, node_id):
    """(unresolved incoming edges, taken incoming edges) from the predecessors' current states."""
    remaining = taken = 0
    for edge in graph.incoming[node_id]:
        source = runs[edge.source]
        # Resolved: skipped, completed, or failed down its `error` port (on_error: route).
        resolved = source.status in (N.SKIPPED, N.COMPLETED) or (source.status == N.FAILED and source.ports)
        if not resolved:
            remaining += 1
        elif edge.port in (source.ports or []):
            taken += 1
    return remaining, taken


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
        return True


def reap(*, dispatcher, now=None):
    """Find node runs whose worker was lost, nodes and executions past their timeouts; act on each.

    Safe to run in several processes at once: each action re-checks under the execution lock."""
    now = now or timezone.now()
    actions = 0
    lost = NodeRun.objects.filter(status=N.RUNNING, lease_expires_at__lt=now).values_list("execution_id", "node_id", "attempt")
    for execution_id, node_id, attempt in lost[:500]:
        actions += _requeue_lost(execution_id, node_id, attempt, dispatcher)
    # Node timeouts: Celery's time limits stop a prefork child; a thread-pool worker (embedded
    # mode) cannot be interrupted, so the reaper fails such a run as timed out and moves on.
    for run in NodeRun.objects.filter(status=N.RUNNING).only("execution_id", "node_id", "attempt", "started_at",
                                                              "execution__definition_id").select_related("execution")[:500]:
        limit = compiled_for(run.execution.definition_id).graph.node(run.node_id).get("timeout_s")
        if limit and run.started_at + timedelta(seconds=float(limit) + NODE_TIMEOUT_GRACE_S) < now:
            actions += _fail_overdue(run.execution_id, run.node_id, run.attempt, float(limit), dispatcher)
    running = Execution.objects.filter(status__in=[E.RUNNING, E.WAITING, E.PAUSED], started_at__isnull=False)
    for execution in running.only("id", "definition_id", "started_at")[:1000]:
        limit = compiled_for(execution.definition_id).settings.get("timeout_s")
        if limit and execution.started_at + timedelta(seconds=float(limit)) < now:
            actions += expire_execution(execution.pk, dispatcher=dispatcher)
    return actions


def _fail_overdue(execution_id, node_id, attempt, limit, dispatcher):
    """The node ran past its timeout and nothing stopped it: its attempt fails as a timeout."""
    from executions.runtime import Outcome, Prepared, finish_node

    error = NodeError(f"the node ran longer than its timeout of {limit:g} s", TIMEOUT, code="node_timeout")
    compiled = compiled_for(Execution.objects.values_list("definition_id", flat=True).get(pk=execution_id))
    prepared = Prepared(execution_id=str(execution_id), node_id=node_id, attempt=attempt, compiled=compiled,
                        execution_info={}, input_data={}, vars_state=None, upstream=[])
    finish_node(prepared, Outcome(error=error), dispatcher=dispatcher)  # ignored if it finished meanwhile
    return 1


def _requeue_lost(execution_id, node_id, attempt, dispatcher):
    with transaction.atomic():
        transition = Transition(execution_id, dispatcher)
        run = transition.run(node_id)
        if run.status != N.RUNNING or run.attempt != attempt or run.lease_expires_at is None or run.lease_expires_at >= timezone.now():
            return 0
        lost = sum(1 for a in run.attempts or [] if (a.get("error") or {}).get("code") == "worker_lost") + 1
        error = {"class": TRANSIENT, "code": "worker_lost", "node_id": node_id,
                 "message": f"the worker running this node ({run.worker}) was lost"}
        record = {"attempt": run.attempt, "started_at": run.started_at.isoformat() if run.started_at else None,
                  "finished_at": transition.now().isoformat(), "error": error}
        transition.event(ExecutionEvent.ERROR_OCCURRED, node_id, error=error, attempt=run.attempt)
        if lost >= MAX_LOST_WORKERS:
            message = f"the node's worker was lost {lost} times; it is not run again"
            transition.set_node(run, N.FAILED, error={**error, "message": message}, attempts=(run.attempts or []) + [record],
                                lease_expires_at=None, finished_at=transition.now())
            transition.fail_execution({**error, "message": message})
        else:
            transition.set_node(run, N.QUEUED, event_data={"reason": "worker_lost"}, lease_expires_at=None,
                                attempts=(run.attempts or []) + [record], task_id=uuid.uuid4().hex)
            transition.to_start.append(node_id)
        transition.flush()
        logger.warning("node %s of %s: worker %s lost, node sent again", node_id, execution_id, run.worker)
        return 1
