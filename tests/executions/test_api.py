"""The executions API beyond runs and events: the document an execution ran."""

import uuid

import pytest

from executions.inline import InlineDispatcher
from executions import starting
from workflows import services

pytestmark = pytest.mark.django_db

LIST = "/api/v1/executions/"


def document(result="first"):
    return {"api_version": "nodeflow/v1", "name": "Ran", "nodes": [
        {"id": "start", "type": "trigger.manual", "position": [0, 0]},
        {"id": "done", "type": "flow.terminal", "params": {"result": result}, "position": [300, 0]}],
        "edges": [{"from": "start", "to": "done"}]}


def run(workflow, version="draft"):
    dispatcher = InlineDispatcher()
    execution = starting.run_workflow(workflow, version=version, dispatcher=dispatcher)
    dispatcher.drain()
    return execution


def test_the_definition_of_a_draft_run_is_the_document_that_ran_not_the_draft_now(alice, alice_client):
    workflow, errors = services.create_workflow(alice, None, document("first"))
    assert errors == []
    execution = run(workflow)
    ran_revision = workflow.revision
    services.update_workflow(workflow, definition=document("second"))
    workflow.refresh_from_db()
    assert workflow.revision > ran_revision

    response = alice_client.get(f"{LIST}{execution.pk}/definition/")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"definition", "version", "revision"}
    assert body["version"] is None and body["revision"] == ran_revision
    assert body["definition"]["nodes"][1]["params"] == {"result": "first"}
    assert body["definition"]["nodes"][1]["position"] == [300, 0]
    assert workflow.definition["nodes"][1]["params"] == {"result": "second"}


def test_the_definition_of_a_published_run_names_its_version(alice, alice_client):
    workflow, _ = services.create_workflow(alice, None, document("published"))
    services.publish_workflow(workflow, alice)
    services.update_workflow(workflow, definition=document("draft"))
    execution = run(workflow, version="published")

    body = alice_client.get(f"{LIST}{execution.pk}/definition/").json()
    assert body["version"] == 1 and body["revision"] is None
    assert body["definition"]["nodes"][1]["params"] == {"result": "published"}


def test_another_users_execution_definition_is_not_found(alice, bob_client, alice_client):
    workflow, _ = services.create_workflow(alice, None, document())
    execution = run(workflow)
    refused = bob_client.get(f"{LIST}{execution.pk}/definition/")
    assert refused.status_code == 404 and refused.json()["error"]["code"] == "not_found"
    missing = alice_client.get(f"{LIST}{uuid.uuid4()}/definition/")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    not_an_id = alice_client.get(f"{LIST}not-a-uuid/definition/")
    assert not_an_id.status_code == 404 and "error" in not_an_id.json()
    assert alice_client.post(f"{LIST}{execution.pk}/definition/").status_code == 405


def test_the_definition_endpoint_is_in_the_openapi_schema(alice_client):
    schema = alice_client.get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/executions/{id}/definition/"]["get"]
    response = operation["responses"]["200"]["content"]["application/json"]["schema"]
    component = schema["components"]["schemas"][response["$ref"].rsplit("/", 1)[1]]
    assert set(component["properties"]) == {"definition", "version", "revision"}


def test_pages_of_executions_that_share_a_timestamp_neither_repeat_nor_skip_one(alice, alice_client):
    from django.utils import timezone

    from executions.models import Execution

    workflow, _ = services.create_workflow(alice, None, document())
    ids = {str(run(workflow).pk) for _ in range(7)}
    Execution.objects.filter(pk__in=ids).update(created_at=timezone.now())  # one timestamp for all
    seen = []
    for offset in range(0, 8, 2):
        response = alice_client.get(f"{LIST}?workflow={workflow.pk}&limit=2&offset={offset}")
        assert response.status_code == 200
        seen += [row["id"] for row in response.json()["results"]]
    # Ties are broken by id (newest first would be arbitrary among equal timestamps), so every
    # page continues where the last one ended.
    assert seen == sorted(ids, reverse=True)
