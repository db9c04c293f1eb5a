"""What the runtime hands to a dispatcher, and when.

A dispatcher moves node runs between processes. It is passed to every runtime function
(never imported by them) and has:
- `dispatch(execution_id, starts)` — run these node runs (a list of Start);
- `dispatch_later(execution_id, node_id, eta, reason, start)` — at `eta`, do `reason`:
  "retry" runs the node again, "timer" wakes a waiting node, "execution_timeout" expires
  the execution (node_id empty);
- `revoke(task_ids)` — stop these node runs' tasks if they are queued or running;
- `after_commit` — whether messages must wait for the transaction's commit (another
  process reads the rows) or may go at once (the inline dispatcher, one process).

executions.tasks.CeleryDispatcher and executions.inline.InlineDispatcher are the two."""

from collections import namedtuple

from django.db import transaction

Start = namedtuple("Start", "node_id queue timeout_s task_id instant")
Start.__doc__ = ("A node run to send to a worker: its queue, its time limit, the task id to send it under, "
                 "and whether it is instant (several may go as one task, see executing.run_nodes).")


def start_of(compiled, node_id, task_id):
    """The Start of a node run of a compiled workflow."""
    return Start(node_id, compiled.queue(node_id), compiled.timeout_s(node_id), task_id, compiled.runs_locally(node_id))


def when_committed(dispatcher):
    """How to call the dispatcher from inside a transaction: after its commit, or at once."""
    return transaction.on_commit if dispatcher.after_commit else _call_now


def _call_now(function):
    function()
