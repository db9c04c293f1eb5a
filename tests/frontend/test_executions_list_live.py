"""The executions list (issue 25, item 13 of the list): it refreshes by itself (new runs appear), its
filters are in the URL, and a run opens from its time as well as from its status."""

import re

import pytest
from playwright.sync_api import expect

from executions import starting
from executions.inline import InlineDispatcher
from tests.frontend.editor import sign_in
from workflows import services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def workflow_of(owner, result="ok"):
    workflow, _ = services.create_workflow(owner, "Listed", {
        "api_version": "nodeflow/v1", "name": "Listed",
        "nodes": [{"id": "start", "type": "trigger.manual", "position": [0, 0]},
                  {"id": "done", "type": "flow.terminal", "position": [300, 0], "params": {"result": result}}],
        "edges": [{"from": "start", "to": "done"}],
    })
    return workflow


def run(workflow):
    dispatcher = InlineDispatcher()
    execution = starting.run_workflow(workflow, dispatcher=dispatcher)
    dispatcher.drain()
    return execution


def test_filters_are_in_the_url_new_runs_appear_and_rows_link_to_their_run(page, asgi_live_server, alice):
    live_server = asgi_live_server
    workflow = workflow_of(alice)
    first = run(workflow)
    sign_in(page, live_server)

    page.goto(f"{live_server.url}/executions?status=succeeded")
    expect(page.get_by_label("Status")).to_have_value("succeeded")
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(1)
    page.get_by_label("Trigger").select_option("manual")
    expect(page).to_have_url(re.compile(r"/executions\?status=succeeded&trigger=manual$"))

    second = run(workflow)  # after the page loaded: it shows up without a reload
    expect(rows).to_have_count(2, timeout=15_000)
    expect(rows.first).to_have_attribute("data-execution-id", str(second.pk))

    rows.nth(1).get_by_role("link", name=re.compile(r"\d:\d\d:\d\d")).click()
    expect(page).to_have_url(re.compile(rf"/workflows/{workflow.pk}/executions/{first.pk}$"))
