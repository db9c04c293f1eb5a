"""The Run dialog remembers the last input of each workflow (issue 25, item 13 of the list)."""

import json

import pytest
from playwright.sync_api import expect

from tests.frontend.editor import fill_run_dialog, open_editor, sign_in
from workflows import services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_run_dialog_opens_with_the_last_input_run(page, asgi_live_server, alice):
    live_server = asgi_live_server
    workflow, _ = services.create_workflow(alice, "Remembers", {
        "api_version": "nodeflow/v1", "name": "Remembers",
        "nodes": [{"id": "start", "type": "trigger.manual", "position": [0, 0]},
                  {"id": "done", "type": "flow.terminal", "position": [300, 0], "params": {"result": "{{ input }}"}}],
        "edges": [{"from": "start", "to": "done"}],
    })
    sign_in(page, live_server)
    open_editor(page, live_server, workflow.pk)
    fill_run_dialog(page, '{"who": "ada", "n": 3}').get_by_role("button", name="Run", exact=True).click()
    expect(page.get_by_role("status", name="Execution")).to_be_visible()

    open_editor(page, live_server, workflow.pk)
    page.get_by_role("button", name="Run", exact=True).click()

    assert json.loads(page.get_by_role("dialog").get_by_label("Input (JSON)").input_value()) == {"who": "ada", "n": 3}
