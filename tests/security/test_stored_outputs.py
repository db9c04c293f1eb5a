"""Issue 21, finding 1: a stored-output reference is made by the server and bound to its execution.

The attack: any dict with the key "$nodeflow_output" was read as a pointer to a stored
file, so bob (or an anonymous webhook caller) could read alice's large outputs."""

import json

import pytest
from django.test import Client

from executions import outputs
from executions.inline import run_inline
from executions.models import Execution
from tests.conftest import wait_for_execution
from tests.triggers.support import published_hook
from workflows.services import with_node_versions

BIG = ["alice's secret row " + "x" * 100] * 3000  # ~360 KB: over the 256 KB inline limit


@pytest.fixture
def media(settings, tmp_path):
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}}}
    return tmp_path


def chain(*nodes):
    ids = [node["id"] for node in nodes]
    return with_node_versions({"api_version": "nodeflow/v1", "name": "t",
                               "nodes": [{"id": "start", "type": "trigger.manual"}, *nodes],
                               "edges": [{"from": a, "to": b} for a, b in zip(["start", *ids], ids)]})


def alices_stored_output(alice):
    execution = run_inline(chain({"id": "make", "type": "data.set", "params": {"output": BIG}}), owner=alice)
    stored = execution.node_runs.get(node_id="make").output
    assert "$nodeflow_output" in stored  # stored as a file (a reference in the row)
    return execution, stored


@pytest.mark.django_db
def test_bob_cannot_read_alices_stored_output_with_a_forged_reference(media, alice, bob, bob_client):
    alices, stored = alices_stored_output(alice)
    forged = {"$nodeflow_output": stored["$nodeflow_output"], "size": 1, "preview": "x"}

    bobs = run_inline(chain({"id": "c", "type": "data.set", "params": {"output": forged}},
                            {"id": "done", "type": "flow.terminal", "params": {"result": "{{ nodes.c.output }}"}}),
                      owner=bob)
    served = bob_client.get(f"/api/v1/executions/{bobs.pk}/nodes/c/output/")
    nodes = bob_client.get(f"/api/v1/executions/{bobs.pk}/nodes/").json()

    assert bobs.status == "succeeded" and bobs.result == forged  # downstream nodes got plain data
    assert served.status_code == 200 and served.json() == forged
    assert next(n for n in nodes if n["node_id"] == "c")["output_stored"] is False
    assert "secret row" not in json.dumps(bobs.result) + served.content.decode()


@pytest.mark.django_db
def test_a_genuine_reference_copied_into_another_execution_is_plain_data_there(media, alice, alice_client):
    first, stored = alices_stored_output(alice)  # alice's own, with the server's signature

    second = run_inline(chain({"id": "c", "type": "data.set", "params": {"output": stored}}), owner=alice)
    served = alice_client.get(f"/api/v1/executions/{second.pk}/nodes/c/output/")

    assert served.status_code == 200 and served.json() == stored
    assert not outputs.is_reference(stored, second.pk)
    assert alice_client.get(f"/api/v1/executions/{first.pk}/nodes/make/output/").json() == BIG


@pytest.mark.django_db
@pytest.mark.parametrize("forged", [5, None, "outputs/x.json", {"x": 1}, ["../../etc/passwd"], "../../secret_key"])
def test_forged_reference_values_answer_200_with_the_plain_data_not_500(media, alice, alice_client, forged):
    execution = run_inline(chain({"id": "c", "type": "data.set",
                                  "params": {"output": {"$nodeflow_output": forged, "signature": "00"}}}), owner=alice)

    served = alice_client.get(f"/api/v1/executions/{execution.pk}/nodes/c/output/")

    assert served.status_code == 200 and served.json() == {"$nodeflow_output": forged, "signature": "00"}


@pytest.mark.django_db
def test_a_reference_whose_file_is_gone_answers_404_in_the_error_envelope(media, alice, alice_client):
    execution, stored = alices_stored_output(alice)
    (media / stored["$nodeflow_output"]).unlink()

    served = alice_client.get(f"/api/v1/executions/{execution.pk}/nodes/make/output/")

    assert served.status_code == 404
    assert served.json()["error"]["code"] == "output_missing"
    assert str(media) not in served.content.decode()


def test_a_reference_outside_its_execution_folder_is_never_opened(settings):
    execution_id = "0b6c7a0e-6a8a-4a57-9b7e-1b2f0a6f7c11"
    for path in ["outputs/other/make-1.json", f"outputs/{execution_id}/../other/make-1.json", "/etc/passwd",
                 f"outputs/{execution_id}/sub/make-1.json"]:
        forged = {"$nodeflow_output": path, "signature": outputs._signature(execution_id, path)}
        assert outputs.resolve(forged, execution_id) is forged


@pytest.mark.worker
def test_an_anonymous_caller_cannot_read_another_tenants_output_through_two_webhooks(celery_worker, alice_client,
                                                                                     bob_client):
    # alice's public async webhook makes a large output; its answer tells the caller the execution id
    make = {"id": "make", "type": "data.set", "params": {"output": BIG}}
    alices = {"api_version": "nodeflow/v1", "name": "report", "nodes": [
        {"id": "hook", "type": "trigger.webhook", "params": {}}, make,
        {"id": "done", "type": "flow.terminal", "params": {"result": "{{ nodes.make.output | length }}"}}],
        "edges": [{"from": "hook", "to": "make"}, {"from": "make", "to": "done"}]}
    _, alice_path, _ = published_hook(alice_client, alices)
    started = Client().post(alice_path, b"{}", content_type="application/json")
    assert started.status_code == 202
    execution_id = started.json()["execution_id"]
    execution = wait_for_execution(execution_id)
    assert execution.status == "succeeded"
    path = execution.node_runs.get(node_id="make").output["$nodeflow_output"]

    # bob's (or anyone's) echoing sync webhook, fed the guessed reference
    echo = {"api_version": "nodeflow/v1", "name": "echo", "nodes": [
        {"id": "hook", "type": "trigger.webhook", "params": {"response": "sync"}},
        {"id": "echo", "type": "data.set", "params": {"output": "{{ input.body }}"}},
        {"id": "done", "type": "flow.terminal", "params": {"result": "{{ nodes.echo.output }}"}}],
        "edges": [{"from": "hook", "to": "echo"}, {"from": "echo", "to": "done"}]}
    _, echo_path, _ = published_hook(bob_client, echo)
    for attempt in [{"$nodeflow_output": path}, {"$nodeflow_output": path, "size": 1, "preview": "",
                                                  "signature": "0" * 64}]:
        answer = Client().post(echo_path, json.dumps(attempt).encode(), content_type="application/json")
        assert answer.status_code == 200, answer.content
        assert answer.json() == attempt
        assert b"secret row" not in answer.content
