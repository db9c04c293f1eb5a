"""Leases of running node runs: renewed by a heartbeat thread while the node runs in this process.

A worker that dies (SIGKILL, lost machine) stops renewing; the reaper finds the
expired lease and runs the node again. A renewal that fails is logged and counted
(`nodeflow_lease_renewal_failures_total` in /metrics): one that keeps failing lets the
lease expire, and the reaper then runs again a node that may still be running."""

import logging
import os
import threading
import time
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

from executions.models import NodeRun
from nodeflow.cache import count as counter

logger = logging.getLogger("nodeflow.engine")

# The cache key /metrics reads the count of failed renewals from (shared by all workers).
RENEWAL_FAILURES_KEY = "nodeflow:metrics:lease_renewal_failures"

_held = set()
# Failed renewals in this process since it started, and since the last one that worked.
renewal_failures = 0
_failing_since = None
_clock = time.monotonic  # how long renewals have been failing is measured on it (tests set their own)
_lock = threading.Lock()
_thread = None
_thread_pid = None


def lease_seconds():
    """How long a node run's lease lasts; renewed every third of it while the node runs."""
    return settings.NODEFLOW["NODE_LEASE_S"]


@contextmanager
def held(execution_id, node_id, attempt):
    key = (execution_id, node_id, attempt)
    _ensure_heartbeat()
    with _lock:
        _held.add(key)
    try:
        yield
    finally:
        with _lock:
            _held.discard(key)


def _ensure_heartbeat():
    global _thread, _thread_pid
    if _thread is not None and _thread_pid == os.getpid() and _thread.is_alive():
        return
    with _lock:
        if _thread is not None and _thread_pid == os.getpid() and _thread.is_alive():
            return
        _thread_pid = os.getpid()
        _thread = threading.Thread(target=_beat, name="nodeflow-lease-heartbeat", daemon=True)
        _thread.start()


def _beat():
    while True:
        # Every third of a lease; every half second while renewals fail, so that leases are
        # renewed as soon as the database answers again (the reaper waits a lease for that).
        interval = 0.5 if _failing_since is not None else max(lease_seconds() / 3, 0.5)
        time.sleep(interval)
        with _lock:
            keys = list(_held)
        if keys:
            renew(keys)


def renew(keys):
    """Extend the leases of the node runs `keys` ((execution id, node id, attempt)); False when it failed."""
    global _failing_since
    try:
        expires = timezone.now() + timedelta(seconds=lease_seconds())
        for execution_id, node_id, attempt in keys:
            NodeRun.objects.filter(
                execution_id=execution_id, node_id=node_id, attempt=attempt, status="running"
            ).update(lease_expires_at=expires)
    except Exception as exc:  # the database may be briefly away; the next beat tries again
        _record_failure(keys, exc)
        return False
    else:
        if _failing_since is not None:
            logger.warning("lease renewal works again after %.1f s", _clock() - _failing_since)
            _failing_since = None
        return True
    finally:
        # A beat every few seconds does not need a connection held open in between.
        connection.close()


def _record_failure(keys, exc):
    global renewal_failures, _failing_since
    renewal_failures += 1
    now = _clock()
    if _failing_since is None:
        _failing_since = now
    failing_for = now - _failing_since
    level = logging.ERROR if failing_for >= lease_seconds() else logging.WARNING
    logger.log(level, "could not renew the leases of %d running node run(s) (failing for %.1f s of a %s s lease; "
               "past it the reaper runs them again): %s: %s", len(keys), failing_for, lease_seconds(),
               type(exc).__name__, exc)
    try:
        counter(RENEWAL_FAILURES_KEY)
    except Exception:  # noqa: BLE001 — the count is best effort; the log line above is the record
        pass
