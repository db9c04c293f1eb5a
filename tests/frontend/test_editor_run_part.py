"""Run with problems (issue 25): a harmless unconnected node with problems no longer blocks Run; the run
covers the part connected to the trigger and the editor says what it left out."""

import pytest
from playwright.sync_api import expect

from tests.frontend.conftest import screenshot
from tests.frontend.editor import canvas_node, open_editor, sign_in, start_run
from workflows import services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def with_stray_copy(owner, connected_problem=False):
    workflow, errors = services.create_workflow(owner, "Stray copy", {
        "api_version": "nodeflow/v1", "name": "Stray copy",
        "nodes": [
            {"id": "start", "type": "trigger.manual", "position": [0, 0]},
            {"id": "greet", "type": "data.set", "name": "Greet", "position": [300, 0],
             "params": {"output": {"hello": "{{ nodes.ghost.output }}" if connected_problem else "world"}}},
            {"id": "done", "type": "flow.terminal", "name": "Done", "position": [600, 0],
             "params": {"result": "{{ nodes.greet.output }}"}},
            {"id": "copy_of_fetch", "type": "http.request", "name": "Copy of Fetch", "position": [300, 220]},
        ],
        "edges": [{"from": "start", "to": "greet"}, {"from": "greet", "to": "done"}],
    })
    assert errors
    return workflow


def test_an_unconnected_node_with_problems_does_not_block_the_run(page, asgi_live_server, alice, celery_worker):
    workflow = with_stray_copy(alice)
    sign_in(page, asgi_live_server)
    open_editor(page, asgi_live_server, workflow.pk)

    run = page.get_by_role("banner").get_by_role("button", name="Run", exact=True)
    expect(run).to_be_enabled()
    expect(run).to_have_attribute("title", "Runs the part connected to the trigger; leaves out Copy of Fetch "
                                           "(copy_of_fetch) (not connected, with problems)")
    start_run(page)

    expect(page.get_by_text("left out Copy of Fetch (copy_of_fetch)").first).to_be_visible()
    expect(page.get_by_test_id("execution-status")).to_have_text("succeeded", timeout=30_000)
    notice = page.get_by_role("note", name="Nodes left out")
    expect(notice).to_contain_text("This run left out Copy of Fetch (copy_of_fetch)")
    expect(page.get_by_test_id("ran-revision")).to_have_count(0)
    expect(canvas_node(page, "copy_of_fetch")).to_have_count(0)
    screenshot(page, "execution-left-out")


def test_a_problem_in_the_connected_part_still_blocks_the_run(page, live_server, alice):
    workflow = with_stray_copy(alice, connected_problem=True)
    sign_in(page, live_server)
    open_editor(page, live_server, workflow.pk)

    expect(page.get_by_role("banner").get_by_role("button", name="Run", exact=True)).to_be_disabled()
