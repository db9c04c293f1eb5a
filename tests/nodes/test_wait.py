"""flow.wait: durations, times and external input; a waiting node holds no worker."""

import time
from datetime import datetime, timedelta, timezone

from executions import starting
from executions.models import Execution
from executions.tasks import dispatcher
from tests.conftest import wait_for_execution
from workflows.services import with_node_versions


def waiting(params, after=None):
    nodes = [{"id": "start", "type": "trigger.manual"}, {"id": "wait", "type": "flow.wait", "params": params},
             {"id": "done", "type": "flow.terminal", "params": {"result": "{{ nodes.wait.output }}"}}]
    edges = [{"from": "start", "to": "wait"}, {"from": "wait", "to": "done"}]
    if after:
        nodes.append({"id": "late", "type": "flow.terminal", "params": {"result": "timed out"}})
        edges.append({"from": "wait", "port": "timeout", "to": "late"})
    return with_node_versions({"api_version": "nodeflow/v1", "name": "wait", "nodes": nodes, "edges": edges})


def test_waiting_executions_hold_no_worker(celery_worker):
    # Four 3 s waits on a 2-process worker are all waiting at once before the first one
    # ends; if a wait held a worker process, two would have to end before the others began.
    ids = [starting.start_execution(waiting({"seconds": 3}), dispatcher=dispatcher).pk for _ in range(4)]
    deadline = time.monotonic() + 60
    while (statuses := set(Execution.objects.filter(pk__in=ids).values_list("status", flat=True))) != {"waiting"}:
        assert statuses <= {"queued", "running", "waiting"}, f"one ended before all four were waiting: {statuses}"
        assert time.monotonic() < deadline, f"the four executions never got to wait: {statuses}"
        time.sleep(0.02)
    for execution_id in ids:
        execution = wait_for_execution(execution_id, timeout=15)
        assert execution.status == "succeeded"
        assert execution.node_runs.get(node_id="wait").status == "completed"


def test_wait_until_a_time(celery_worker):
    until = (datetime.now(timezone.utc) + timedelta(seconds=1)).isoformat()
    execution = wait_for_execution(starting.start_execution(waiting({"until": until}), dispatcher=dispatcher).pk)
    assert execution.status == "succeeded"
    assert execution.node_runs.get(node_id="wait").finished_at >= datetime.fromisoformat(until)


def test_wait_resumes_on_input_posted_through_the_api(celery_worker, alice, alice_client):
    schema = {"type": "object", "required": ["approved"], "properties": {"approved": {"type": "boolean"}}}
    execution = starting.start_execution(waiting({"input": {"schema": schema}}), dispatcher=dispatcher, owner=alice)
    execution = wait_for_execution(execution.pk, statuses={"waiting"})
    url = f"/api/v1/executions/{execution.pk}/input/"
    wrong = alice_client.post(url, {"node_id": "wait", "data": {"approved": "yes"}}, format="json")
    assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "invalid_input"
    assert "approved" in wrong.json()["error"]["message"]
    unknown = alice_client.post(url, {"node_id": "nope", "data": {}}, format="json")
    assert unknown.status_code == 404
    accepted = alice_client.post(url, {"node_id": "wait", "data": {"approved": True}}, format="json")
    assert accepted.status_code == 202
    execution = wait_for_execution(execution.pk)
    assert execution.status == "succeeded" and execution.result == {"approved": True}
    again = alice_client.post(url, {"node_id": "wait", "data": {"approved": True}}, format="json")
    assert again.status_code == 409


def test_wait_for_input_takes_the_timeout_port_when_nothing_arrives(celery_worker):
    doc = waiting({"input": {"timeout_s": 1}}, after=True)
    execution = wait_for_execution(starting.start_execution(doc, dispatcher=dispatcher).pk, timeout=15)
    assert execution.status == "succeeded" and execution.result == "timed out"
    statuses = dict(execution.node_runs.values_list("node_id", "status"))
    assert statuses == {"start": "completed", "wait": "completed", "done": "skipped", "late": "completed"}


def test_another_users_execution_takes_no_input(celery_worker, alice, bob_client):
    execution = starting.start_execution(waiting({"input": {}}), dispatcher=dispatcher, owner=alice)
    wait_for_execution(execution.pk, statuses={"waiting"})
    response = bob_client.post(f"/api/v1/executions/{execution.pk}/input/", {"node_id": "wait", "data": 1}, format="json")
    assert response.status_code == 404
