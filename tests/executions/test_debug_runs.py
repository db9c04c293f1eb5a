"""Breakpoints and stepping (DEBUGGING.md) on real worker processes: a debug run pauses before its
breakpoint with paused_at, holds no worker (it survives a SIGKILL and restart of the worker), steps
node by node to the end; a vars edit while paused changes the result and is recorded."""

import time

import pytest

from engine.policy import debug_request, holds_at_breakpoint, paused_before, released, vars_edit_for, vars_edited
from executions.models import ExecutionEvent, NodeRun
from executions.replay import rebuild_state, stored_state
from tests.conftest import WorkerProcess, wait_for_execution
from tests.executions.test_partial_runs import pipeline, served
from workflows import services


def test_the_debug_rules():
    debug = debug_request(["b", "a", "b"])
    assert debug == {"breakpoints": ["a", "b"], "step": False, "paused_at": [], "vars": {}}
    assert holds_at_breakpoint(debug, "a") and not holds_at_breakpoint(debug, "c")
    assert not holds_at_breakpoint(None, "a")
    assert holds_at_breakpoint(debug_request(step=True), "c")
    paused = paused_before(paused_before(debug, ["a"]), ["a", "c"])
    assert paused["paused_at"] == ["a", "c"]
    edited = vars_edited(paused, {"x": 1})
    assert vars_edit_for(edited, "a") == {"x": 1} and vars_edit_for(edited, "b") is None
    assert released(edited, step=True)["paused_at"] == [] and released(edited, step=True)["step"] is True


def wait_paused(client, execution_id, at, timeout=30):
    deadline = time.monotonic() + timeout
    while True:
        shown = client.get(f"/api/v1/executions/{execution_id}/").json()
        if shown["status"] == "paused" and shown["paused_at"] == at:
            return shown
        if shown["status"] in ("succeeded", "failed", "cancelled", "timed_out") or time.monotonic() > deadline:
            raise AssertionError(f"expected paused at {at}, got {shown['status']} {shown.get('paused_at')}")
        time.sleep(0.05)


def control(client, execution_id, action):
    answer = client.post(f"/api/v1/executions/{execution_id}/{action}/")
    assert answer.status_code == 202, answer.content
    return answer.json()


def statuses(execution_id):
    return dict(NodeRun.objects.filter(execution_id=execution_id).values_list("node_id", "status"))


def test_a_paused_debug_run_survives_a_worker_sigkill_and_steps_to_the_end(
        transactional_db, _session_worker, alice, alice_client, httpserver):
    _session_worker.stop()  # only the worker this test kills may run nodes (the session one restarts on demand)
    url = served(httpserver)
    workflow, _ = services.create_workflow(alice, None, pipeline(url))
    worker = WorkerProcess().start()
    try:
        answer = alice_client.post(f"/api/v1/workflows/{workflow.pk}/run/",
                                   {"input": {"tag": "t"}, "debug": {"breakpoints": ["tag"]}}, format="json")
        assert answer.status_code == 202, answer.content
        execution_id = answer.json()["execution_id"]
        shown = wait_paused(alice_client, execution_id, ["tag"])
        assert shown["debug"]["breakpoints"] == ["tag"]
        tag = NodeRun.objects.get(execution_id=execution_id, node_id="tag")
        assert (tag.status, tag.wait) == ("waiting", {"reason": "breakpoint"})
        assert [entry[0].path for entry in httpserver.log] == ["/user"]

        worker.kill()
        worker = WorkerProcess().start()
        time.sleep(1)
        assert alice_client.get(f"/api/v1/executions/{execution_id}/").json()["status"] == "paused"

        control(alice_client, execution_id, "step")
        wait_paused(alice_client, execution_id, ["enrich"])
        assert statuses(execution_id)["tag"] == "completed" and statuses(execution_id)["enrich"] == "waiting"
        assert len(httpserver.log) == 1  # enrich has not called yet
        control(alice_client, execution_id, "step")
        wait_paused(alice_client, execution_id, ["done"])
        assert len(httpserver.log) == 2
        control(alice_client, execution_id, "step")
        execution = wait_for_execution(execution_id, timeout=30)
    finally:
        worker.stop()
    assert execution.status == "succeeded", execution.error
    assert execution.result == {"text": "hello ada", "score": 7, "tag": "t-ada"}
    held = ExecutionEvent.objects.filter(execution_id=execution_id, type="NODE_STATE_CHANGED", data__status="waiting")
    assert list(held.values_list("node_id", flat=True)) == ["tag", "enrich", "done"]
    assert rebuild_state(execution.events.order_by("seq")) == stored_state(execution)


