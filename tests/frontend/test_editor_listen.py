"""Listen (issue 25, item 2): the webhook's test URL answers 404 until the editor listens; then a call to
it, or a run started by another client, opens live on the canvas of the open editor."""

import re

import pytest
import requests
from playwright.sync_api import expect

from tests.frontend.conftest import screenshot
from tests.frontend.editor import canvas_node, open_editor, sign_in
from workflows import services
from workflows.models import Workflow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

GREET = "def run(ctx):\n    return {'greeting': 'hi ' + ctx['input']['body']['who']}\n"


def webhook_workflow(owner):
    workflow, _ = services.create_workflow(owner, "Hooked", {
        "api_version": "nodeflow/v1", "name": "Hooked",
        "nodes": [{"id": "hook", "type": "trigger.webhook", "name": "Incoming call", "position": [0, 0],
                   "params": {"auth": "none", "response": "async"}},
                  {"id": "greet", "type": "data.set", "name": "Greet", "position": [320, 0],
                   "params": {"output": {"greeting": "hi {{ input.body.who }}"}}},
                  {"id": "done", "type": "flow.terminal", "name": "Done", "position": [640, 0],
                   "params": {"result": "{{ nodes.greet.output }}"}}],
        "edges": [{"from": "hook", "to": "greet"}, {"from": "greet", "to": "done"}],
    })
    return workflow


def test_a_call_to_the_test_url_shows_up_live_once_the_editor_listens(page, asgi_live_server, alice, celery_worker):
    workflow = webhook_workflow(alice)
    sign_in(page, asgi_live_server)
    open_editor(page, asgi_live_server, workflow.pk)
    canvas_node(page, "hook").click()
    test_url = page.get_by_role("region", name="Webhook URLs").locator("code").nth(1).inner_text()
    assert "/hooks/test/" in test_url

    # Before listening the test URL is closed.
    assert requests.post(test_url, json={"who": "early"}, timeout=10).status_code == 404

    page.get_by_role("banner").get_by_role("button", name="Listen").click()
    expect(page.get_by_role("banner").get_by_role("status", name="Listening for a run")).to_have_text(re.compile(r"^[12]:\d\d"))
    expect(page.get_by_role("region", name="Webhook URLs")).to_contain_text("Listening…")
    screenshot(page, "editor-listening")
    # The header keeps one line at 1440 px, "Sign out" included (issue 25, item 13).
    sign_out = page.get_by_role("button", name="Sign out").bounding_box()
    assert sign_out["height"] < 24 and sign_out["x"] + sign_out["width"] <= 1440, sign_out
    answer = requests.post(test_url, json={"who": "ada"}, timeout=10)
    assert answer.status_code == 202, answer.text
    execution_id = answer.json()["execution_id"]

    expect(page).to_have_url(re.compile(rf"/workflows/{workflow.pk}/executions/{execution_id}$"), timeout=15_000)
    expect(canvas_node(page, "done").locator("[data-run-state]")).to_have_attribute("data-run-state", "completed",
                                                                                   timeout=30_000)
    expect(page.get_by_role("status", name="Listening for a run")).to_have_count(0)


def test_a_run_started_by_another_client_opens_in_the_listening_editor(page, asgi_live_server, alice, celery_worker):
    workflow = webhook_workflow(alice)
    Workflow.objects.filter(pk=workflow.pk).update(definition={
        **workflow.definition,
        "nodes": [{**node, "type": "trigger.manual", "params": {}} if node["id"] == "hook" else node
                  for node in workflow.definition["nodes"]],
    })
    sign_in(page, asgi_live_server)
    open_editor(page, asgi_live_server, workflow.pk)
    page.get_by_role("button", name="Listen", exact=True).click()
    expect(page.get_by_role("status", name="Listening for a run")).to_be_visible()

    token = requests.post(f"{asgi_live_server.url}/api/v1/auth/token/",
                          json={"username": "alice", "password": "alice-password-1"}, timeout=10).json()["token"]
    answer = requests.post(f"{asgi_live_server.url}/api/v1/workflows/{workflow.pk}/run/",
                           json={"input": {"body": {"who": "grace"}}}, headers={"Authorization": f"Token {token}"},
                           timeout=10)
    assert answer.status_code == 202, answer.text

    expect(page).to_have_url(re.compile(rf"/executions/{answer.json()['execution_id']}$"), timeout=15_000)
    expect(canvas_node(page, "done").locator("[data-run-state]")).to_have_attribute("data-run-state", "completed",
                                                                                   timeout=30_000)
