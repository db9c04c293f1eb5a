"""Leases of running node runs: renewed by a heartbeat thread while the node runs in this process.

A worker that dies (SIGKILL, lost machine) stops renewing; the reaper finds the
expired lease and runs the node again."""

import os
import threading
import time
from contextlib import contextmanager
from datetime import timedelta

from django.db import connection
from django.utils import timezone

_held = set()
_lock = threading.Lock()
_thread = None
_thread_pid = None


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
    from executions.models import NodeRun
    from executions.runtime import lease_seconds

    while True:
        interval = max(lease_seconds() / 3, 0.5)
        time.sleep(interval)
        with _lock:
            keys = list(_held)
        if not keys:
            continue
        try:
            expires = timezone.now() + timedelta(seconds=lease_seconds())
            for execution_id, node_id, attempt in keys:
                NodeRun.objects.filter(
                    execution_id=execution_id, node_id=node_id, attempt=attempt, status="running"
                ).update(lease_expires_at=expires)
        except Exception:  # the database may be briefly away; the next beat tries again
            pass
        finally:
            # A beat every few seconds does not need a connection held open in between.
            connection.close()