def test_a_vars_edit_while_paused_changes_the_result_and_resume_runs_to_the_end(
        celery_worker, alice, alice_client, httpserver):
    url = served(httpserver)
    workflow, _ = services.create_workflow(alice, None, pipeline(url))
    answer = alice_client.post(f"/api/v1/workflows/{workflow.pk}/run/",
                               {"input": {"tag": "t"}, "debug": {"breakpoints": ["enrich"]}}, format="json")
    execution_id = answer.json()["execution_id"]
    wait_paused(alice_client, execution_id, ["enrich"])

    edited = alice_client.patch(f"/api/v1/executions/{execution_id}/vars/", {"tag": "edited"}, format="json")

    assert edited.status_code == 200, edited.content
    assert edited.json()["vars"] == {"enrich": {"tag": "edited"}}
    event = ExecutionEvent.objects.get(execution_id=execution_id, type="VARS_EDITED")
    assert event.data == {"changes": {"tag": "edited"}, "nodes": ["enrich"]}
    control(alice_client, execution_id, "resume")
    execution = wait_for_execution(execution_id, timeout=30)
    assert execution.status == "succeeded", execution.error
    assert execution.result == {"text": "hello ada", "score": 7, "tag": "edited"}
    context = alice_client.get(f"/api/v1/executions/{execution_id}/context/?after=enrich").json()
    assert context["context"]["vars"]["tag"] == "edited"  # the context views show the edit
    before = alice_client.get(f"/api/v1/executions/{execution_id}/context/?after=tag").json()
    assert before["context"]["vars"]["tag"] == "t-ada"


def test_step_mode_pauses_before_every_node_and_controls_are_refused_when_not_paused(
        celery_worker, alice, alice_client, httpserver):
    url = served(httpserver)
    workflow, _ = services.create_workflow(alice, None, pipeline(url))
    answer = alice_client.post(f"/api/v1/workflows/{workflow.pk}/run/",
                               {"input": {"tag": "t"}, "debug": {"step": True}}, format="json")
    execution_id = answer.json()["execution_id"]
    wait_paused(alice_client, execution_id, ["start"])  # even the trigger
    control(alice_client, execution_id, "step")
    wait_paused(alice_client, execution_id, ["fetch"])
    control(alice_client, execution_id, "resume")  # no breakpoints: to the end
    execution = wait_for_execution(execution_id, timeout=30)
    assert execution.status == "succeeded", execution.error

    refused = alice_client.post(f"/api/v1/executions/{execution_id}/step/")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "not_allowed"
    refused = alice_client.patch(f"/api/v1/executions/{execution_id}/vars/", {"x": 1}, format="json")
    assert refused.status_code == 409


@pytest.mark.django_db
def test_a_breakpoint_on_no_node_is_refused(alice, alice_client):
    workflow, _ = services.create_workflow(alice, None, pipeline("https://example.com"))
    answer = alice_client.post(f"/api/v1/workflows/{workflow.pk}/run/", {"debug": {"breakpoints": ["ghost"]}},
                               format="json")
    assert answer.status_code == 400
    assert "debug" in answer.json()["error"]["details"]
