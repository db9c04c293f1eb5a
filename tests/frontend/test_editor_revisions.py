"""Two tabs on one workflow (issue 25, item 1): the second save no longer drops the first silently; the
conflict dialog shows both versions and keeps mine, takes theirs or opens both."""

import pytest
from playwright.sync_api import expect

from tests.frontend.conftest import screenshot
from tests.frontend.editor import canvas_node, open_editor, sign_in, start_run
from workflows import services
from workflows.models import Workflow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def two_node_workflow(owner):
    workflow, _ = services.create_workflow(owner, "Two tabs", {
        "api_version": "nodeflow/v1", "name": "Two tabs",
        "nodes": [{"id": "start", "type": "trigger.manual", "name": "Start", "position": [0, 0]},
                  {"id": "fetch", "type": "http.request", "name": "Fetch", "position": [300, 0],
                   "params": {"url": "https://example.com"}}],
        "edges": [{"from": "start", "to": "fetch"}],
    })
    return workflow


def rename_node(page, node_id, name):
    canvas_node(page, node_id).click()
    page.get_by_label("Node name").fill(name)
    page.keyboard.press("Control+s")


def names(workflow):
    stored = Workflow.objects.get(pk=workflow.pk)
    return {node["id"]: node.get("name") for node in stored.definition["nodes"]}, stored.revision


def both_tabs_edit(page, live_server, workflow):
    """Tab A renames one node and saves; tab B, opened before A's save, renames another and saves."""
    sign_in(page, live_server)
    tab_b = page.context.new_page()
    tab_b.set_default_timeout(10_000)
    open_editor(page, live_server, workflow.pk)
    open_editor(tab_b, live_server, workflow.pk)
    rename_node(page, "start", "Start (tab A)")
    expect(page.locator(".nf-save-state")).to_have_attribute("data-state", "saved")
    assert names(workflow) == ({"start": "Start (tab A)", "fetch": "Fetch"}, 2)
    rename_node(tab_b, "fetch", "Fetch (tab B)")
    dialog = tab_b.get_by_role("dialog", name="This workflow was changed elsewhere")
    expect(dialog).to_be_visible()
    return tab_b, dialog


def test_a_second_tab_saving_over_the_first_gets_the_conflict_dialog_and_can_keep_its_version(page, live_server, alice):
    workflow = two_node_workflow(alice)
    tab_b, dialog = both_tabs_edit(page, live_server, workflow)

    # Nothing was overwritten, and the dialog shows which node each side changed, by name.
    assert names(workflow) == ({"start": "Start (tab A)", "fetch": "Fetch"}, 2)
    mine, theirs = dialog.get_by_test_id("conflict-mine"), dialog.get_by_test_id("conflict-theirs")
    expect(mine.locator("li", has_text="Fetch (tab B)")).to_contain_text("changed")
    expect(theirs.locator("li", has_text="Start (tab A)")).to_contain_text("changed")
    expect(theirs).to_contain_text("revision 2")
    screenshot(tab_b, "editor-save-conflict")

    dialog.get_by_role("button", name="Keep mine").click()

    expect(dialog).to_have_count(0)
    expect(tab_b.locator(".nf-save-state")).to_have_attribute("data-state", "saved")
    assert names(workflow) == ({"start": "Start", "fetch": "Fetch (tab B)"}, 3)


def test_take_theirs_shows_the_other_tabs_draft(page, live_server, alice):
    workflow = two_node_workflow(alice)
    tab_b, dialog = both_tabs_edit(page, live_server, workflow)

    dialog.get_by_role("button", name="Take theirs").click()

    expect(dialog).to_have_count(0)
    expect(canvas_node(tab_b, "start")).to_contain_text("Start (tab A)")
    expect(canvas_node(tab_b, "fetch")).not_to_contain_text("tab B")
    expect(tab_b.locator(".nf-save-state")).to_have_attribute("data-state", "saved")
    # Tab B goes on editing on top of revision 2: its next save is not a conflict.
    rename_node(tab_b, "fetch", "Fetch again")
    expect(tab_b.locator(".nf-save-state")).to_have_attribute("data-state", "saved")
    assert names(workflow) == ({"start": "Start (tab A)", "fetch": "Fetch again"}, 3)


def test_open_both_saves_mine_as_a_copy_in_a_new_tab(page, live_server, alice):
    workflow = two_node_workflow(alice)
    tab_b, dialog = both_tabs_edit(page, live_server, workflow)

    with tab_b.context.expect_page() as opened:
        dialog.get_by_role("button", name="Open both").click()
    copy_tab = opened.value

    expect(dialog).to_have_count(0)
    expect(canvas_node(tab_b, "start")).to_contain_text("Start (tab A)")
    copy = Workflow.objects.exclude(pk=workflow.pk).get()
    assert copy.name == "Two tabs (my copy)"
    assert {node["id"]: node.get("name") for node in copy.definition["nodes"]} == {"start": "Start", "fetch": "Fetch (tab B)"}
    copy_tab.wait_for_url(f"**/workflows/{copy.pk}")
    expect(canvas_node(copy_tab, "fetch")).to_contain_text("Fetch (tab B)")
    assert names(workflow) == ({"start": "Start (tab A)", "fetch": "Fetch"}, 2)


def test_retry_says_which_revision_it_runs(page, asgi_live_server, alice, celery_worker):
    workflow, _ = services.create_workflow(alice, "Failing", {
        "api_version": "nodeflow/v1", "name": "Failing",
        "nodes": [{"id": "start", "type": "trigger.manual", "position": [0, 0]},
                  {"id": "stop", "type": "flow.fail", "position": [300, 0], "params": {"message": "not yet"}}],
        "edges": [{"from": "start", "to": "stop"}],
    })
    sign_in(page, asgi_live_server)
    open_editor(page, asgi_live_server, workflow.pk)
    start_run(page)
    expect(page.get_by_test_id("execution-status")).to_have_text("failed", timeout=30_000)
    # The draft moves on after the run (the fix saved elsewhere): the retry still runs revision 1.
    services.update_workflow(Workflow.objects.get(pk=workflow.pk), name="Failing, fixed")
    page.reload()

    retry = page.get_by_role("status", name="Execution").get_by_role("button", name="Retry")
    expect(retry).to_have_text("Retry draft revision 1")
    retry.click()

    expect(page.get_by_text("It runs draft revision 1, as this run did, not the current draft.")).to_be_visible()
