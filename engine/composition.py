"""The rules of composite nodes (flow.group, flow.foreach, flow.subworkflow): how many child
executions run at once, what a child's end does to its parent node, what the parent node's
output is, and which children a retry runs again (COMPOSITION.md).

The parent node waits while its children run; its bookkeeping is a small counter object
(`Progress`) kept on the parent's node run, moved once per finished child under the parent
execution's lock, as join counters are. Nothing here touches a database: executions/children.py
loads, asks and writes."""

from dataclasses import asdict, dataclass

from engine.graph import MAIN

FAIL, CONTINUE, COLLECT = "fail", "continue", "collect"
ON_ITEM_ERROR = (FAIL, CONTINUE, COLLECT)
ERRORS_PORT = "errors"

# What the parent node does after a child's end.
WAIT, START, COMPLETE, FAIL_NODE = "wait", "start", "complete", "fail"


@dataclass
class Progress:
    """A composite node's children: how many there are, started, succeeded and failed, and its limits."""

    kind: str
    total: int
    concurrency: int = 1
    on_item_error: str = FAIL
    started: int = 0
    succeeded: int = 0
    failed: int = 0
    generation: int = 1  # a retry of the parent node starts a new one; children of an older one are ignored

    @property
    def done(self):
        return self.succeeded + self.failed

    @property
    def running(self):
        return self.started - self.done

    @property
    def queued(self):
        return self.total - self.started

    def as_dict(self):
        return asdict(self)

    @classmethod
    def from_dict(cls, data):
        return cls(**{key: data[key] for key in cls.__dataclass_fields__ if key in data})

    def counts(self):
        """The counts the API and the run view show: {total, succeeded, failed, running, queued}."""
        return {"total": self.total, "succeeded": self.succeeded, "failed": self.failed, "running": self.running,
                "queued": self.queued}


def effective_concurrency(asked, cap):
    """How many children of a loop may run at once: what the node asks (at least 1), at most `cap`."""
    return max(1, min(int(asked or 1), int(cap)))


def batches(items, batch_size):
    """The inputs of a loop's iterations: one item each, or lists of up to `batch_size` items."""
    if batch_size <= 1:
        return list(items)
    return [list(items[start:start + batch_size]) for start in range(0, len(items), batch_size)]


def to_start(progress, already_succeeded=0):
    """How many children to start now: up to the concurrency limit, never more than are left."""
    return max(0, min(progress.concurrency - progress.running, progress.queued))


def after_child(progress, succeeded):
    """(action, how many children to start) after one child ended; `progress` is updated in place.

    A failed child under on_item_error `fail` fails the node at once (the others are then
    cancelled); otherwise the node completes when every child has ended, and until then each
    end makes room for the next child, so that at most `concurrency` run at once."""
    if succeeded:
        progress.succeeded += 1
    else:
        progress.failed += 1
    if not succeeded and progress.on_item_error == FAIL:
        return FAIL_NODE, 0
    if progress.done >= progress.total:
        return COMPLETE, 0
    count = to_start(progress)
    return (START, count) if count else (WAIT, 0)


def first_action(progress):
    """(action, how many to start) when the node's children are created."""
    if progress.total == 0 or progress.done >= progress.total:
        return COMPLETE, 0
    return START, to_start(progress)


def to_run_again(statuses):
    """The indexes of the children a retry of the parent node runs again: every child that did not
    succeed; those that succeeded keep their results. `statuses` maps index → execution status."""
    return sorted(index for index, status in statuses.items() if status != "succeeded")


def output_of(progress, children):
    """(output, ports) of the composite node once its children ended.

    `children` are (index, status, result, item, error) in index order. A group or a sub-workflow
    gives its one child's result; a loop the list of its children's results in item order, without
    the failed ones under `continue`; under `collect` {"results": [...], "errors": [{index, item,
    error}]}, down `main` and, when something failed, `errors` too."""
    if progress.kind != "foreach":
        for _index, _status, result, _item, _error in children:
            return result, (MAIN,)
        return None, (MAIN,)
    results = [result for _index, status, result, _item, _error in children if status == "succeeded"]
    if progress.on_item_error != COLLECT:
        return results, (MAIN,)
    errors = [{"index": index, "item": item, "error": error}
              for index, status, _result, item, error in children if status != "succeeded"]
    return {"results": results, "errors": errors}, ((MAIN, ERRORS_PORT) if errors else (MAIN,))


def failure_message(progress, index, error):
    """The error message of a composite node whose child failed."""
    message = (error or {}).get("message") or "failed"
    if progress.kind == "foreach":
        return f"item {index} failed: {message}"
    return f"the {progress.kind} failed: {message}"


def depth_problem(depth, limit):
    """The message when a child at `depth` would nest deeper than the call-depth limit, else None."""
    if depth > limit:
        return (f"the call depth limit of {limit} (NODEFLOW_MAX_CALL_DEPTH) is exceeded: this call would run at "
                f"depth {depth}; a workflow calling itself needs a condition that ends the recursion")
    return None
