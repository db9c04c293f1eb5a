"""Turning webhook requests the door accepted (AcceptedRequest rows) into their executions, once each.

The door answered 202 with an execution id once the row was committed; here a worker
creates the execution with that id and deletes the row in one transaction. The row is
taken FOR UPDATE SKIP LOCKED, so two workers, or a worker and recovery (every worker's
`AcceptedRecovery` step, triggers.tasks), never both start it; a row that is gone was
started. Recovery takes the rows older than NODEFLOW_RECOVER_QUEUED_AFTER_S: their task
was never sent (the web process died after its commit, or Redis was away) or died with
its worker.

The door rings a bell after its commit (`ring`): it sends the task only when no start is
pending already, and the task answers (`bell_answered`) before it starts every request
waiting, oldest first (`start_waiting`). A request committed while a start is pending is
therefore taken by that start, and the batches grow with the load: under 500 requests/s
a task (a broker trip, the pool's hand-over, the rows' lookup, the version's validation, a
commit) per request took more of the machine than the requests' executions."""

import logging
import time
from datetime import timedelta

from cachetools import LRUCache, TTLCache
from django.conf import settings
from django.core.cache import cache
from django.db import DataError, IntegrityError, InterfaceError, OperationalError, transaction
from django.utils import timezone

from executions import store
from executions.executing import StartHere, run_nodes
from executions.starting import InvalidInput, start_execution
from nodes.validation import InvalidWorkflow, validate_document
from triggers.models import AcceptedRequest

logger = logging.getLogger("nodeflow.triggers")

BELL_KEY = "nodeflow:accepted:bell"
# How long a ring counts as pending: the bound on how long requests wait when the task it sent was lost (after
# that the next commit rings again; recovery takes them in any case). A task still queued then is sent twice:
# the second finds nothing left to start.
BELL_TTL_S = 2
SWEEP_BATCH = 50  # requests started in one transaction by start_waiting


def ring():
    """After the door's commit: True when no start is pending, and the caller sends one (the task)."""
    try:
        return cache.add(BELL_KEY, 1, timeout=BELL_TTL_S)
    except Exception:  # noqa: BLE001 — Redis away: a start is sent all the same (and fails alike, for recovery)
        logger.warning("the accepted webhook requests' bell could not be rung; a start is sent", exc_info=True)
        return True


def bell_answered():
    """The task, before it looks for waiting requests: what is committed from now on rings again."""
    try:
        cache.delete(BELL_KEY)
    except Exception:  # noqa: BLE001 — the ring expires after BELL_TTL_S
        logger.warning("the accepted webhook requests' bell could not be answered", exc_info=True)


def start_waiting(dispatcher, *, worker=None, budget_s=None):
    """Start the accepted requests waiting, oldest first, SWEEP_BATCH to a transaction as start_accepted does
    with `run_here`, until none is left or `budget_s` (LOCAL_RUN_BUDGET_S) has passed; (how many started,
    whether some may be left).

    The candidates are read FOR UPDATE SKIP LOCKED and let go at once: rows another worker is starting
    are not candidates, and start_accepted takes each candidate again, skipping what went meanwhile. A
    batch that fails (not the database being away: the task retries then) is started a request at a
    time, so that one request whose start fails holds up no other; that one is left to recovery."""
    deadline = time.monotonic() + (settings.NODEFLOW["LOCAL_RUN_BUDGET_S"] if budget_s is None else budget_s)
    started = 0
    while True:
        with transaction.atomic():
            ids = list(AcceptedRequest.objects.select_for_update(skip_locked=True).exclude(pk__in=list(_failing))
                       .order_by("received_at").values_list("pk", flat=True)[:SWEEP_BATCH])
        if not ids:
            return started, False
        started += _start_isolated(ids, dispatcher, worker)
        if len(ids) < SWEEP_BATCH:  # all there was: what is committed from now on rang the bell again
            return started, False
        if time.monotonic() >= deadline:
            return started, True


def _start_isolated(ids, dispatcher, worker):
    """start_accepted(ids) for start_waiting; if it fails, each request alone, and one that fails alone is
    skipped for a while."""
    try:
        return start_accepted(ids, dispatcher, run_here=True, worker=worker)
    except (OperationalError, InterfaceError):
        raise
    except Exception:  # noqa: BLE001 — a bug's victim: the others go on, recovery tries it again meanwhile
        if len(ids) == 1:
            _failing[ids[0]] = True
            logger.exception("accepted webhook request %s could not be started; recovery tries again", ids[0])
            return 0
    return sum(_start_isolated([one], dispatcher, worker) for one in ids)


# Requests whose start failed, skipped by start_waiting for a while (recovery tries them meanwhile).
_failing = TTLCache(maxsize=1024, ttl=60)


def start_accepted(ids, dispatcher, *, run_here=False, worker=None):
    """Start the execution of each accepted request still waiting, all in one transaction; how many.

    One transaction for the batch: the rows are locked together, each version is loaded and
    validated once, the executions with their node runs and events go in one INSERT per table
    (executions.store.inserted_together), and the rows in one DELETE (a request at a time paid
    eight round trips).
    With `run_here` (the task, in a worker's pool) each execution's instant nodes run in that same
    transaction, in this process (executions.executing.StartHere, under one LOCAL_RUN_BUDGET_S for
    the batch), and what they leave instant and queued runs here after the commit
    (executions.executing.run_nodes), instead of going through the broker; recovery, in the worker's
    main process, sends them. A result the database refuses rolls the batch back: it is started again
    with only the trigger nodes run after the commit, each in a transaction of its own."""
    if run_here:
        try:
            return _start_accepted(ids, dispatcher, worker, here=True)
        except (DataError, IntegrityError):
            logger.warning("accepted webhook requests' instant nodes could not be written where they started; "
                           "they run after the start", exc_info=True)
    return _start_accepted(ids, dispatcher, worker, here=False, run_here=run_here)


