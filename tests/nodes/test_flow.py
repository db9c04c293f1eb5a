"""flow.terminal, flow.fail and flow.noop through real workflow runs."""

import pytest

from tests.nodes.support import node, run, workflow

pytestmark = pytest.mark.django_db


def test_terminal_sets_the_execution_result_with_expressions_keeping_types():
    document = workflow([
        node("set", "data.set", vars={"score": 42}, output={"tags": ["a", "b"]}),
        node("done", "flow.terminal", result={
            "score": "{{ vars.score }}",
            "tags": "{{ nodes.set.output.tags }}",
            "summary": "score {{ vars.score }} for {{ input.name }}",
            "literal": [1, None, True],
        }),
    ])

    execution, runs = run(document, {"name": "Ada"})

    assert execution.status == "succeeded"
    assert execution.result == {"score": 42, "tags": ["a", "b"], "summary": "score 42 for Ada", "literal": [1, None, True]}
    assert runs["done"].output == execution.result


def test_terminal_returns_artifacts_read_from_context_paths():
    document = workflow([
        node("set", "data.set", vars={"report": {"rows": [{"id": 1}, {"id": 2}]}}, output={"count": 2}),
        node("done", "flow.terminal", result="ok", artifacts=["vars.report.rows.1", "nodes.set.output.count", "input.who"]),
    ])

    execution, runs = run(document, {"who": "me"})

    assert execution.status == "succeeded"
    assert execution.artifacts == {"vars.report.rows.1": {"id": 2}, "nodes.set.output.count": 2, "input.who": "me"}


def test_terminal_with_a_missing_artifact_path_fails_and_names_it():
    document = workflow([node("done", "flow.terminal", result="ok", artifacts=["vars.nothing.here"])])

    execution, runs = run(document)

    assert execution.status == "failed"
    assert "'vars.nothing.here'" in runs["done"].error["message"]
    assert "'nothing'" in runs["done"].error["message"]


def test_terminal_without_result_sets_a_null_result():
    execution, runs = run(workflow([node("done", "flow.terminal")]))

    assert execution.status == "succeeded"
    assert execution.result is None


def test_fail_fails_the_execution_with_its_message():
    document = workflow([
        node("stop", "flow.fail", message="order {{ input.order }} has no items"),
        node("after", "flow.noop"),
    ], edges=[{"from": "start", "to": "stop"}, {"from": "stop", "to": "after"}])

    execution, runs = run(document, {"order": "A-17"})

    assert execution.status == "failed"
    assert execution.error["message"] == "order A-17 has no items"
    assert execution.error["code"] == "flow.fail"
    assert execution.error["class"] == "permanent"
    assert execution.error["node_id"] == "stop"
    assert runs["after"].status != "completed"


def test_fail_on_a_branch_not_taken_does_not_fail_the_execution():
    nodes = [
        node("check", "logic.if", condition={"var": "input.broken"}),
        node("stop", "flow.fail", message="broken"),
        node("done", "flow.terminal", result="fine"),
    ]
    edges = [
        {"from": "start", "to": "check"},
        {"from": "check", "port": "true", "to": "stop"},
        {"from": "check", "port": "false", "to": "done"},
    ]

    execution, runs = run(workflow(nodes, edges=edges), {"broken": False})

    assert execution.status == "succeeded"
    assert execution.result == "fine"
    assert runs["stop"].status == "skipped"


def test_fail_cancels_a_parallel_branch_that_is_still_waiting():
    nodes = [node("slow", "flow.wait", seconds=0.2), node("after_slow", "flow.noop"), node("stop", "flow.fail", message="no")]
    edges = [{"from": "start", "to": "slow"}, {"from": "slow", "to": "after_slow"}, {"from": "start", "to": "stop"}]

    execution, runs = run(workflow(nodes, edges=edges))

    assert execution.status == "failed"
    assert runs["slow"].status == "cancelled"
    assert runs["after_slow"].status == "cancelled"


def test_noop_passes_nothing_and_the_flow_goes_on():
    document = workflow([
        node("set", "data.set", vars={"kept": 1}),
        node("nothing", "flow.noop"),
        node("done", "flow.terminal", result={"vars": "{{ vars }}", "noop": "{{ nodes.nothing.output }}"}),
    ])

    execution, runs = run(document)

    assert execution.status == "succeeded"
    assert runs["nothing"].status == "completed"
    assert runs["nothing"].output is None
    assert execution.result == {"vars": {"kept": 1}, "noop": None}


def test_noop_joins_parallel_branches():
    nodes = [node("a", "data.set", vars={"a": 1}), node("b", "data.set", vars={"b": 2}), node("junction", "flow.noop"),
             node("done", "flow.terminal", result="{{ vars }}")]
    edges = [{"from": "start", "to": "a"}, {"from": "start", "to": "b"}, {"from": "a", "to": "junction"},
             {"from": "b", "to": "junction"}, {"from": "junction", "to": "done"}]

    execution, runs = run(workflow(nodes, edges=edges))

    assert execution.result == {"a": 1, "b": 2}


def test_terminal_and_fail_on_the_worker(celery_worker):
    from executions import starting
    from executions.tasks import dispatcher
    from tests.conftest import wait_for_execution

    ok = starting.start_execution(workflow([node("done", "flow.terminal", result={"n": "{{ input.n }}"})]),
                                 dispatcher=dispatcher, input_data={"n": 3})
    failing = starting.start_execution(workflow([node("stop", "flow.fail", message="stopped")]), dispatcher=dispatcher)

    assert wait_for_execution(ok.pk).result == {"n": 3}
    failed = wait_for_execution(failing.pk)
    assert failed.status == "failed"
    assert failed.error["message"] == "stopped"
