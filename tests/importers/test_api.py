"""POST /api/v1/workflows/import/ and `nodeflow import`: drafts with a report, clear 400s, no half-written workflow."""

import io
import json
from pathlib import Path
from unittest import mock

import pytest
from django.core.management import call_command

from tests.support.shared import shared_file
from workflows.models import Workflow

URL = "/api/v1/workflows/import/"
N8N = Path(__file__).resolve().parent.parent / "fixtures" / "n8n"

pytestmark = pytest.mark.django_db


def n8n(name):
    return json.loads((N8N / f"{name}.json").read_text())


def post(client, body):
    return client.post(URL, body, format="json")


def test_an_n8n_export_becomes_a_draft_with_its_report(alice_client, alice):
    response = post(alice_client, {"format": "n8n", "document": n8n("if_v2_number")})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["name"] == "Filter test"
    report = body["import_report"]
    assert [entry["from"] for entry in report["untranslated"]] == ["Code"]
    assert {"from", "to", "notes"} <= set(report["translated"][0])
    assert body["validation"] == {"valid": True, "errors": []}
    workflow = Workflow.objects.get(pk=body["id"])
    assert workflow.owner == alice
    placeholder = next(node for node in workflow.definition["nodes"] if node["name"] == "Code")
    assert placeholder["type"] == "flow.noop"


def test_a_stageflow_pipeline_and_a_name(alice_client):
    pipeline = json.loads(shared_file("acceptance", "stageflow_demo_full_flow.json").read_text())
    response = post(alice_client, {"format": "stageflow", "document": pipeline, "name": "Demo"})
    assert response.status_code == 201, response.json()
    assert response.json()["name"] == "Demo"
    assert response.json()["import_report"]["untranslated"] == []


def test_a_nodeflow_document_still_imports(alice_client):
    document = {"api_version": "nodeflow/v1", "name": "Copy", "nodes": [{"id": "start", "type": "trigger.manual"}],
                "edges": []}
    response = post(alice_client, {"format": "nodeflow", "document": document})
    assert response.status_code == 201, response.json()
    assert response.json()["import_report"] == {"translated": [], "untranslated": [], "warnings": []}


def test_a_file_that_is_not_json_is_a_400_naming_it(alice_client):
    response = post(alice_client, {"format": "n8n", "document": "{\"nodes\": [ oops"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "not_json" and "not JSON" in error["message"]


def test_a_body_that_is_not_json_is_a_400(alice_client):
    response = alice_client.post(URL, "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_request"


@pytest.mark.parametrize("claimed, document, found", [
    ("n8n", {"api_version": "1.0", "entry": "a", "nodes": [{"id": "a", "type": "terminal"}]}, "connections"),
    ("stageflow", None, "not a stageflow pipeline"),
    ("nodeflow", None, "looks like a n8n document"),
])
def test_a_document_not_of_the_claimed_format_is_a_400_naming_the_format(alice_client, claimed, document, found):
    document = document or n8n("http_get")
    response = post(alice_client, {"format": claimed, "document": document})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "not_this_format"
    assert f"not {claimed}" in error["message"] and found in error["message"]
    assert error["details"]["format"] == claimed
    assert Workflow.objects.count() == 0


def test_a_document_over_the_size_limit_is_a_400(alice_client, settings):
    settings.NODEFLOW = {**settings.NODEFLOW, "MAX_DOCUMENT_BYTES": 2048}
    document = n8n("http_get")
    document["nodes"][1]["notes"] = "x" * 4096
    response = post(alice_client, {"format": "n8n", "document": document})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "document_too_large"
    assert Workflow.objects.count() == 0


def test_an_import_that_fails_half_way_leaves_no_workflow(alice_client):
    with mock.patch("triggers.services.sync_endpoints", side_effect=RuntimeError("disk full")):
        with pytest.raises(RuntimeError):
            post(alice_client, {"format": "n8n", "document": n8n("webhook_wait_set")})
    assert Workflow.objects.count() == 0


def test_the_import_needs_a_signed_in_user(client):
    response = client.post(URL, {"format": "n8n", "document": n8n("http_get")}, content_type="application/json")
    assert response.status_code in (401, 403)


def test_the_command_line_imports_and_prints_the_report(alice):
    out = io.StringIO()
    call_command("nodeflow", "import", str(N8N / "merge_append.json"), "--format", "n8n", "--owner", "alice",
                 stdout=out)
    text = out.getvalue()
    assert "imported n8n as workflow" in text
    assert "untranslated Code: JavaScript code" in text
    assert "translated   Merge -> merge (flow.merge)" in text
    assert Workflow.objects.filter(owner=alice).count() == 1


def test_the_command_line_detects_the_format(alice):
    out = io.StringIO()
    call_command("nodeflow", "import", str(shared_file("acceptance", "stageflow_demo_full_flow.json")),
                 "--owner", "alice", stdout=out)
    assert "imported stageflow" in out.getvalue()
