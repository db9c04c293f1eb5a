"""The reaper: node runs whose worker was lost, nodes and executions past their timeouts, and
node runs due without their message (executions.recovery).

Every worker runs it every REAPER_INTERVAL_S (executions.tasks.Reaper); each action
re-checks under the execution's lock, so several reapers at once do no harm."""

import logging
import uuid
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from engine import policy
from engine.errors import TIMEOUT, TRANSIENT, NodeError
from engine.states import ExecutionStatus, NodeStatus
from executions.claiming import Prepared
from executions.compiled import compiled_for
from executions.finishing import Outcome, finish_node
from executions.models import Execution, ExecutionEvent, NodeRun
from executions.recovery import recover
from executions.services import expire_execution
from executions.transition import Transition

logger = logging.getLogger("nodeflow.engine")

E, N = ExecutionStatus, NodeStatus

# A node whose worker was lost this many times fails instead of being run again.
MAX_LOST_WORKERS = 3
# Past a node's timeout, Celery's hard time limit gets this long before the reaper steps in.
NODE_TIMEOUT_GRACE_S = 6


def reap(*, dispatcher, now=None, reap_lost=True):
    """Find node runs whose worker was lost, nodes and executions past their timeouts; act on each.

    `reap_lost=False` leaves expired leases alone this round (just after a database outage,
    when they expired because nobody could renew them). Safe to run in several processes at
    once: each action re-checks under the execution lock."""
    now = now or timezone.now()
    actions = recover(dispatcher, now=now)
    lost = NodeRun.objects.filter(status=N.RUNNING, lease_expires_at__lt=now).values_list("execution_id", "node_id", "attempt")
    for execution_id, node_id, attempt in lost[:500] if reap_lost else ():
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
    error = NodeError(f"the node ran longer than its timeout of {limit:g} s", TIMEOUT, code="node_timeout")
    compiled = compiled_for(Execution.objects.values_list("definition_id", flat=True).get(pk=execution_id))
    prepared = Prepared(execution_id=str(execution_id), node_id=node_id, attempt=attempt, compiled=compiled,
                        execution_info={}, input_data={}, vars_state=None, upstream=[])
    finish_node(prepared, Outcome(error=error), dispatcher=dispatcher)  # ignored if it finished meanwhile
    return 1


def _requeue_lost(execution_id, node_id, attempt, dispatcher):
    return requeue(execution_id, node_id, attempt, dispatcher=dispatcher, code=WORKER_LOST)


# Why a running node is run again without having failed: its worker stopped renewing its lease,
# or it ran but its result could not be written (the database was away longer than the worker waited).
WORKER_LOST, RESULT_NOT_RECORDED = policy.WORKER_LOST, policy.RESULT_NOT_RECORDED


def requeue(execution_id, node_id, attempt, *, dispatcher, code):
    """Queue attempt `attempt` of a running node again (`code` says why); after MAX_LOST_WORKERS
    such losses the node fails instead. 0 when the run moved on meanwhile (or, for a lost worker,
    when its lease is alive again)."""
    with transaction.atomic():
        transition = Transition(execution_id, dispatcher)
        run = transition.run(node_id)
        if run.status != N.RUNNING or run.attempt != attempt:
            return 0
        if code == WORKER_LOST and (run.lease_expires_at is None or run.lease_expires_at >= timezone.now()):
            return 0
        lost = sum(1 for a in run.attempts or [] if (a.get("error") or {}).get("code") in policy.LOST) + 1
        message = (f"the worker running this node ({run.worker}) was lost" if code == WORKER_LOST else
                   f"the node ran in {run.worker} but its result could not be recorded (the database was unreachable)")
        error = {"class": TRANSIENT, "code": code, "node_id": node_id, "message": message}
        record = {"attempt": run.attempt, "started_at": run.started_at.isoformat() if run.started_at else None,
                  "finished_at": transition.now().isoformat(), "error": error}
        transition.event(ExecutionEvent.ERROR_OCCURRED, node_id, error=error, attempt=run.attempt)
        if lost >= MAX_LOST_WORKERS:
            message = f"the node was run {lost} times without a recorded result; it is not run again"
            transition.set_node(run, N.FAILED, error={**error, "message": message}, attempts=(run.attempts or []) + [record],
                                lease_expires_at=None, finished_at=transition.now())
            transition.fail_execution({**error, "message": message})
        else:
            transition.set_node(run, N.QUEUED, event_data={"reason": code}, lease_expires_at=None,
                                attempts=(run.attempts or []) + [record], task_id=uuid.uuid4().hex)
            transition.to_start.append(node_id)
        transition.flush()
        logger.warning("node %s of %s: %s (%s), node sent again", node_id, execution_id, message, code)
        return 1
