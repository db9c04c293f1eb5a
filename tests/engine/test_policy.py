"""The orchestration policy on its own: no database, no broker, no clock."""

import pytest

from engine import policy
from engine.errors import PERMANENT, TIMEOUT, TRANSIENT
from engine.graph import Graph
from engine.scheduling import JOIN_FIRST, edge_resolved, edge_taken, emitted_ports, join_counters, taken_sources
from engine.states import EXECUTION_TRANSITIONS, NODE_TRANSITIONS, ExecutionStatus, NodeStatus

E, N = ExecutionStatus, NodeStatus


def graph(edges):
    ids = list(dict.fromkeys(x for edge in edges for x in edge[:2]))
    return Graph([{"id": i} for i in ids], [{"from": a, "to": b, **({"port": p[0]} if p else {})} for a, b, *p in edges])


@pytest.mark.parametrize("rule", policy.RULES, ids=lambda rule: rule.name)
def test_every_rule_is_a_transition_the_state_machines_allow(rule):
    table = EXECUTION_TRANSITIONS if isinstance(rule.to_state, ExecutionStatus) else NODE_TRANSITIONS
    for state in rule.from_states:
        assert rule.to_state in table[state], f"{rule.name}: {state} → {rule.to_state} is not allowed"


def test_rule_names_are_unique():
    assert len({rule.name for rule in policy.RULES}) == len(policy.RULES)


# -- after a failure


def test_a_retryable_error_within_the_policy_is_retried_with_the_backoff_delay():
    node = {"retry": {"max_attempts": 3, "backoff_s": 2, "jitter": False}}
    decision = policy.after_failure(node, 2, TRANSIENT)
    assert decision.rule is policy.RETRY and decision.retry_delay_s == 4.0
    assert decision.ports == () and not decision.fails_execution


def test_jitter_draws_the_delay_below_the_ceiling():
    node = {"retry": {"max_attempts": 3, "backoff_s": 2}}
    assert policy.after_failure(node, 1, TIMEOUT, rng=lambda: 0.25).retry_delay_s == 0.5


def test_the_last_attempt_or_an_error_class_the_policy_does_not_cover_goes_to_on_error():
    node = {"retry": {"max_attempts": 2}, "on_error": "route"}
    assert policy.after_failure(node, 2, TRANSIENT).rule is policy.ROUTE
    assert policy.after_failure(node, 1, PERMANENT).rule is policy.ROUTE
    assert policy.after_failure({"retry": {"max_attempts": 3, "on": ["permanent"]}}, 1, PERMANENT).rule is policy.RETRY


@pytest.mark.parametrize("on_error, rule, ports, fails", [
    ("continue", policy.CONTINUE, ("main",), False),
    ("route", policy.ROUTE, ("error",), False),
    ("fail", policy.FAIL, (), True),
    (None, policy.FAIL, (), True),
])
def test_on_error_decides_the_rule_its_ports_and_whether_the_execution_fails(on_error, rule, ports, fails):
    node = {"on_error": on_error} if on_error else {}
    decision = policy.after_failure(node, 1, PERMANENT)
    assert (decision.rule, decision.ports, decision.fails_execution) == (rule, ports, fails)


# -- settling


def test_an_execution_with_nothing_open_succeeds():
    assert policy.settle(E.RUNNING, set()) is policy.SUCCEED


def test_an_execution_whose_open_runs_all_wait_waits_and_wakes_when_one_is_busy_again():
    assert policy.settle(E.RUNNING, {N.WAITING, N.PENDING}) is policy.WAIT
    assert policy.settle(E.WAITING, {N.WAITING}) is None
    assert policy.settle(E.WAITING, {N.WAITING, N.QUEUED}) is policy.WAKE
    assert policy.settle(E.RUNNING, {N.RUNNING, N.WAITING}) is None


def test_new_work_final_and_paused_executions_do_not_settle_and_the_open_runs_are_not_asked_for():
    def asked():
        raise AssertionError("the open statuses were read")

    assert policy.settle(E.RUNNING, asked, new_work=True) is None
    assert policy.settle(E.SUCCEEDED, asked) is None
    assert policy.settle(E.PAUSED, asked) is None
    assert policy.settle(E.RUNNING, lambda: set()) is policy.SUCCEED


# -- claiming and results


@pytest.mark.parametrize("run, execution, allowed", [
    (N.QUEUED, E.QUEUED, True), (N.RETRYING, E.RUNNING, True), (N.QUEUED, E.WAITING, True),
    (N.RUNNING, E.RUNNING, False), (N.COMPLETED, E.RUNNING, False), (N.CANCELLED, E.RUNNING, False),
    (N.QUEUED, E.PAUSED, False), (N.QUEUED, E.CANCELLED, False), (N.QUEUED, E.FAILED, False),
])
def test_only_a_queued_or_retrying_run_of_a_live_unpaused_execution_is_claimed(run, execution, allowed):
    assert policy.may_claim(run, execution) is allowed


