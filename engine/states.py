"""The state machines of executions and node runs: the allowed transitions, and nothing else."""

from enum import StrEnum


class ExecutionStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    PAUSED = "paused"
    WAITING = "waiting"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed_out"


class NodeStatus(StrEnum):
    PENDING = "pending"
    QUEUED = "queued"
    RUNNING = "running"
    WAITING = "waiting"
    RETRYING = "retrying"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    SKIPPED = "skipped"


E, N = ExecutionStatus, NodeStatus

EXECUTION_FINAL = frozenset({E.SUCCEEDED, E.FAILED, E.CANCELLED, E.TIMED_OUT})
NODE_FINAL = frozenset({N.COMPLETED, N.FAILED, N.CANCELLED, N.SKIPPED})
NODE_OPEN = frozenset(set(N) - NODE_FINAL)

EXECUTION_TRANSITIONS = {
    E.QUEUED: {E.RUNNING, E.CANCELLED, E.FAILED, E.TIMED_OUT, E.PAUSED},
    E.RUNNING: {E.PAUSED, E.WAITING, E.SUCCEEDED, E.FAILED, E.CANCELLED, E.TIMED_OUT},
    E.PAUSED: {E.RUNNING, E.CANCELLED, E.FAILED, E.TIMED_OUT},
    E.WAITING: {E.RUNNING, E.PAUSED, E.SUCCEEDED, E.FAILED, E.CANCELLED, E.TIMED_OUT},
    # Retrying a failed execution runs it again from its failed nodes.
    E.FAILED: {E.RUNNING},
    E.TIMED_OUT: {E.RUNNING},
    E.SUCCEEDED: set(),
    E.CANCELLED: set(),
}

NODE_TRANSITIONS = {
    N.PENDING: {N.QUEUED, N.SKIPPED, N.CANCELLED},
    N.QUEUED: {N.RUNNING, N.CANCELLED, N.WAITING},
    # running → queued: its worker was lost, the node runs again.
    N.RUNNING: {N.COMPLETED, N.FAILED, N.RETRYING, N.WAITING, N.CANCELLED, N.QUEUED},
    N.WAITING: {N.QUEUED, N.RUNNING, N.COMPLETED, N.FAILED, N.CANCELLED},
    N.RETRYING: {N.QUEUED, N.RUNNING, N.CANCELLED, N.FAILED},
    # A retried execution re-queues its failed and cancelled nodes.
    N.FAILED: {N.QUEUED},
    N.CANCELLED: {N.QUEUED, N.PENDING},
    N.COMPLETED: set(),
    N.SKIPPED: set(),
}


class InvalidTransition(Exception):
    """A state change the state machine does not allow (a late or duplicate delivery, usually)."""

    def __init__(self, kind, current, target):
        super().__init__(f"{kind} cannot go from {current} to {target}")
        self.kind, self.current, self.target = kind, current, target


def check_execution_transition(current, target):
    if ExecutionStatus(target) not in EXECUTION_TRANSITIONS[ExecutionStatus(current)]:
        raise InvalidTransition("execution", current, target)


def check_node_transition(current, target):
    if NodeStatus(target) not in NODE_TRANSITIONS[NodeStatus(current)]:
        raise InvalidTransition("node run", current, target)
