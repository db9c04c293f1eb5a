"""Importing n8n files through the editor: the format is detected from the file, the report is shown
over the new draft, untranslated nodes are marked on the canvas, and an imported workflow runs."""

import json
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.frontend.conftest import screenshot
from tests.frontend.editor import canvas_node, sign_in, start_run, wait_until_interactive
from workflows.models import Workflow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

N8N = Path(__file__).resolve().parent.parent / "fixtures" / "n8n"


def upload(page, path):
    page.locator('input[type="file"]').set_input_files(str(path))
    wait_until_interactive(page)


def test_an_n8n_export_imported_in_the_editor_runs_and_gives_n8ns_result(page, asgi_live_server, alice,
                                                                         celery_worker, httpserver, tmp_path):
    # n8n's own HTTP Request test workflow, its dummyjson.com calls pointed at a local server that answers
    # what n8n's test mocks answer (the file's pinData).
    source = json.loads((N8N / "http_get.json").read_text())
    base = httpserver.url_for("/").rstrip("/")
    for node in source["nodes"]:
        if "url" in node["parameters"]:
            node["parameters"]["url"] = node["parameters"]["url"].replace("https://dummyjson.com", base)
    pinned = {name: items[0]["json"] for name, items in source["pinData"].items()}
    httpserver.expect_request("/todos/1").respond_with_json(pinned["HTTP Request"])
    httpserver.expect_request("/todos/3", headers={"Authorization": "Bearer 12345"}).respond_with_json(
        pinned["HTTP Request fake header"])
    httpserver.expect_request("/todos", query_string={"limit": "2", "skip": "10"}).respond_with_json(
        pinned["HTTP Request with query"])
    exported = tmp_path / "HTTP_Request_test.json"
    exported.write_text(json.dumps(source))

    sign_in(page, asgi_live_server)
    upload(page, exported)
    workflow = Workflow.objects.get(owner=alice)
    assert page.url.endswith(f"/workflows/{workflow.pk}")
    report = page.get_by_role("region", name="Import report")
    expect(report).to_contain_text("Imported from n8n: 5 node(s) translated")
    expect(page.locator(".react-flow__node")).to_have_count(5)
    expect(page.locator("[data-untranslated]")).to_have_count(0)
    screenshot(page, "import-n8n-report")

    execution_id = start_run(page)
    from tests.conftest import wait_for_execution

    execution = wait_for_execution(execution_id, timeout=60)
    assert execution.status == "succeeded", (execution.error, list(execution.node_runs.values_list("node_id", "error")))
    expect(page.get_by_test_id("execution-status")).to_have_text("succeeded", timeout=60_000)
    for node_id in ["http_request", "http_request_fake_header", "http_request_with_query", "http_request_empty_header"]:
        expect(canvas_node(page, node_id).locator("[data-run-state]")).to_have_text("completed")

    from executions.models import Execution

    outputs = dict(Execution.objects.get(workflow=workflow).node_runs.values_list("node_id", "output"))
    assert outputs["http_request_with_query"]["body"] == pinned["HTTP Request with query"]
    assert outputs["http_request_fake_header"]["body"] == pinned["HTTP Request fake header"]


def test_untranslated_n8n_nodes_are_placeholders_marked_on_the_canvas(page, live_server, alice):
    sign_in(page, live_server)
    upload(page, N8N / "if_v2_number.json")
    report = page.get_by_role("region", name="Import report")
    expect(report).to_contain_text("1 not translated")
    expect(report.locator("[data-report=untranslated]")).to_contain_text(
        "Code: n8n node type n8n-nodes-testing.testData")
    placeholder = canvas_node(page, "code")
    expect(placeholder.locator("[data-untranslated]")).to_contain_text("Not translated")
    expect(page.locator("[data-untranslated]")).to_have_count(1)
    screenshot(page, "import-n8n-untranslated")

    # Dismissed, the report stays gone; the placeholder stays on the canvas until replaced.
    report.get_by_role("button", name="Dismiss the import report").click()
    expect(report).to_have_count(0)
    page.reload()
    wait_until_interactive(page)
    expect(page.get_by_role("region", name="Import report")).to_have_count(0)
    expect(canvas_node(page, "code").locator("[data-untranslated]")).to_be_visible()


def test_a_stageflow_pipeline_is_detected_from_the_file(page, live_server, alice):
    from tests.support.shared import shared_file

    sign_in(page, live_server)
    upload(page, shared_file("acceptance", "stageflow_demo_full_flow.json"))
    expect(page.get_by_role("region", name="Import report")).to_contain_text("Imported from stageflow")
    assert Workflow.objects.get(owner=alice).name == "demo_full_flow"
