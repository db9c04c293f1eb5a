"""Waking: a waiting node run ends because its timer fired or the input it waits for arrived."""

from django.db import transaction

from engine import policy
from engine.states import EXECUTION_FINAL, ExecutionStatus, NodeStatus
from executions.models import ExecutionEvent
from executions.starting import InvalidInput, input_problems
from executions.transition import Transition

E, N = ExecutionStatus, NodeStatus


class NotWaitingForInput(ValueError):
    """Input was posted for a node that does not wait for input."""


def wake_node(execution_id, node_id, *, dispatcher, reason="timer", data=None):
    """End a waiting node: its timer fired (`timer`), or input arrived (`input`). False when it no longer waits."""
    with transaction.atomic():
        transition = Transition(execution_id, dispatcher)
        run = transition.run(node_id)
        if run.status != N.WAITING or transition.execution.status in EXECUTION_FINAL:
            return False
        wait = run.wait or {}
        if reason == "input" and not wait.get("input"):
            raise NotWaitingForInput(f"node {node_id!r} is not waiting for input")
        if reason == "input" and wait.get("schema"):
            problems = input_problems(wait["schema"], data)
            if problems:
                raise InvalidInput(problems)
        rule, output, ports = policy.wake_outcome(wait, reason, data)
        transition.set_node(run, rule.to_state, event_data={"ports": list(ports)}, output=output, ports=list(ports),
                            finished_at=transition.now(), finish_seq=transition.execution.last_seq + 1, wait=None)
        transition.event(ExecutionEvent.DATA_AVAILABLE, node_id, ports=list(ports), has_output=output is not None)
        if policy.WAKE.applies_to(transition.execution.status):
            transition.set_execution(policy.WAKE.to_state)
        transition.resolve(node_id, ports)
        transition.settle()
        transition.flush()
        return True
