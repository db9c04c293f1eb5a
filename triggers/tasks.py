"""Celery tasks of triggers; arguments are ids only. (Schedules fire through workflows.tasks.)"""

import logging

from celery import bootsteps, shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections

from executions import tasks as engine_tasks
from executions.tasks import RETRIED, dispatcher
from triggers import accepted, services

logger = logging.getLogger("nodeflow.triggers")


@shared_task(name="triggers.purge_idempotency_keys", ignore_result=True)
def purge_idempotency_keys():
    return services.purge_idempotency_keys()


@shared_task(name="triggers.start_accepted", bind=True, ignore_result=True, **RETRIED)
def start_accepted(self, ids=None):
    """Answer the door's bell and start every webhook request waiting, `ids` (the batch that rang) and all
    committed since, running their first nodes here (triggers.accepted). What the time budget left goes to
    the next task, behind whatever else is queued."""
    worker = engine_tasks.worker_name_override or self.request.hostname
    accepted.bell_answered()
    started, more = accepted.start_waiting(dispatcher, worker=worker)
    if more:
        send_start()
    return started


def send_start(ids=()):
    """Ring the bell, and send a start task unless one is pending already (which takes the requests waiting):
    after the door's commit (`ids`, its batch), when a task's budget is spent, when recovery finds a backlog."""
    if not accepted.ring():
        return
    try:
        start_accepted.apply_async(args=[list(ids)])
    except Exception:
        accepted.bell_answered()  # none is pending after all: the next commit tries again
        raise


class AcceptedRecovery(bootsteps.StartStopStep):
    """Every worker starts, every REAPER_INTERVAL_S, the accepted webhook requests whose start
    was not under way (triggers.accepted.recover_accepted)."""

    requires = {"celery.worker.components:Timer"}

    def start(self, worker):
        self.entry = worker.timer.call_repeatedly(settings.NODEFLOW["REAPER_INTERVAL_S"], _recover, priority=10)

    def stop(self, worker):
        entry = getattr(self, "entry", None)
        if entry is not None:
            entry.cancel()


def _recover():
    close_old_connections()
    try:
        accepted.recover_accepted(dispatcher, hand_on=send_start)
    except (OperationalError, InterfaceError):
        logger.warning("accepted webhook recovery skipped: the database is unreachable")
    except Exception:  # never take the worker down; the next round tries again
        logger.exception("accepted webhook recovery failed")