def _start_accepted(ids, dispatcher, worker, *, here, run_here=True):
    collected = _Collected()
    with transaction.atomic():
        rows = list(AcceptedRequest.objects.select_for_update(skip_locked=True, of=("self",))
                    .select_related("endpoint__workflow").filter(pk__in=ids).order_by("received_at"))
        with store.inserted_together():
            started, done, starts_here = _start_rows(rows, collected, worker, here)
        if done:
            AcceptedRequest.objects.filter(pk__in=done).delete()
    for start_here in starts_here:  # committed: the instant runs claimed when the budget ran out
        start_here.finish(dispatcher)
    for execution_id, starts in collected.sent:  # committed: the node runs are queued, due for recovery
        _first_nodes(execution_id, starts, dispatcher, run_here, worker)
    return started


def _start_rows(rows, collected, worker, here):
    """Start the execution of each row, in the caller's transaction; (how many started, the rows done with,
    the StartHere of each whose instant nodes ran here)."""
    started, done, starts_here, documents = 0, [], [], {}
    deadline = time.monotonic() + settings.NODEFLOW["LOCAL_RUN_BUDGET_S"]
    for row in rows:  # a row missing from `rows` was started already, or is being started elsewhere
        workflow, node_id = row.endpoint.workflow, row.endpoint.node_id
        key = (workflow.pk, row.version)
        if key not in documents:
            documents[key] = _runnable(workflow, row.version)
        start_here = StartHere(deadline, worker) if here else None
        try:
            if isinstance(documents[key], Exception):
                raise documents[key]
            start_execution(documents[key], dispatcher=collected, owner_id=workflow.owner_id, workflow=workflow,
                            version=row.version, input_data=row.input, trigger="webhook", trigger_node=node_id,
                            execution_id=row.pk, run_here=start_here, savepoint=False)
            started += 1
            if start_here is not None:
                starts_here.append(start_here)
        except (InvalidWorkflow, InvalidInput, LookupError, ValueError) as exc:
            # The door checked all of this against the same version: only a version that went away gets here.
            logger.error("accepted webhook request %s cannot run and is dropped: %s: %s", row.pk,
                         type(exc).__name__, exc)
        done.append(row.pk)
    return started, done, starts_here


class _Collected:
    """A dispatcher that keeps what the executions it starts would send, until their commit."""

    after_commit = True

    def __init__(self):
        self.sent = []

    def dispatch(self, execution_id, starts):
        self.sent.append((execution_id, starts))


def _first_nodes(execution_id, starts, dispatcher, run_here, worker):
    try:
        if run_here and all(start.instant for start in starts):
            run_nodes(execution_id, [start.node_id for start in starts], dispatcher=dispatcher, worker=worker)
        else:
            dispatcher.dispatch(execution_id, starts)
    except Exception:  # noqa: BLE001 — the queued runs are in the database: recovery sends them when due
        logger.warning("the first nodes of execution %s were neither run nor sent; recovery sends them",
                       execution_id, exc_info=True)


def _runnable(workflow, number):
    """The document of version `number` of the workflow, or the exception that says why it cannot run.

    A published version does not change: once loaded and found valid it is kept in this process
    (each batch of a busy hook loaded and validated it again, most of a small batch's cost)."""
    key = (workflow.pk, number)
    document = _valid_versions.get(key)
    if document is not None:
        return document
    document = workflow.versions.filter(number=number).values_list("definition", flat=True).first()
    if document is None:
        return LookupError(f"the workflow has no version {number}")
    errors = validate_document(document)
    if errors:
        return InvalidWorkflow(errors)
    _valid_versions[key] = document
    return document


# (workflow id, version number) → its document, valid: what _runnable found.
_valid_versions = LRUCache(maxsize=256)


def recover_accepted(dispatcher, now=None, limit=100, hand_on=None):
    """Start the accepted requests that have waited longer than NODEFLOW_RECOVER_QUEUED_AFTER_S; how many.

    At most `limit` per round, in one transaction: recovery runs in the worker's main process,
    whose timer it holds meanwhile. When it found that many, more may be waiting (a backlog left by
    processes that died, or by Redis away): `hand_on()` then asks the pool to start them (the task,
    start_waiting) instead of leaving them to later rounds, `limit` every REAPER_INTERVAL_S."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.NODEFLOW["RECOVER_QUEUED_AFTER_S"])
    ids = list(AcceptedRequest.objects.filter(received_at__lte=cutoff).order_by("received_at")
               .values_list("pk", flat=True)[:limit])
    if not ids:
        return 0
    started = start_accepted(ids, dispatcher)
    if started:
        logger.warning("recovery: started %d accepted webhook requests whose start was not under way", started)
    if len(ids) == limit and hand_on is not None:
        hand_on()
    return started
