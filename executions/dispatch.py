"""What the runtime hands to a dispatcher, and when.

A dispatcher moves node runs between processes. It is passed to every runtime function
(never imported by them) and has:
- `dispatch(execution_id, starts)` — run these node runs (a list of Start);
- `dispatch_later(execution_id, node_id, eta, reason, start)` — at `eta`, do `reason`:
  "retry" runs the node again, "timer" wakes a waiting node, "execution_timeout" expires
  the execution (node_id empty);
- `revoke(task_ids)` — stop these node runs' tasks if they are queued or running;
- `requeue_unrecorded(execution_id, node_id, attempt)` — that attempt ran but its result
  could not be written: run the node again (reason `result_not_recorded`) once the
  database answers;
- `after_commit` — whether messages must wait for the transaction's commit (another
  process reads the rows) or may go at once (the inline dispatcher, one process);
- optionally `defer(function)` — call it when the dispatcher next takes work, outside the
  transaction that asked (the inline dispatcher: see `after_transition`).

executions.tasks.CeleryDispatcher and executions.inline.InlineDispatcher are the two."""

import logging
import time
from collections import namedtuple

from django.db import transaction

logger = logging.getLogger("nodeflow.engine")

# A send that fails is tried again this many times, after these pauses (seconds).
SEND_RETRY_DELAYS_S = (0.1, 0.5)

Start = namedtuple("Start", "node_id queue timeout_s task_id instant priority whole", defaults=(1, False))
Start.__doc__ = ("A node run to send to a worker: its queue, its time limit, the task id to send it under, "
                 "whether it is instant (several may go as one task, see executing.run_nodes), its "
                 "execution's priority (0 high, 1 normal, 2 low: executions.limits), and whether its workflow is "
                 "small enough that the worker loads every node run with the lock (compiled.SMALL_GRAPH).")


def start_of(compiled, node_id, task_id, priority=1):
    """The Start of a node run of a compiled workflow."""
    return Start(node_id, compiled.queue(node_id), compiled.timeout_s(node_id), task_id, compiled.runs_locally(node_id),
                 priority, compiled.loads_whole)


def when_committed(dispatcher):
    """How to call the dispatcher from inside a transaction: after its commit, or at once."""
    return transaction.on_commit if dispatcher.after_commit else _call_now


def after_transition(dispatcher):
    """How to call work that opens transitions of other executions (cancelling a node's children)
    from inside a transition: after its commit, or, for a dispatcher that sends at once, when it
    next takes work. Never at once: the open transition has not written its events yet, and a
    child cancelled inside it would write its own at the same sequence numbers."""
    defer = getattr(dispatcher, "defer", None)
    return defer if defer is not None else when_committed(dispatcher)


def _call_now(function):
    function()


def send(what, function):
    """Call `function` (a send to the broker), trying again briefly when it fails.

    It runs after the commit: the rows say what must happen, so a send that keeps failing is
    logged and left to recovery (executions.recovery), never raised into the task or the
    request that committed them."""
    for delay in (*SEND_RETRY_DELAYS_S, None):
        try:
            function()
            return True
        except Exception as exc:  # noqa: BLE001 — any broker failure: the database has the truth
            if delay is None:
                logger.warning("could not send %s: %s: %s; recovery sends it when it is due", what,
                               type(exc).__name__, exc)
                return False
            time.sleep(delay)
