"""Running a workflow from the editor and watching it on the canvas, against a real Celery worker."""

import pytest
from playwright.sync_api import expect

from tests.frontend.conftest import screenshot
from tests.frontend.editor import canvas_node, open_editor, sign_in
from workflows.models import Workflow
from workflows.services import with_node_versions

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The live test server speaks WSGI only: the page's WebSocket is refused and it polls instead.
WEBSOCKET_REFUSED = ("WebSocket",)

CODE = """def run(ctx):
    print("hello", ctx["input"]["who"])
    return {"greeting": "hi " + ctx["input"]["who"]}
"""


def fan_out_workflow(owner):
    document = with_node_versions({"api_version": "nodeflow/v1", "name": "Greeter", "nodes": [
        {"id": "start", "type": "trigger.manual", "position": [0, 200]},
        {"id": "greet", "type": "code.python", "params": {"code": CODE}, "position": [320, 200]},
        {"id": "a", "type": "data.set", "params": {"vars": {"a": 1}}, "position": [640, 40]},
        {"id": "b", "type": "data.set", "params": {"vars": {"b": 2}}, "position": [640, 200]},
        {"id": "c", "type": "data.set", "params": {"vars": {"c": 3}}, "position": [640, 360]},
        {"id": "done", "type": "flow.terminal", "params": {"result": "{{ nodes.greet.output }}"}, "position": [960, 200]}],
        "edges": [{"from": "start", "to": "greet"}, {"from": "greet", "to": "a"}, {"from": "greet", "to": "b"},
                  {"from": "greet", "to": "c"}, {"from": "a", "to": "done"}, {"from": "b", "to": "done"},
                  {"from": "c", "to": "done"}]})
    return Workflow.objects.create(owner=owner, name="Greeter", definition=document)


def test_run_from_the_editor_and_watch_every_node_complete(page, live_server, alice, celery_worker):
    page.allowed_errors = WEBSOCKET_REFUSED
    workflow = fan_out_workflow(alice)
    sign_in(page, live_server)
    open_editor(page, live_server, workflow.pk)

    page.get_by_role("button", name="Run", exact=True).click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Input (JSON)").fill('{"who": "ada"}')
    dialog.get_by_role("button", name="Run", exact=True).click()

    expect(page.get_by_test_id("execution-status")).to_have_text("succeeded", timeout=60_000)
    assert "/executions/" in page.url
    for node_id in ["start", "greet", "a", "b", "c", "done"]:
        expect(canvas_node(page, node_id).locator("[data-run-state]")).to_have_text("completed")
    expect(canvas_node(page, "greet").locator("[data-run-note]")).to_contain_text("s")  # its duration
    expect(page.locator(".nf-edge--carried")).to_have_count(7)
    screenshot(page, "execution-succeeded")

    from executions.models import Execution

    execution = Execution.objects.get(workflow=workflow)
    assert execution.input == {"who": "ada"} and execution.result == {"greeting": "hi ada"}


def test_a_bad_input_is_refused_in_the_dialog(page, live_server, alice):
    workflow = fan_out_workflow(alice)
    sign_in(page, live_server)
    open_editor(page, live_server, workflow.pk)
    page.get_by_role("button", name="Run", exact=True).click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Input (JSON)").fill("{nope")
    dialog.get_by_role("button", name="Run", exact=True).click()
    expect(dialog.get_by_role("alert")).to_contain_text("not valid JSON")
