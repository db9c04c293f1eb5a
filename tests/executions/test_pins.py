"""Pinned data (DEBUGGING.md) on a real worker: a pinned node completes with its pin without running, in
runs of the draft only; the run records it; publishing warns that published versions ignore pins."""

import pytest

from engine.pins import pin_outcome, strip_pins
from executions.models import NodeRun
from tests.conftest import wait_for_execution
from workflows import services
from workflows.models import Workflow


def lookup_document(url, pins=None):
    """start → lookup (HTTP GET url) → check (If on the status) → done / other."""
    document = {"api_version": "nodeflow/v1", "name": "Pinned lookup", "nodes": [
        {"id": "start", "type": "trigger.manual"},
        {"id": "lookup", "type": "http.request", "params": {"method": "GET", "url": url}},
        {"id": "check", "type": "logic.if", "params": {"condition": {"==": [{"var": "nodes.lookup.output.status"},
                                                                          200]}}},
        {"id": "done", "type": "flow.terminal", "params": {"result": {"body": "{{ nodes.lookup.output.body }}",
                                                                      "ok": True}}},
        {"id": "other", "type": "flow.terminal", "params": {"result": {"ok": False}}},
    ], "edges": [{"from": "start", "to": "lookup"}, {"from": "lookup", "to": "check"},
                 {"from": "check", "port": "true", "to": "done"}, {"from": "check", "port": "false", "to": "other"}]}
    if pins is not None:
        document["pins"] = pins
    return document


def test_a_pin_is_its_output_on_main_or_the_port_form():
    assert pin_outcome({"a": 1}) == ({"a": 1}, ("main",))
    assert pin_outcome({"port": "false", "output": None}) == (None, ("false",))
    assert pin_outcome({"port": "x", "output": 1, "more": 2})[1] == ("main",)  # not exactly the two keys
    assert pin_outcome([1, 2]) == ([1, 2], ("main",))


def test_published_documents_run_without_pins_or_tests():
    document = {"api_version": "nodeflow/v1", "nodes": [], "pins": {"a": 1}, "tests": []}
    assert strip_pins(document) == {"api_version": "nodeflow/v1", "nodes": []}
    assert "pins" in document  # the draft keeps them
    plain = {"api_version": "nodeflow/v1", "nodes": []}
    assert strip_pins(plain) is plain


def test_a_pinned_http_node_makes_no_call_and_the_run_records_the_pin(celery_worker, alice, alice_client,
                                                                      httpserver):
    pin = {"status": 200, "body": {"name": "pinned ada"}, "headers": {}, "url": "pinned", "elapsed_ms": 0}
    httpserver.expect_request("/users").respond_with_json({"name": "real ada"})
    workflow, errors = services.create_workflow(alice, None, lookup_document(httpserver.url_for("/users"),
                                                                             {"lookup": pin}))
    assert errors == []

    answer = alice_client.post(f"/api/v1/workflows/{workflow.pk}/run/", {}, format="json")
    assert answer.status_code == 202, answer.content
    execution = wait_for_execution(answer.json()["execution_id"], timeout=30)

    assert execution.status == "succeeded", execution.error
    assert execution.result == {"body": {"name": "pinned ada"}, "ok": True}
    assert httpserver.log == []  # the HTTP node did not run
    lookup = NodeRun.objects.get(execution=execution, node_id="lookup")
    assert (lookup.status, lookup.pinned, lookup.output, lookup.ports) == ("completed", True, pin, ["main"])
    assert not NodeRun.objects.get(execution=execution, node_id="check").pinned
    shown = alice_client.get(f"/api/v1/executions/{execution.pk}/nodes/").json()
    shown = shown["results"] if isinstance(shown, dict) else shown
    assert {run["node_id"]: run["pinned"] for run in shown}["lookup"] is True


def test_a_pinned_if_takes_its_pinned_port(celery_worker, alice, alice_client, httpserver):
    httpserver.expect_request("/users").respond_with_json({"name": "real ada"})
    workflow, errors = services.create_workflow(alice, None, lookup_document(
        httpserver.url_for("/users"), {"check": {"port": "false", "output": None}}))
    assert errors == []

    answer = alice_client.post(f"/api/v1/workflows/{workflow.pk}/run/", {}, format="json")
    execution = wait_for_execution(answer.json()["execution_id"], timeout=30)

    assert execution.status == "succeeded", execution.error
    assert execution.result == {"ok": False}  # the real call answered 200; the pin sent it to `false`
    assert len(httpserver.log) == 1
    assert NodeRun.objects.get(execution=execution, node_id="done").status == "skipped"


def test_publishing_warns_and_the_published_version_runs_the_pinned_node(celery_worker, alice, alice_client,
                                                                        httpserver):
    httpserver.expect_request("/users").respond_with_json({"name": "real ada"})
    workflow, _ = services.create_workflow(alice, None, lookup_document(
        httpserver.url_for("/users"), {"lookup": {"status": 200, "body": "pinned"}}))

    published = alice_client.post(f"/api/v1/workflows/{workflow.pk}/publish/")
    assert published.status_code == 201, published.content
    assert [w["code"] for w in published.json()["warnings"]] == ["pins_ignored"]
    assert "lookup" in published.json()["warnings"][0]["message"]
    answer = alice_client.post(f"/api/v1/workflows/{workflow.pk}/run/", {"version": "published"}, format="json")
    execution = wait_for_execution(answer.json()["execution_id"], timeout=30)

    assert execution.status == "succeeded", execution.error
    assert execution.result == {"body": {"name": "real ada"}, "ok": True}
    assert len(httpserver.log) == 1
    assert not NodeRun.objects.get(execution=execution, node_id="lookup").pinned
    assert Workflow.objects.get(pk=workflow.pk).definition["pins"]  # the draft keeps its pins


@pytest.mark.django_db
def test_a_pin_of_a_missing_node_is_a_problem_the_draft_shows(alice, alice_client):
    answer = alice_client.post("/api/v1/workflows/validate/", {"definition": lookup_document(
        "https://example.com", {"ghost": {}})}, format="json")
    assert answer.status_code == 200
    assert [(e["code"], e["path"]) for e in answer.json()["errors"]] == [("unknown_pinned_node", "pins.ghost")]
