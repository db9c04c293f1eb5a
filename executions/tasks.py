"""Celery adapter: each node run is one task; arguments are ids only.

The tasks belong to whichever Celery app is current (`shared_task`, `current_app`): this
module never imports the project's app, which imports it (the reaper step) instead."""

import logging
import time

from celery import bootsteps, current_app, group, shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections
from kombu.exceptions import OperationalError as BrokerUnreachable

from executions import executing, leases, limits, reaper, services, waking

logger = logging.getLogger("nodeflow.engine")

# Seconds between a node's soft time limit (the node is interrupted) and the hard one (its process is killed).
HARD_LIMIT_GRACE_S = 5

# A task that finds the database or the broker unreachable is tried again later, with backoff
# (at most a minute apart, for about a quarter of an hour), instead of being acknowledged as
# failed; whatever it was for is also recovered from the database (executions.recovery).
RETRIED = {
    "autoretry_for": (OperationalError, InterfaceError, BrokerUnreachable),
    "retry_backoff": 1,
    "retry_backoff_max": 60,
    "retry_jitter": True,
    "max_retries": 20,
}


def _options(start):
    options = {"queue": start.queue, "task_id": start.task_id or None,
               "priority": limits.BROKER_PRIORITY[start.priority]}
    if start.timeout_s:
        options.update(soft_time_limit=float(start.timeout_s), time_limit=float(start.timeout_s) + HARD_LIMIT_GRACE_S)
    return options


def _signature(task, *args, **options):
    """`task.si(*args)` with `options`, and two that spare Celery work on every message it sends: the
    arguments' repr for its headers (else made by its pure-Python saferepr), and no declaration of the
    queue (else kombu copies and binds the queue on every send to find it declared already; a Redis
    queue takes messages undeclared, and each worker declares the queues it consumes when it starts)."""
    return task.si(*args).set(**options, argsrepr=repr(args), kwargsrepr="{}", declare=[])


class CeleryDispatcher:
    """Sends node runs to Celery queues; fan-out goes out together as one group."""

    after_commit = True

    def dispatch(self, execution_id, starts):
        signatures = [_signature(run_node, execution_id, start.node_id, start.whole, **_options(start))
                      for start in starts if not start.instant]
        # Instant nodes (a fan-out wider than one local batch) go in tasks of up to a batch each.
        instant = [start for start in starts if start.instant]
        size = settings.NODEFLOW["LOCAL_RUN_BATCH"]
        for queue in dict.fromkeys(start.queue for start in instant):
            node_ids = [start.node_id for start in instant if start.queue == queue]
            priority = limits.BROKER_PRIORITY[instant[0].priority]  # one execution: one priority
            whole = instant[0].whole
            for chunk in (node_ids[i:i + size] for i in range(0, len(node_ids), size)):
                task, nodes = (run_node, chunk[0]) if len(chunk) == 1 else (run_nodes, chunk)
                signatures.append(_signature(task, execution_id, nodes, whole, queue=queue, priority=priority))
        if len(signatures) == 1:
            signatures[0].apply_async()
        else:
            group(signatures).apply_async()

    def dispatch_later(self, execution_id, node_id, eta, reason, start=None):
        # A countdown on the broker, not a sleep in a worker: waiting holds no worker slot.
        if reason == "retry":
            run_node.apply_async((execution_id, node_id), eta=eta, **_options(start))
        elif reason == "execution_timeout":
            expire_execution.apply_async((execution_id,), eta=eta)
        else:
            wake_node.apply_async((execution_id, node_id, reason), eta=eta)

    def revoke(self, task_ids):
        # terminate=True stops a node that is running right now (its pool process is killed).
        current_app.control.revoke(task_ids, terminate=True, signal="SIGKILL")

    def requeue_unrecorded(self, execution_id, node_id, attempt):
        requeue_unrecorded.delay(execution_id, node_id, attempt)


dispatcher = CeleryDispatcher()

# The worker name recorded on node runs; embedded mode sets it, since its in-process
# worker's requests report the machine's name only.
worker_name_override = None


@shared_task(name="nodeflow.run_node", bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True,
             **RETRIED)
def run_node(self, execution_id, node_id, whole=False):
    """`whole`: its workflow is small enough to load every node run with the lock (dispatch.Start.whole)."""
    executing.run_node(execution_id, node_id, dispatcher=dispatcher, worker=worker_name_override or self.request.hostname,
                       whole=whole)


@shared_task(name="nodeflow.run_nodes", bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True,
             **RETRIED)
def run_nodes(self, execution_id, node_ids, whole=False):
    executing.run_nodes(execution_id, node_ids, dispatcher=dispatcher,
                        worker=worker_name_override or self.request.hostname, whole=whole)


@shared_task(name="nodeflow.wake_node", acks_late=True, ignore_result=True, **RETRIED)
def wake_node(execution_id, node_id, reason="timer"):
    waking.wake_node(execution_id, node_id, dispatcher=dispatcher, reason=reason)


@shared_task(name="nodeflow.expire_execution", acks_late=True, ignore_result=True, **RETRIED)
def expire_execution(execution_id):
    services.expire_execution(execution_id, dispatcher=dispatcher)


@shared_task(name="nodeflow.requeue_unrecorded", acks_late=True, ignore_result=True, **RETRIED)
def requeue_unrecorded(execution_id, node_id, attempt):
    reaper.requeue(execution_id, node_id, attempt, dispatcher=dispatcher, code=reaper.RESULT_NOT_RECORDED)


class Reaper(bootsteps.StartStopStep):
    """Every worker looks for node runs whose worker was lost, and for timed-out executions."""

    requires = {"celery.worker.components:Timer"}

    def start(self, worker):
        interval = settings.NODEFLOW["REAPER_INTERVAL_S"]
        self.entry = worker.timer.call_repeatedly(interval, _reap, priority=10)

    def stop(self, worker):
        entry = getattr(self, "entry", None)
        if entry is not None:
            entry.cancel()


# When this worker's reaper last found the database unreachable (time.monotonic()).
_database_failed_at = None


def _reap():
    global _database_failed_at
    close_old_connections()
    # A lease that expired while the database was away says nothing about its worker: every
    # worker's renewals failed too. For one lease after an outage, the reaper leaves leases to
    # the renewals that resume, and only then takes an expired one for a lost worker.
    settling = _database_failed_at is not None and time.monotonic() - _database_failed_at < leases.lease_seconds()
    try:
        reaper.reap(dispatcher=dispatcher, reap_lost=not settling)
    except (OperationalError, InterfaceError):
        _database_failed_at = time.monotonic()
        logger.warning("reaper round skipped: the database is unreachable")
    except Exception:  # never take the worker down; the next round tries again
        logger.exception("reaper round failed")
