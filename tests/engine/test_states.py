import pytest

from engine.states import InvalidTransition, check_execution_transition, check_node_transition


@pytest.mark.parametrize(("current", "target"), [("completed", "running"), ("skipped", "queued"), ("pending", "completed")])
def test_node_transitions_that_are_not_allowed_are_refused(current, target):
    with pytest.raises(InvalidTransition):
        check_node_transition(current, target)


def test_allowed_node_transitions_pass():
    for current, target in [("pending", "queued"), ("queued", "running"), ("running", "completed"), ("running", "retrying")]:
        check_node_transition(current, target)


def test_finished_executions_do_not_come_back():
    with pytest.raises(InvalidTransition):
        check_execution_transition("succeeded", "running")
    with pytest.raises(InvalidTransition):
        check_execution_transition("cancelled", "running")
