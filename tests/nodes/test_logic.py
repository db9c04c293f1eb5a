"""logic.if and logic.switch through real workflow runs, with JsonLogic conditions on the context."""

import pytest

from tests.nodes.support import log_text, node, run, workflow

pytestmark = pytest.mark.django_db


def if_workflow(condition, before=()):
    """start -> [before…] -> check (logic.if) -> yes | no (terminals)."""
    nodes = [*before, node("check", "logic.if", condition=condition),
             node("yes", "flow.terminal", result="yes"), node("no", "flow.terminal", result="no")]
    chain = ["start", *(n["id"] for n in before), "check"]
    edges = [{"from": a, "to": b} for a, b in zip(chain, chain[1:])]
    edges += [{"from": "check", "port": "true", "to": "yes"}, {"from": "check", "port": "false", "to": "no"}]
    return workflow(nodes, edges=edges)


@pytest.mark.parametrize(("amount", "port", "skipped"), [(150, "yes", "no"), (50, "no", "yes")])
def test_if_follows_the_port_of_the_condition(amount, port, skipped):
    execution, runs = run(if_workflow({">": [{"var": "input.amount"}, 100]}), {"amount": amount})

    assert execution.status == "succeeded"
    assert execution.result == port
    assert runs[skipped].status == "skipped"
    assert runs["check"].output == {"result": port == "yes"}
    assert runs["check"].ports == ["true" if port == "yes" else "false"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, "no"), ("", "no"), ([], "no"), (None, "no"), (1, "yes"), ("0", "yes"), ([0], "yes"), ({"a": 1}, "yes")],
)
def test_if_uses_jsonlogic_truthiness(value, expected):
    execution, runs = run(if_workflow({"var": "input.value"}), {"value": value})

    assert execution.result == expected


def test_if_reads_vars_and_upstream_node_outputs():
    before = [
        node("set", "data.set", vars={"limit": 3}, output={"items": [1, 2, 3, 4]}),
    ]
    condition = {">": [{"var": "nodes.set.output.items.3"}, {"var": "vars.limit"}]}

    execution, runs = run(if_workflow(condition, before=before))

    assert execution.result == "yes"
    assert "condition is true" in log_text(runs["check"])


def test_if_condition_is_not_rendered_as_an_expression():
    # JsonLogic params are passed as written: braces in a literal stay braces.
    execution, runs = run(if_workflow({"==": [{"var": "input.text"}, "{{ not rendered }}"]}),
                          {"text": "{{ not rendered }}"})

    assert execution.result == "yes"


def test_if_with_a_broken_condition_fails_and_shows_the_rule():
    execution, runs = run(if_workflow({"no_such_operator": [1, 2]}))

    assert execution.status == "failed"
    error = runs["check"].error
    assert error["class"] == "permanent"
    assert error["code"] == "jsonlogic"
    assert error["message"].startswith("condition could not be evaluated")
    assert "no_such_operator" in error["message"]
    assert "completed" not in (runs["yes"].status, runs["no"].status)


def switch_workflow(cases):
    """start -> route (logic.switch) -> one terminal per case and `default`."""
    names = [case["name"] for case in cases] + ["default"]
    nodes = [node("route", "logic.switch", cases=cases)]
    nodes += [node(f"to_{name}", "flow.terminal", result=name) for name in dict.fromkeys(names)]
    edges = [{"from": "start", "to": "route"}]
    edges += [{"from": "route", "port": name, "to": f"to_{name}"} for name in dict.fromkeys(names)]
    return workflow(nodes, edges=edges)


TIERS = [
    {"name": "big", "condition": {">=": [{"var": "input.total"}, 1000]}},
    {"name": "medium", "condition": {">=": [{"var": "input.total"}, 100]}},
    {"name": "any_paid", "condition": {">": [{"var": "input.total"}, 0]}},
]


@pytest.mark.parametrize(("total", "port"), [(5000, "big"), (500, "medium"), (1, "any_paid"), (0, "default")])
def test_switch_takes_the_first_matching_case_or_default(total, port):
    execution, runs = run(switch_workflow(TIERS), {"total": total})

    assert execution.status == "succeeded"
    assert execution.result == port
    assert runs["route"].output == {"case": port}
    assert runs["route"].ports == [port]
    others = {"big", "medium", "any_paid", "default"} - {port}
    assert {runs[f"to_{name}"].status for name in others} == {"skipped"}


def test_switch_stops_at_the_first_match_without_evaluating_later_cases():
    cases = [
        {"name": "first", "condition": True},
        {"name": "broken", "condition": {"no_such_operator": []}},
    ]

    execution, runs = run(switch_workflow(cases))

    assert execution.result == "first"


def test_switch_with_a_broken_condition_names_the_case():
    cases = [
        {"name": "ok", "condition": False},
        {"name": "bad", "condition": {"/": [1, "not a number"]}},
    ]

    execution, runs = run(switch_workflow(cases))

    assert execution.status == "failed"
    assert runs["route"].error["code"] == "jsonlogic"
    assert runs["route"].error["message"].startswith("cases[1] ('bad') condition could not be evaluated")


def test_switch_refuses_two_cases_with_the_same_name():
    cases = [{"name": "same", "condition": False}, {"name": "same", "condition": True}]

    execution, runs = run(switch_workflow(cases))

    assert execution.status == "failed"
    assert "two cases are named 'same'" in runs["route"].error["message"]


@pytest.mark.parametrize("name", ["default", "error"])
def test_switch_refuses_a_case_named_like_a_reserved_port(name):
    execution, runs = run(switch_workflow([{"name": name, "condition": True}]))

    assert execution.status == "failed"
    assert "reserved port" in runs["route"].error["message"]


def test_switch_declares_a_port_per_case_plus_default():
    from nodes.registry import registry

    switch = registry.get("logic.switch")
    ports = switch.output_ports({"type": "logic.switch", "params": {"cases": TIERS}})

    assert ports == ["big", "medium", "any_paid", "default"]


def test_if_and_switch_route_on_the_worker(celery_worker):
    from executions import starting
    from executions.tasks import dispatcher
    from tests.conftest import wait_for_execution

    document = switch_workflow(TIERS)
    started = starting.start_execution(document, dispatcher=dispatcher, input_data={"total": 500})
    execution = wait_for_execution(started.pk)

    assert execution.status == "succeeded"
    assert execution.result == "medium"
