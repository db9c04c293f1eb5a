"""Node work that can be stopped at its timeout: the run function in a forked child process.

A Celery prefork worker stops a node past its `timeout_s` with its time limits (a signal in the
pool process). Embedded mode's worker runs nodes on threads, and a thread cannot be stopped:
the reaper used to fail the run while the thread went on looping. With
NODEFLOW["STOPPABLE_NODES"] (on by default in embedded mode), a node with a `timeout_s` runs its
node type's function in a child forked for it; at the timeout the child is killed (SIGKILL) and
the attempt fails as `node_timeout`, so the work really ends.

The child inherits the rendered call (params, context, credentials come from the database as
usual, on a connection of its own) and sends back the outcome, the logs, the secrets it used and
its resource figures through a pipe; the parent never shares a database connection or a lock
with it: its inherited connections are dropped unused, and it leaves with os._exit."""

import os
import pickle
import select
import signal
import time
import traceback

from django.conf import settings
from django.db import connections

from engine.errors import TIMEOUT, NodeError

# Kept referenced in a child until it exits: the connections it inherited and must not close.
_inherited = []
# A child that died without a word (killed from outside, out of memory) fails the attempt like this.
_KILLED = "the node's process ended without a result (signal {signal})"


def enabled():
    return bool(settings.NODEFLOW.get("STOPPABLE_NODES"))


class ChildCrash(RuntimeError):
    """The node type raised in the child something other than a NodeError: its text and traceback."""


def run_stoppable(function, call, timeout_s):
    """`function(call)` in a child process killed at `timeout_s`; its value, or what it raised.

    `call`'s logs, secrets and resources are updated with what the child did."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(read_end)
        _child(function, call, write_end)
    os.close(write_end)
    try:
        data, timed_out = _read_until(read_end, time.monotonic() + float(timeout_s))
    finally:
        os.close(read_end)
    if timed_out:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    _, status, usage = os.wait4(pid, 0)
    # The child's CPU time, from the kernel: counted for a killed child too.
    call.resources["process_cpu_ms"] = round((usage.ru_utime + usage.ru_stime) * 1000, 3)
    if timed_out:
        raise NodeError(f"the node ran longer than its timeout of {float(timeout_s):g} s and was stopped", TIMEOUT,
                        code="node_timeout")
    if not data:
        raise NodeError(_KILLED.format(signal=os.WTERMSIG(status) if os.WIFSIGNALED(status) else "none"), TIMEOUT,
                        code="node_process_lost")
    outcome = pickle.loads(data)
    call.logs[:] = outcome["logs"]
    call.secrets.update(outcome["secrets"])
    call.resources.update(outcome["resources"])
    if "error" in outcome:
        error = outcome["error"]
        raise NodeError(error["message"], error["class"], code=error.get("code"), details=error.get("details"),
                        traceback=error.get("traceback"))
    if "crash" in outcome:  # under the exception's own class name, which the user's error shows
        raise type(outcome.get("crash_type", "ChildCrash"), (ChildCrash,), {})(outcome["crash"])
    return outcome["value"]


def _child(function, call, write_end):
    status = 1
    try:
        # The parent's connections are the parent's: forget them without closing (closing, or a
        # finalizer, would end the parent's session; os._exit runs none); a query here opens a
        # connection of the child's own.
        for connection in connections.all(initialized_only=True):
            _inherited.append(connection.connection)
            connection.connection = None
            connection.in_atomic_block, connection.needs_rollback = False, False
            connection.savepoint_ids, connection.atomic_blocks = [], []
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        outcome = {"logs": call.logs, "secrets": call.secrets, "resources": call.resources}
        try:
            outcome["value"] = function(call)
        except NodeError as error:
            outcome["error"] = error.as_dict()
        except Exception as exc:  # noqa: BLE001 — told to the parent, which fails the run with it
            outcome["crash"] = f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"
            outcome["crash_type"] = type(exc).__name__
        try:
            data = pickle.dumps(outcome)
        except Exception as exc:  # noqa: BLE001 — an output that cannot cross the pipe
            data = pickle.dumps({**outcome, "value": None, "crash": f"the node's output cannot be sent back: {exc}"})
        view = memoryview(data)
        while view:
            view = view[os.write(write_end, view):]
        status = 0
    finally:
        os._exit(status)


def _read_until(fd, deadline):
    """(everything the child wrote, whether the deadline passed first)."""
    chunks = []
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLHUP)
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return b"".join(chunks), True
        if not poller.poll(remaining * 1000):
            continue
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return b"".join(chunks), False
        chunks.append(chunk)


