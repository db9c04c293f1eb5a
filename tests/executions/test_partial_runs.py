"""Partial runs (DEBUGGING.md) on a real worker: a run from a node reuses what an earlier execution left
before it (no call to the reused nodes' server) and gives the full run's result; the rest runs with the
current draft; clear 400s for another workflow's or user's execution and a missing needed node;
stop_after runs only what the named nodes need."""

import pytest

from engine.graph import Graph
from engine.policy import partial_plan, reusable
from executions.models import NodeRun
from executions.replay import rebuild_state, stored_state
from tests.conftest import wait_for_execution
from workflows import services


def diamond():
    # a → b, a → c, b → d, c → d, d → e, x (another root) → e
    nodes = [{"id": n, "type": "flow.noop"} for n in "abcdex"]
    edges = [("a", "b"), ("a", "c"), ("b", "d"), ("c", "d"), ("d", "e"), ("x", "e")]
    return Graph.from_document({"nodes": nodes, "edges": [{"from": f, "to": t} for f, t in edges]})


def test_a_plan_from_a_node_reuses_everything_not_at_or_after_it():
    plan = partial_plan(diamond(), start_at="b")
    assert plan.run == {"b", "d", "e"}
    assert plan.reused == {"a", "c", "x"}
    assert plan.needed == {"a", "c", "x"}  # d reads c's branch, e reads x's
    assert plan.skipped == set()


def test_a_plan_up_to_nodes_skips_what_they_do_not_need():
    plan = partial_plan(diamond(), stop_after=["b"])
    assert (plan.run, plan.reused, plan.skipped) == ({"a", "b"}, set(), {"c", "d", "e", "x"})
    both = partial_plan(diamond(), start_at="c", stop_after=["d"])
    assert (both.run, both.reused, both.needed, both.skipped) == ({"c", "d"}, {"a", "b"}, {"a", "b"}, {"e", "x"})


def test_an_earlier_run_can_stand_in_when_it_completed_was_skipped_or_routed_its_error():
    assert reusable("completed", ["main"]) and reusable("skipped", [])
    assert reusable("failed", ["error"])
    assert not reusable("failed", []) and not reusable("cancelled", []) and not reusable("running", [])


def pipeline(url, greeting="hello"):
    """start → fetch (GET /user) → tag (data.set vars.tag) → enrich (GET /score?name=) → done."""
    return {"api_version": "nodeflow/v1", "name": "Enrich", "nodes": [
        {"id": "start", "type": "trigger.manual"},
        {"id": "fetch", "type": "http.request", "params": {"method": "GET", "url": f"{url}/user"}},
        {"id": "tag", "type": "data.set", "params": {"vars": {"tag": "{{ input.tag }}-{{ nodes.fetch.output.body.name }}"}}},
        {"id": "enrich", "type": "http.request", "params": {
            "method": "GET", "url": f"{url}/score", "query": {"name": "{{ nodes.fetch.output.body.name }}"}}},
        {"id": "done", "type": "flow.terminal", "params": {"result": {
            "text": f"{greeting} {{{{ nodes.fetch.output.body.name }}}}", "score": "{{ nodes.enrich.output.body.score }}",
            "tag": "{{ vars.tag }}"}}},
    ], "edges": [{"from": "start", "to": "fetch"}, {"from": "fetch", "to": "tag"}, {"from": "tag", "to": "enrich"},
                 {"from": "enrich", "to": "done"}]}


def run(client, workflow, **body):
    answer = client.post(f"/api/v1/workflows/{workflow.pk}/run/", body, format="json")
    assert answer.status_code == 202, answer.content
    return wait_for_execution(answer.json()["execution_id"], timeout=30)


def served(httpserver):
    httpserver.expect_request("/user").respond_with_json({"name": "ada"})
    httpserver.expect_request("/score").respond_with_json({"score": 7})
    return httpserver.url_for("").rstrip("/")


