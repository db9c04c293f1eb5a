"""Run with problems (issue 25, item 6 of the list): a manual run of a draft whose problems all lie in
nodes no trigger leads to runs the part the triggers reach, and says what it left out."""

import pytest

from engine.reachable import reachable_ids, reachable_part
from executions import starting
from executions.inline import InlineDispatcher
from executions.models import Execution
from nodes.validation import InvalidWorkflow
from workflows import services

pytestmark = pytest.mark.django_db


def document(stray_params=None, connected_url="{{ input.who }}"):
    """start → greet → done, and a stray HTTP node (a copy not wired in) without a url."""
    return {"api_version": "nodeflow/v1", "name": "With a stray node", "nodes": [
        {"id": "start", "type": "trigger.manual", "position": [0, 0]},
        {"id": "greet", "type": "data.set", "position": [300, 0], "params": {"output": {"who": connected_url}}},
        {"id": "done", "type": "flow.terminal", "position": [600, 0], "params": {"result": "{{ nodes.greet.output }}"}},
        {"id": "stray", "type": "http.request", "position": [300, 200], "params": stray_params or {}},
        {"id": "after_stray", "type": "flow.noop", "position": [600, 200]},
    ], "edges": [{"from": "start", "to": "greet"}, {"from": "greet", "to": "done"},
                 {"from": "stray", "to": "after_stray"}]}


def test_reachable_ids_follow_edges_from_the_starts_and_skip_malformed_ones():
    doc = document()
    doc["edges"].append({"from": "ghost", "to": "stray"})
    doc["edges"].append("not an edge")

    assert reachable_ids(doc, ["start"]) == {"start", "greet", "done"}
    assert reachable_ids(doc, ["stray"]) == {"stray", "after_stray"}


def test_reachable_part_drops_the_rest_with_its_edges():
    part, left_out = reachable_part(document(), ["start"])

    assert left_out == ["stray", "after_stray"]
    assert [node["id"] for node in part["nodes"]] == ["start", "greet", "done"]
    assert part["edges"] == [{"from": "start", "to": "greet"}, {"from": "greet", "to": "done"}]
    whole = document()
    assert reachable_part(whole, ["start", "stray"]) == (whole, [])


def test_a_manual_draft_run_with_a_stray_broken_node_runs_the_connected_part(alice):
    workflow, errors = services.create_workflow(alice, None, document())
    assert {error["node_id"] for error in errors} >= {"stray"}
    dispatcher = InlineDispatcher()

    execution = starting.run_workflow(workflow, dispatcher=dispatcher, input_data={"who": "ada"})
    dispatcher.drain()

    assert execution.left_out == ["stray", "after_stray"]
    execution = Execution.objects.get(pk=execution.pk)
    assert execution.status == "succeeded"
    assert execution.result == {"who": "ada"}
    assert sorted(execution.node_runs.values_list("node_id", flat=True)) == ["done", "greet", "start"]


def test_a_problem_inside_the_connected_part_still_refuses_the_run(alice):
    workflow, _ = services.create_workflow(alice, None, document(connected_url="{{ nodes.stray.output }}"))

    with pytest.raises(InvalidWorkflow) as refused:
        starting.run_workflow(workflow, dispatcher=InlineDispatcher())

    assert {error["node_id"] for error in refused.value.errors} >= {"greet", "stray"}
    assert not Execution.objects.exists()


def test_only_manual_runs_leave_nodes_out(alice):
    workflow, _ = services.create_workflow(alice, None, document())

    with pytest.raises(InvalidWorkflow):
        starting.run_workflow(workflow, dispatcher=InlineDispatcher(), trigger="webhook")


def test_the_run_endpoint_answers_which_nodes_it_left_out(alice_client):
    created = alice_client.post("/api/v1/workflows/", {"definition": document()}, format="json").json()

    response = alice_client.post(f"/api/v1/workflows/{created['id']}/run/", {"input": {"who": "ada"}}, format="json")

    assert response.status_code == 202, response.content
    assert response.json()["left_out"] == ["stray", "after_stray"]
    ran = alice_client.get(f"/api/v1/executions/{response.json()['execution_id']}/definition/").json()
    assert [node["id"] for node in ran["definition"]["nodes"]] == ["start", "greet", "done"]


def test_a_clean_run_answers_without_left_out(alice_client):
    doc = document()
    doc["nodes"] = doc["nodes"][:3]
    doc["edges"] = doc["edges"][:2]
    created = alice_client.post("/api/v1/workflows/", {"definition": doc}, format="json").json()

    response = alice_client.post(f"/api/v1/workflows/{created['id']}/run/", {"input": {}}, format="json")

    assert response.status_code == 202
    assert "left_out" not in response.json()
