"""The Variables page in a real browser: list, search, edit with JSON validation, history, the
secrets note; an edit made there is what a running workflow reads next, and what a published
trigger.variable workflow starts with."""

import re

import pytest
from playwright.sync_api import expect
from rest_framework.test import APIClient

from executions import starting
from executions.tasks import dispatcher
from tests.conftest import wait_for_execution
from tests.frontend.conftest import screenshot
from tests.frontend.editor import sign_in
from variables import services
from workflows.models import Workflow
from workflows.services import create_workflow, publish_workflow, with_node_versions

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def chain(owner, nodes, name, first=None):
    placed = [first or {"id": "start", "type": "trigger.manual"}, *nodes]
    placed = [{**node, "position": [320 * index, 100]} for index, node in enumerate(placed)]
    edges = [{"from": a["id"], "to": b["id"]} for a, b in zip(placed, placed[1:])]
    return with_node_versions({"api_version": "nodeflow/v1", "name": name, "nodes": placed, "edges": edges})


def test_a_variable_edited_on_the_page_is_what_a_running_workflow_reads_next(page, asgi_live_server, alice,
                                                                             celery_worker):
    services.put(alice, "greeting", "hello")
    services.put(alice, "other_setting", {"a": 1})
    # A run that is already going: it waits for input, then reads the variable.
    running = Workflow.objects.create(owner=alice, name="Greeter", definition=chain(alice, [
        {"id": "hold", "type": "flow.wait", "params": {"input": {"schema": {"type": "object"}, "timeout_s": 120}}},
        {"id": "done", "type": "flow.terminal", "params": {"result": "{{ globals.greeting }} {{ nodes.hold.output.who }}"}},
    ], "Greeter"))
    execution = starting.start_execution(running.definition, dispatcher=dispatcher, owner=alice, workflow=running)
    wait_for_execution(execution.pk, statuses=("waiting",))
    # And a published workflow that starts on each change of the key.
    watcher, _ = create_workflow(alice, definition=chain(alice, [
        {"id": "end", "type": "flow.terminal", "params": {"result": "{{ input.new }}"}},
    ], "On greeting", first={"id": "changed", "type": "trigger.variable", "params": {"key": "greeting"}}))
    publish_workflow(watcher)

    sign_in(page, asgi_live_server)
    page.get_by_role("link", name="Variables").click()
    expect(page).to_have_url(re.compile(r"/variables$"))
    expect(page.locator("[data-secrets-note]")).to_contain_text("credentials")
    rows = page.locator("tr[data-variable-key]")
    expect(rows).to_have_count(2)
    page.get_by_label("Search variables").fill("greet")
    expect(rows).to_have_count(1)

    page.get_by_role("button", name="greeting").click()
    value = page.get_by_label("Value", exact=True)
    expect(value).to_have_value('"hello"')
    value.fill("bonjour")  # not JSON: refused before it is sent
    expect(page.get_by_text("Not JSON:")).to_be_visible()
    expect(page.get_by_role("button", name="Save")).to_be_disabled()
    value.fill('"bonjour"')
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name=re.compile("greeting"))).to_contain_text("version 2")
    history = page.get_by_role("list", name="History").locator("li")
    expect(history).to_have_count(2)
    expect(history.first).to_contain_text("alice")
    expect(history.first).to_contain_text('"hello" → "bonjour"')
    expect(history.first).to_contain_text("started 1 execution(s)")
    expect(rows.first).to_contain_text('"bonjour"')
    screenshot(page, "variables-page")

    client = APIClient()
    client.force_authenticate(alice)
    assert client.post(f"/api/v1/executions/{execution.pk}/input/", {"node_id": "hold", "data": {"who": "ada"}},
                       format="json").status_code == 202
    assert wait_for_execution(execution.pk).result == "bonjour ada"
    [started] = watcher.executions.all()
    assert wait_for_execution(started.pk).result == "bonjour"


def test_a_new_variable_is_created_with_its_key_checked(page, asgi_live_server, alice):
    sign_in(page, asgi_live_server, path="/variables")
    page.get_by_role("button", name="New variable").click()
    key = page.get_by_label("Key", exact=True)
    key.fill("1st")
    expect(page.get_by_text("Letters, digits and _")).to_be_visible()
    expect(page.get_by_role("button", name="Save")).to_be_disabled()
    key.fill("limits")
    page.get_by_label("Value", exact=True).fill('{"max": 3}')
    page.get_by_role("button", name="Save").click()
    expect(page.locator('tr[data-variable-key="limits"]')).to_contain_text('{"max":3}')
    assert services.snapshot(alice.pk, {"limits"}) == {"limits": {"max": 3}}


def test_the_editor_warns_about_a_global_variable_that_does_not_exist_yet(page, asgi_live_server, alice):
    from tests.frontend.editor import open_editor

    services.put(alice, "known", 1)
    workflow = Workflow.objects.create(owner=alice, name="Reader", definition=chain(alice, [
        {"id": "done", "type": "flow.terminal", "params": {"result": "{{ globals.known }} {{ globals.not_yet }}"}},
    ], "Reader"))
    sign_in(page, asgi_live_server)
    open_editor(page, asgi_live_server, workflow.pk)
    bar = page.get_by_test_id("problems")
    expect(bar).to_have_attribute("data-count", "0")  # valid: a warning, not an error
    expect(page.get_by_test_id("warnings")).to_contain_text("1 warning")
    expect(page.get_by_test_id("warnings")).to_contain_text("globals.not_yet")