def test_a_run_from_a_node_reuses_the_outputs_before_it_and_gives_the_full_runs_result(
        celery_worker, alice, alice_client, httpserver):
    url = served(httpserver)
    workflow, _ = services.create_workflow(alice, None, pipeline(url))
    full = run(alice_client, workflow, input={"tag": "t1"})
    assert full.status == "succeeded", full.error
    assert [entry[0].path for entry in httpserver.log] == ["/user", "/score"]

    partial = run(alice_client, workflow, from_execution=str(full.pk), start_at="enrich")

    assert partial.status == "succeeded", partial.error
    assert partial.result == full.result == {"text": "hello ada", "score": 7, "tag": "t1-ada"}
    assert partial.input == full.input  # the earlier run's input
    assert [entry[0].path for entry in httpserver.log] == ["/user", "/score", "/score"]  # fetch was not called
    runs = {r.node_id: r for r in NodeRun.objects.filter(execution=partial)}
    assert {n for n, r in runs.items() if r.reused_from} == {"start", "fetch", "tag"}
    assert runs["fetch"].reused_from == str(full.pk) and runs["fetch"].status == "completed"
    assert runs["fetch"].output["body"] == {"name": "ada"}
    assert not runs["enrich"].reused_from and runs["enrich"].attempt == 1
    shown = alice_client.get(f"/api/v1/executions/{partial.pk}/nodes/").json()
    shown = shown["results"] if isinstance(shown, dict) else shown
    assert {r["node_id"]: r["reused_from"] for r in shown}["fetch"] == str(full.pk)
    assert rebuild_state(partial.events.order_by("seq")) == stored_state(partial)  # its events tell it all


def test_the_nodes_from_start_at_run_with_the_current_draft(celery_worker, alice, alice_client, httpserver):
    url = served(httpserver)
    workflow, _ = services.create_workflow(alice, None, pipeline(url))
    full = run(alice_client, workflow, input={"tag": "t1"})
    services.update_workflow(workflow, definition=pipeline(url, greeting="bonjour"))

    partial = run(alice_client, workflow, from_execution=str(full.pk), start_at="done")

    assert partial.result == {"text": "bonjour ada", "score": 7, "tag": "t1-ada"}
    assert partial.revision > full.revision


def test_stop_after_runs_only_what_the_nodes_need(celery_worker, alice, alice_client, httpserver):
    url = served(httpserver)
    workflow, _ = services.create_workflow(alice, None, pipeline(url))

    execution = run(alice_client, workflow, input={"tag": "t"}, stop_after=["tag"])

    assert execution.status == "succeeded", execution.error
    statuses = dict(NodeRun.objects.filter(execution=execution).values_list("node_id", "status"))
    assert statuses == {"start": "completed", "fetch": "completed", "tag": "completed", "enrich": "skipped",
                        "done": "skipped"}
    assert [entry[0].path for entry in httpserver.log] == ["/user"]
    assert rebuild_state(execution.events.order_by("seq")) == stored_state(execution)


@pytest.mark.django_db
def test_partial_runs_are_refused_with_a_clear_400(alice, bob, alice_client):
    from executions.models import Definition, Execution

    workflow, _ = services.create_workflow(alice, None, pipeline("https://example.com"))
    other, _ = services.create_workflow(alice, None, pipeline("https://example.com"))
    bobs, _ = services.create_workflow(bob, None, pipeline("https://example.com"))
    definition = Definition.store(workflow.definition)
    other_run = Execution.objects.create(workflow=other, owner=alice, definition=definition, status="succeeded")
    bobs_run = Execution.objects.create(workflow=bobs, owner=bob, definition=definition, status="succeeded")
    own_run = Execution.objects.create(workflow=workflow, owner=alice, definition=definition, status="succeeded")
    NodeRun.objects.create(execution=own_run, node_id="start", type="trigger.manual", type_version=1,
                           status="completed", ports=["main"])

    def refused(body, field):
        answer = alice_client.post(f"/api/v1/workflows/{workflow.pk}/run/", body, format="json")
        assert answer.status_code == 400, answer.content
        assert field in answer.json()["error"]["details"], answer.json()
        return answer.json()["error"]["message"]

    assert "not an execution of this workflow" in refused({"from_execution": str(other_run.pk), "start_at": "enrich"},
                                                          "from_execution")
    assert "not an execution of this workflow" in refused({"from_execution": str(bobs_run.pk), "start_at": "enrich"},
                                                          "from_execution")
    message = refused({"from_execution": str(own_run.pk), "start_at": "enrich"}, "from_execution")
    assert "no run of node 'fetch'" in message
    assert "no node 'ghost'" in refused({"from_execution": str(own_run.pk), "start_at": "ghost"}, "start_at")
    failed_run = Execution.objects.create(workflow=workflow, owner=alice, definition=definition, status="failed")
    for node_id, status, ports in [("start", "completed", ["main"]), ("fetch", "failed", []), ("tag", "skipped", [])]:
        NodeRun.objects.create(execution=failed_run, node_id=node_id, type="x", type_version=1, status=status, ports=ports)
    message = refused({"from_execution": str(failed_run.pk), "start_at": "enrich"}, "start_at")
    assert "node 'fetch' was failed" in message and "run from it instead" in message
    refused({"start_at": "enrich"}, "from_execution")
    refused({"stop_after": ["tag"], "version": "published"}, "version")
    assert Execution.objects.count() == 4  # nothing started
