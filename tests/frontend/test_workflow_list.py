"""The workflows list in a real browser: search, rename, duplicate, delete, import, last runs."""

import json

import pytest
from playwright.sync_api import expect

from executions.inline import InlineDispatcher
from tests.frontend.conftest import screenshot
from tests.frontend.editor import sign_in, wait_until_interactive
from executions import starting
from workflows import services
from workflows.models import Workflow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def document(name):
    return {
        "api_version": "nodeflow/v1",
        "name": name,
        "nodes": [
            {"id": "start", "type": "trigger.manual", "position": [0, 0]},
            {"id": "done", "type": "flow.terminal", "position": [300, 0], "params": {"result": "ok"}},
        ],
        "edges": [{"from": "start", "to": "done"}],
    }


def row(page, name):
    return page.locator("tbody tr", has=page.get_by_role("link", name=name, exact=True))


def test_the_list_shows_versions_and_last_runs_and_manages_workflows(page, live_server, alice, bob):
    billing, _ = services.create_workflow(alice, "Billing sync", document("Billing sync"))
    services.create_workflow(alice, "Lead scoring", document("Lead scoring"))
    services.create_workflow(bob, "Bob's secret flow", document("Bob's secret flow"))
    services.publish_workflow(billing, alice)
    inline = InlineDispatcher()
    starting.run_workflow(billing, dispatcher=inline)
    inline.drain()

    sign_in(page, live_server)
    expect(page.locator("tbody tr")).to_have_count(2)  # nobody sees another's workflows
    expect(row(page, "Billing sync")).to_contain_text("Published · v1")
    expect(row(page, "Billing sync")).to_contain_text("succeeded · just now")
    expect(row(page, "Lead scoring")).to_contain_text("Draft")
    expect(row(page, "Lead scoring")).to_contain_text("Never run")
    screenshot(page, "workflows-list")

    # Search.
    page.get_by_label("Search workflows").fill("lead")
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(row(page, "Lead scoring")).to_be_visible()
    page.get_by_label("Search workflows").fill("")

    # Rename in place.
    row(page, "Lead scoring").get_by_role("button", name="Rename").click()
    name = page.get_by_label("Workflow name")
    name.fill("Lead scoring v2")
    name.press("Enter")
    expect(row(page, "Lead scoring v2")).to_be_visible()
    assert Workflow.objects.get(owner=alice, name="Lead scoring v2").definition["name"] == "Lead scoring v2"

    # Duplicate.
    row(page, "Billing sync").get_by_role("button", name="Duplicate").click()
    expect(row(page, "Billing sync (copy)")).to_contain_text("Draft")
    copy = Workflow.objects.get(owner=alice, name="Billing sync (copy)")
    assert copy.definition["nodes"] == billing.definition["nodes"]

    # Delete asks first; cancelling keeps the workflow.
    row(page, "Billing sync (copy)").get_by_role("button", name="Delete").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Delete “Billing sync (copy)”?")
    dialog.get_by_role("button", name="Cancel").click()
    expect(row(page, "Billing sync (copy)")).to_be_visible()
    row(page, "Billing sync (copy)").get_by_role("button", name="Delete").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete workflow").click()
    expect(row(page, "Billing sync (copy)")).to_have_count(0)
    assert not Workflow.objects.filter(pk=copy.pk).exists()

    # The list survives a reload as it was left.
    page.reload()
    expect(page.locator("tbody tr")).to_have_count(2)


def test_export_then_import_makes_the_same_workflow(page, live_server, alice, tmp_path):
    original, _ = services.create_workflow(alice, "Round trip", document("Round trip"))
    sign_in(page, live_server)
    with page.expect_download() as download:
        row(page, "Round trip").get_by_role("button", name="Export").click()
    assert download.value.suggested_filename == "round-trip.nodeflow.json"
    exported = tmp_path / "exported.json"
    download.value.save_as(exported)
    assert json.loads(exported.read_text()) == original.definition

    page.locator('input[type="file"]').set_input_files(str(exported))
    wait_until_interactive(page)
    imported = Workflow.objects.exclude(pk=original.pk).get(owner=alice)
    assert page.url.endswith(f"/workflows/{imported.pk}")
    assert imported.definition == original.definition
    expect(page.locator(".react-flow__node")).to_have_count(2)


def test_importing_a_file_that_is_not_a_workflow_says_why(page, live_server, alice, tmp_path):
    bad = tmp_path / "notes.json"
    bad.write_text('{"hello": "world"}')
    sign_in(page, live_server)
    page.allowed_errors = ["status of 400"]
    page.locator('input[type="file"]').set_input_files(str(bad))
    expect(page.locator(".nf-toast--error")).to_contain_text("Not imported")
    assert not Workflow.objects.filter(owner=alice).exists()
