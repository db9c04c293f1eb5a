"""Schedules and run times to the second (issue 25, item 5 of the list): the schedule panel says that
an unpublished schedule waits for publishing (not "set every"), its next runs show seconds, and the
executions list shows when each run was created to the second."""

import re

import pytest
from playwright.sync_api import expect

from executions import starting
from executions.inline import InlineDispatcher
from tests.frontend.editor import canvas_node, open_editor, sign_in
from workflows import services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def every_ten_seconds(owner):
    workflow, _ = services.create_workflow(owner, "Ticker", {
        "api_version": "nodeflow/v1", "name": "Ticker",
        "nodes": [{"id": "tick", "type": "trigger.schedule", "position": [0, 0], "params": {"every": 10, "unit": "seconds"}},
                  {"id": "done", "type": "flow.terminal", "position": [300, 0], "params": {"result": "ok"}}],
        "edges": [{"from": "tick", "to": "done"}],
    })
    return workflow


def test_an_unpublished_schedule_says_it_waits_for_publishing_and_next_runs_show_seconds(page, live_server, alice):
    workflow = every_ten_seconds(alice)
    sign_in(page, live_server)
    open_editor(page, live_server, workflow.pk)
    canvas_node(page, "tick").click()
    panel = page.get_by_role("region", name="Next runs")
    expect(panel).to_contain_text("publish the workflow to start it")
    expect(panel).not_to_contain_text("Set “every”")

    services.publish_workflow(workflow, alice)
    page.reload()
    canvas_node(page, "tick").click()
    runs = panel.locator(".nf-next-runs li")
    expect(runs.first).to_be_visible()
    texts = runs.all_inner_texts()
    assert len(texts) >= 3 and len(set(texts)) == len(texts), texts  # ten seconds apart: distinct to the second
    assert all(re.search(r"\d:\d\d:\d\d", text) for text in texts), texts


def test_the_executions_list_shows_created_to_the_second(page, live_server, alice):
    workflow = every_ten_seconds(alice)
    dispatcher = InlineDispatcher()
    starting.run_workflow(workflow, dispatcher=dispatcher)
    dispatcher.drain()
    sign_in(page, live_server)

    page.goto(f"{live_server.url}/workflows/{workflow.pk}/executions")

    expect(page.locator("table tbody tr").first).to_contain_text(re.compile(r"\d:\d\d:\d\d"))