def test_only_the_running_attempt_records_its_result():
    assert policy.accepts_result(N.RUNNING, 2, 2)
    assert not policy.accepts_result(N.RUNNING, 3, 2)  # a later attempt runs: this one is late
    assert not policy.accepts_result(N.CANCELLED, 2, 2)


def test_a_wait_ends_down_main_with_input_down_main_or_down_timeout_when_input_never_came():
    assert policy.wake_outcome({"until": "t"}, "timer") == (policy.TIMER_FIRED, {"waited_until": "t"}, ("main",))
    assert policy.wake_outcome({"input": True}, "input", {"ok": 1}) == (policy.INPUT_ARRIVED, {"ok": 1}, ("main",))
    assert policy.wake_outcome({"input": True, "until": "t"}, "timer") == (
        policy.TIMER_FIRED, {"timed_out": True, "waited_until": "t"}, ("timeout",))


# -- edges


def test_an_edge_is_taken_when_its_source_emitted_its_port():
    g = graph([("if", "yes", "true"), ("if", "no", "false")])
    yes, no = g.outgoing["if"]
    assert edge_taken(yes, ("true",)) and not edge_taken(no, ("true",))


def test_only_completed_runs_and_runs_failed_down_a_port_emit_ports():
    assert emitted_ports(N.COMPLETED, ["main"]) == ("main",)
    assert emitted_ports(N.FAILED, ["error"]) == ("error",)
    assert emitted_ports(N.SKIPPED, None) == ()
    assert emitted_ports(N.CANCELLED, ["main"]) == ()
    assert edge_resolved(N.FAILED, ["error"]) and not edge_resolved(N.FAILED, [])
    assert edge_resolved(N.SKIPPED, None) and not edge_resolved(N.RUNNING, None)


def test_join_counters_from_the_predecessors_states():
    g = graph([("a", "j"), ("b", "j"), ("c", "j", "error")])
    runs = {"a": (N.COMPLETED, ["main"]), "b": (N.SKIPPED, None), "c": (N.RUNNING, None), "j": (N.PENDING, None)}
    assert join_counters(g, "j", runs) == (1, 1)
    runs["c"] = (N.FAILED, ["error"])
    assert join_counters(g, "j", runs) == (0, 2)


def test_taken_sources_in_edge_order_and_only_the_first_finisher_for_a_first_join():
    g = graph([("a", "j"), ("b", "j"), ("c", "j")])
    runs = {"a": (N.COMPLETED, ["main"]), "b": (N.COMPLETED, ["main"]), "c": (N.SKIPPED, None)}
    assert taken_sources(g, "j", runs) == ["a", "b"]
    assert taken_sources(g, "j", runs, JOIN_FIRST, finish_order={"a": 9, "b": 4}) == ["b"]


# -- retrying a failed execution


def test_a_retry_requeues_failed_nodes_and_cancelled_ones_whose_inputs_are_in_and_resets_the_rest():
    g = graph([("s", "a"), ("s", "b"), ("a", "j"), ("b", "j"), ("j", "z")])
    runs = {"s": (N.COMPLETED, ["main"]), "a": (N.FAILED, []), "b": (N.CANCELLED, None),
            "j": (N.CANCELLED, None), "z": (N.PENDING, None)}
    plan = {step.node_id: step for step in policy.retry_plan(g, runs)}
    assert list(plan) == ["a", "b", "j"]
    assert plan["a"].rule is policy.REQUEUE and (plan["a"].inputs_remaining, plan["a"].inputs_taken) == (0, 1)
    assert plan["b"].rule is policy.REQUEUE
    assert plan["j"].rule is policy.RESET and (plan["j"].inputs_remaining, plan["j"].inputs_taken) == (2, 0)


def test_a_node_that_failed_down_its_error_port_is_not_run_again():
    g = graph([("s", "a"), ("a", "handler", "error")])
    runs = {"s": (N.COMPLETED, ["main"]), "a": (N.FAILED, ["error"]), "handler": (N.FAILED, [])}
    assert [step.node_id for step in policy.retry_plan(g, runs)] == ["handler"]


def test_a_try_lost_to_the_infrastructure_is_the_same_try_when_it_runs_again():
    failed = {"error": {"code": "http.status"}}
    lost = {"error": {"code": "worker_lost"}}
    unrecorded = {"error": {"code": "result_not_recorded"}}
    assert policy.try_number([]) == 1
    assert policy.try_number([lost]) == 1 and policy.try_number([lost, unrecorded]) == 1
    assert policy.try_number([failed]) == 2 and policy.try_number([failed, lost]) == 2
    assert policy.try_number([{"error": None}, failed]) == 3  # a completed attempt before (a retried execution)
