"""data.set through real workflow runs: variables and output, literal or from expressions, types kept."""

import pytest

from tests.nodes.support import log_text, node, run, workflow

pytestmark = pytest.mark.django_db

LITERALS = {"text": "hi", "int": 3, "float": 2.5, "yes": True, "none": None, "list": [1, "a"], "obj": {"k": [1]}}


def test_literal_values_of_every_json_type_are_written_to_vars():
    document = workflow([
        node("set", "data.set", vars=LITERALS),
        node("end", "flow.terminal", result="{{ vars }}"),
    ])

    execution, runs = run(document)

    assert execution.status == "succeeded", runs["set"].error
    assert execution.result == LITERALS
    assert "text" in log_text(runs["set"])


def test_expressions_keep_their_json_type_and_mixed_text_renders_to_a_string():
    document = workflow([
        node("set", "data.set", vars={
            "count": "{{ input.count }}",
            "items": "{{ input.items }}",
            "user": "{{ input.user }}",
            "flag": "{{ input.flag }}",
            "greeting": "Hello {{ input.user.name }}, you have {{ input.count }} items",
        }),
        node("end", "flow.terminal", result="{{ vars }}"),
    ])

    execution, runs = run(document, {"count": 4, "items": [1, 2], "user": {"name": "Ada"}, "flag": False})

    assert execution.result == {
        "count": 4,
        "items": [1, 2],
        "user": {"name": "Ada"},
        "flag": False,
        "greeting": "Hello Ada, you have 4 items",
    }


def test_output_becomes_the_node_output_that_later_nodes_read():
    document = workflow([
        node("set", "data.set", output={"total": "{{ input.a }}", "label": "sum of {{ input.a }}"}),
        node("end", "flow.terminal", result={"total": "{{ nodes.set.output.total }}", "vars": "{{ vars }}"}),
    ])

    execution, runs = run(document, {"a": 10})

    assert runs["set"].output == {"total": 10, "label": "sum of 10"}
    assert execution.result == {"total": 10, "vars": {}}


def test_vars_and_output_can_be_set_together():
    document = workflow([node("set", "data.set", vars={"x": 1}, output=["done"])])

    execution, runs = run(document)

    assert runs["set"].output == ["done"]
    assert runs["set"].vars_state["values"] == {"x": 1}


def test_a_later_set_overwrites_a_variable_and_keeps_the_others():
    document = workflow([
        node("first", "data.set", vars={"x": 1, "y": "keep"}),
        node("second", "data.set", vars={"x": "{{ vars.x + 1 }}"}),
        node("end", "flow.terminal", result="{{ vars }}"),
    ])

    execution, runs = run(document)

    assert execution.result == {"x": 2, "y": "keep"}


def test_a_variable_set_in_one_branch_is_not_seen_by_a_parallel_branch():
    nodes = [
        node("left", "data.set", vars={"seen_by_left": True}),
        node("right", "data.set", output="{{ vars }}"),
    ]
    edges = [{"from": "start", "to": "left"}, {"from": "start", "to": "right"}]

    execution, runs = run(workflow(nodes, edges=edges))

    assert runs["right"].output == {}


def test_vars_written_by_parallel_branches_meet_at_the_join():
    nodes = [
        node("left", "data.set", vars={"a": 1}),
        node("right", "data.set", vars={"b": 2}),
        node("join", "flow.merge"),
        node("end", "flow.terminal", result="{{ vars }}"),
    ]
    edges = [{"from": "start", "to": "left"}, {"from": "start", "to": "right"}, {"from": "left", "to": "join"},
             {"from": "right", "to": "join"}, {"from": "join", "to": "end"}]

    execution, runs = run(workflow(nodes, edges=edges))

    assert execution.result == {"a": 1, "b": 2}


def test_vars_expression_that_is_not_an_object_fails_clearly():
    document = workflow([node("set", "data.set", vars="{{ input.items }}")])

    execution, runs = run(document, {"items": [1, 2]})

    assert execution.status == "failed"
    assert runs["set"].error["code"] == "data.invalid_params"
    assert "vars must be an object" in runs["set"].error["message"]


def test_vars_expression_that_is_an_object_writes_its_keys():
    document = workflow([
        node("set", "data.set", vars="{{ input.defaults }}"),
        node("end", "flow.terminal", result="{{ vars }}"),
    ])

    execution, runs = run(document, {"defaults": {"region": "eu", "retries": 2}})

    assert execution.result == {"region": "eu", "retries": 2}


def test_set_with_nothing_outputs_null_and_writes_nothing():
    execution, runs = run(workflow([node("set", "data.set")]))

    assert execution.status == "succeeded"
    assert runs["set"].output is None
    assert runs["set"].vars_state is None


def test_a_failing_expression_names_the_param():
    execution, runs = run(workflow([node("set", "data.set", vars={"x": "{{ input.missing.deeper }}"})]))

    assert execution.status == "failed"
    assert runs["set"].error["code"] == "expression"
    assert "vars" in runs["set"].error["message"]
