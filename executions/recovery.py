"""Recovery: the database, not the broker, decides what must run and when.

Every queued node run, retry and timer has its `due_at`: when recovery acts if the
broker's message has not. The message may never come — Redis restarted without
persistence, a worker's main process died holding prefetched and ETA messages (which
Redis keeps unacknowledged for its visibility timeout), a send after commit failed.
`recover` runs in every worker with the reaper (executions.tasks.Reaper) and sends such
runs again; a duplicate delivery is harmless, since a claim or a wake-up that finds its
run no longer queued or waiting is ignored (engine.policy.may_claim)."""

import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from engine.states import EXECUTION_FINAL, ExecutionStatus, NodeStatus
from executions import waking
from executions.compiled import compiled_for
from executions.dispatch import start_of
from executions.models import NodeRun

logger = logging.getLogger("nodeflow.engine")

E, N = ExecutionStatus, NodeStatus

# Executions whose due runs recovery acts on: a paused one sends nothing until it resumes.
LIVE = [E.QUEUED, E.RUNNING, E.WAITING]


def recover(dispatcher, now=None, limit=500):
    """Send again the node runs that are due and were not picked up; the number acted on.

    A queued run (or one whose retry is due) is sent to its queue again; a waiting run
    whose timer is past due is woken here. Each run is taken by one process (its `due_at`
    moves on in one conditional update) and pushed back by its own age, so a run that is
    merely waiting in a long queue is sent again after 30 s, 60 s, 120 s… not every round. A
    send that fails ends the round, and the run is due again at the next one."""
    now = now or timezone.now()
    due = (
        NodeRun.objects.filter(due_at__lte=now, status__in=[N.QUEUED, N.RETRYING, N.WAITING],
                               execution__status__in=LIVE)
        .order_by("due_at")
        .values_list("pk", "execution_id", "node_id", "status", "task_id", "due_at", "queued_at",
                     "execution__definition_id", "execution__priority")[:limit]
    )
    acted = 0
    minimum = timedelta(seconds=settings.NODEFLOW["RECOVER_QUEUED_AFTER_S"])
    for pk, execution_id, node_id, status, task_id, due_at, queued_at, definition_id, priority in due:
        next_due = now + max(minimum, now - (queued_at or due_at))
        if not NodeRun.objects.filter(pk=pk, status=status, due_at=due_at).update(due_at=next_due):
            continue  # another process took it, or the run moved on meanwhile
        try:
            if status == N.WAITING:
                waking.wake_node(str(execution_id), node_id, dispatcher=dispatcher, reason="timer")
            else:
                dispatcher.dispatch(str(execution_id), [start_of(compiled_for(definition_id), node_id, task_id,
                                                                 priority)])
        except Exception as exc:  # noqa: BLE001 — the broker or the database is away: the run stays due
            # Due again at the next round, not after its age: the broker may be back by then. The
            # rest of this round waits too (they were not taken): one failed send per round.
            NodeRun.objects.filter(pk=pk, due_at=next_due).update(due_at=due_at)
            logger.warning("recovery could not act on %s of %s (%s): %s: %s; it tries again next round",
                           node_id, execution_id, status, type(exc).__name__, exc)
            break
        logger.warning("recovery: %s of %s was %s past due without its message; %s", node_id, execution_id,
                       now - due_at, "woken" if status == N.WAITING else "sent again")
        acted += 1
    return acted


def requeue_orphans(dispatcher):
    """Send again every queued node run of an unfinished execution now (embedded mode at start:
    its in-memory broker forgot everything). Timers are recovered when they are due."""
    runs = (
        NodeRun.objects.filter(status=NodeStatus.QUEUED)
        .exclude(execution__status__in=list(EXECUTION_FINAL) + [E.PAUSED])
        .values_list("execution_id", "node_id", "execution__definition_id", "task_id", "execution__priority")
    )
    count = 0
    for execution_id, node_id, definition_id, task_id, priority in runs:
        dispatcher.dispatch(str(execution_id), [start_of(compiled_for(definition_id), node_id, task_id, priority)])
        count += 1
    if count:
        logger.info("re-sent %d queued node runs", count)
    return count
