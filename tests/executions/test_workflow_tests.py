"""Workflow tests (DEBUGGING.md): cases of the draft run as real executions on a worker, with their
pins, stopped after max_steps, and reported with each failure's path, expected and actual value;
`nodeflow test FILE.json` exits 0 only when every case passed."""

import json

import pytest
from django.core.management import call_command

from engine.testcases import check_case, subset_failures
from executions.models import Execution
from workflows import services
from workflows.services import with_node_versions


def greeting_document(url, tests):
    """start → lookup (HTTP GET url) → greet (data.set: vars.greeting, output) → done (result)."""
    return {"api_version": "nodeflow/v1", "name": "Greeter", "nodes": [
        {"id": "start", "type": "trigger.manual"},
        {"id": "lookup", "type": "http.request", "params": {"method": "GET", "url": url}},
        {"id": "greet", "type": "data.set", "params": {
            "vars": {"greeting": "hello {{ nodes.lookup.output.body.name }}"},
            "output": {"who": "{{ nodes.lookup.output.body.name }}", "n": "{{ input.n }}"}}},
        {"id": "done", "type": "flow.terminal", "params": {"result": {"text": "{{ vars.greeting }}",
                                                                      "n": "{{ input.n }}"}}},
    ], "edges": [{"from": "start", "to": "lookup"}, {"from": "lookup", "to": "greet"},
                 {"from": "greet", "to": "done"}], "tests": tests}


PINNED_ADA = {"lookup": {"status": 200, "body": {"name": "ada"}}}


def test_a_subset_match_names_the_path_of_each_difference():
    actual = {"user": {"name": "ada", "tags": ["a", "b"], "age": 36}, "ok": True}

    assert subset_failures({"user": {"name": "ada"}}, actual, "result") == []
    assert subset_failures({"user": {"name": "bob", "tags": ["a", "c"]}, "ok": 1}, actual, "result") == [
        {"path": "result.user.name", "expected": "bob", "actual": "ada"},
        {"path": "result.user.tags[1]", "expected": "c", "actual": "b"},
        {"path": "result.ok", "expected": 1, "actual": True},  # a bool is not a number
    ]
    assert subset_failures({"gone": 1}, actual, "result") == [
        {"path": "result.gone", "expected": 1, "actual": None, "missing": True}]
    assert subset_failures([1], [1, 2], "result") == [{"path": "result", "expected": [1], "actual": [1, 2]}]


def test_a_case_checks_status_nodes_and_asserts_over_the_final_context():
    finished = {"status": "succeeded", "result": {"x": 1},
                "nodes": {"a": {"status": "completed", "output": {"y": 2}}},
                "context": {"vars": {"count": 3}, "nodes": {}}}
    expect = {"status": "failed", "nodes": {"a": {"output": {"y": 3}}, "b": {"status": "completed"}},
              "assert": [{">": [{"var": "vars.count"}, 2]}, {"==": [{"var": "vars.count"}, 4]}]}

    assert check_case(expect, finished) == [
        {"path": "status", "expected": "failed", "actual": "succeeded"},
        {"path": "nodes.a.output.y", "expected": 3, "actual": 2},
        {"path": "nodes.b", "expected": {"status": "completed"}, "actual": None, "missing": True},
        {"path": "assert[1]", "expected": True, "actual": False},
    ]


def test_the_drafts_cases_run_on_a_worker_with_their_pins_and_a_wrong_expectation_fails_with_its_path(
        celery_worker, alice, alice_client, httpserver):
    httpserver.expect_request("/user").respond_with_json({"name": "grace"})
    tests = [
        {"name": "pinned ada", "input": {"n": 1}, "pins": PINNED_ADA,
         "expect": {"status": "succeeded", "result": {"text": "hello ada"},
                    "nodes": {"greet": {"status": "completed", "output": {"who": "ada"}}},
                    "assert": [{"==": [{"var": "vars.greeting"}, "hello ada"]}]}},
        {"name": "real call, wrong name", "input": {"n": 2},
         "expect": {"result": {"text": "hello ada", "n": 2}}},
    ]
    workflow, errors = services.create_workflow(alice, None, greeting_document(httpserver.url_for("/user"), tests))
    assert errors == []

    answer = alice_client.post(f"/api/v1/workflows/{workflow.pk}/test/", {}, format="json")

    assert answer.status_code == 200, answer.content
    report = answer.json()
    assert (report["passed"], report["failed"]) == (1, 1)
    first, second = report["cases"]
    assert first["name"] == "pinned ada" and first["ok"] and first["failures"] == []
    assert second["ok"] is False
    assert second["failures"] == [{"path": "result.text", "expected": "hello ada", "actual": "hello grace"}]
    assert len(httpserver.log) == 1  # only the unpinned case called
    runs = Execution.objects.filter(pk__in=[first["execution_id"], second["execution_id"]])
    assert {(e.trigger, e.revision, e.status) for e in runs} == {("test", workflow.revision, "succeeded")}
    assert first["duration_ms"] > 0

    only = alice_client.post(f"/api/v1/workflows/{workflow.pk}/test/", {"names": ["pinned ada"]}, format="json")
    assert [case["name"] for case in only.json()["cases"]] == ["pinned ada"]
    unknown = alice_client.post(f"/api/v1/workflows/{workflow.pk}/test/", {"names": ["nope"]}, format="json")
    assert unknown.status_code == 400 and unknown.json()["error"]["code"] == "unknown_test_case"


def test_max_steps_stops_a_runaway_case(celery_worker, alice, alice_client):
    body = {"nodes": [{"id": "start", "type": "trigger.group"},
                      {"id": "nap", "type": "test.sleep", "params": {"seconds": 0.05}}],
            "edges": [{"from": "start", "to": "nap"}]}
    document = {"api_version": "nodeflow/v1", "name": "Long loop", "nodes": [
        {"id": "start", "type": "trigger.manual"},
        {"id": "loop", "type": "flow.foreach", "params": {"items": list(range(200)), "graph": body,
                                                          "concurrency": 2}},
    ], "edges": [{"from": "start", "to": "loop"}],
        "tests": [{"name": "runaway", "max_steps": 20, "expect": {"status": "succeeded"}}]}
    workflow, errors = services.create_workflow(alice, None, document)
    assert errors == []

    report = alice_client.post(f"/api/v1/workflows/{workflow.pk}/test/", {}, format="json").json()

    case = report["cases"][0]
    assert case["ok"] is False
    assert case["failures"][0]["path"] == "max_steps" and case["failures"][0]["expected"] == 20
    assert case["failures"][0]["actual"] > 20
    assert case["failures"][1] == {"path": "status", "expected": "succeeded", "actual": "cancelled"}
    assert Execution.objects.get(pk=case["execution_id"]).status == "cancelled"


@pytest.mark.django_db
def test_an_invalid_draft_is_refused_before_any_case_runs(alice, alice_client):
    workflow, _ = services.create_workflow(alice, None, greeting_document("https://example.com", [
        {"name": "a", "expect": {}, "pins": {"ghost": 1}}]))

    answer = alice_client.post(f"/api/v1/workflows/{workflow.pk}/test/", {}, format="json")

    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "invalid_workflow"
    assert Execution.objects.count() == 0


def run_cli(tmp_path, capsys, document, *args):
    path = tmp_path / "workflow.json"
    path.write_text(json.dumps(document))
    with pytest.raises(SystemExit) as exited:
        call_command("nodeflow", "test", str(path), *args)
    return exited.value.code, capsys.readouterr().out


@pytest.mark.django_db(transaction=True)  # the runner sends after commits, as on the command line
def test_nodeflow_test_exits_0_when_all_pass_and_1_with_the_failures_path(tmp_path, capsys):
    passing = {"name": "ok", "input": {"n": 1}, "pins": PINNED_ADA, "expect": {"result": {"text": "hello ada"}}}
    wrong = {"name": "wrong", "input": {"n": 1}, "pins": PINNED_ADA, "expect": {"result": {"text": "hello bob"}}}
    document = with_node_versions(greeting_document("https://example.invalid/user", [passing, wrong]))

    code, out = run_cli(tmp_path, capsys, document, "--case", "ok")
    assert code == 0, out
    assert "PASS  ok" in out and "1 passed, 0 failed" in out

    code, out = run_cli(tmp_path, capsys, document)
    assert code == 1, out
    assert "FAIL  wrong" in out
    assert 'result.text: expected "hello bob", got "hello ada"' in out
    assert "1 passed, 1 failed" in out

    code, out = run_cli(tmp_path, capsys, document, "--case", "missing")
    assert code == 2 and "no test case named 'missing'" in out


@pytest.mark.django_db(transaction=True)  # the runner sends after commits, as on the command line
def test_nodeflow_test_stops_a_runaway_case_in_process(tmp_path, capsys):
    body = {"nodes": [{"id": "start", "type": "trigger.group"}, {"id": "work", "type": "flow.noop"}],
            "edges": [{"from": "start", "to": "work"}]}
    document = {"api_version": "nodeflow/v1", "name": "Long loop", "nodes": [
        {"id": "start", "type": "trigger.manual"},
        {"id": "loop", "type": "flow.foreach", "params": {"items": list(range(100)), "graph": body}},
    ], "edges": [{"from": "start", "to": "loop"}],
        "tests": [{"name": "runaway", "max_steps": 30, "expect": {}}]}

    code, out = run_cli(tmp_path, capsys, document)

    assert code == 1, out
    assert "max_steps: expected 30, got" in out
    assert Execution.objects.filter(parent=None).get().status == "cancelled"
