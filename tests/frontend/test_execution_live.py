"""The execution view over a real WebSocket (uvicorn serving the ASGI app, a real Celery worker):
states seen while they last, log lines and outputs streamed into an open inspector, the global
context, pause and resume, the revision that ran, the Run dialog's form."""

import re

import pytest
from playwright.sync_api import expect

from tests.frontend.conftest import screenshot
from tests.frontend.editor import canvas_node, node_positions, open_editor, sign_in, start_run
from executions import starting
from workflows import services
from workflows.models import Workflow
from workflows.services import with_node_versions

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

GREET = """def run(ctx):
    print("hello", ctx["input"]["who"])
    return {"greeting": "hi " + ctx["input"]["who"]}
"""


def chain_document(nodes, name="Live"):
    """A manual trigger, then `nodes` one after the other."""
    placed = [{"id": "start", "type": "trigger.manual", "position": [0, 100]}]
    placed += [{**node, "position": [320 * (index + 1), 100]} for index, node in enumerate(nodes)]
    edges = [{"from": a["id"], "to": b["id"]} for a, b in zip(placed, placed[1:])]
    return with_node_versions({"api_version": "nodeflow/v1", "name": name, "nodes": placed, "edges": edges})


def chain(owner, nodes, name="Live"):
    return Workflow.objects.create(owner=owner, name=name, definition=chain_document(nodes, name))


class Traffic:
    """What the page asked the server for, and what its WebSockets received."""

    def __init__(self, page):
        self.requests = []
        self.frames = []
        page.on("request", lambda request: self.requests.append((request.method, request.url)))
        page.on("websocket", lambda socket: socket.on("framereceived", lambda payload: self.frames.append(payload)))

    def polls_of(self, execution_id):
        """GETs of the execution itself: what the polling fallback does, and nothing else does."""
        return [url for method, url in self.requests if method == "GET" and url.split("?")[0].endswith(f"/api/v1/executions/{execution_id}/")]


def test_a_running_node_is_seen_live_over_the_websocket_and_its_logs_and_output_stream_into_the_open_inspector(
        page, asgi_live_server, alice, celery_worker):
    workflow = chain(alice, [
        {"id": "nap", "type": "test.sleep", "params": {"seconds": 3}},
        {"id": "greet", "type": "code.python", "params": {"code": GREET}},
        {"id": "done", "type": "flow.terminal", "params": {"result": "{{ nodes.greet.output }}"}},
    ])
    traffic = Traffic(page)
    sign_in(page, asgi_live_server)
    open_editor(page, asgi_live_server, workflow.pk)
    execution_id = start_run(page, '{"who": "ada"}')

    # The sleeping node is seen running (a state that lasts 3 s) and its successor not yet.
    expect(canvas_node(page, "nap").locator("[data-run-state]")).to_have_text("running", timeout=30_000)
    expect(canvas_node(page, "greet").locator("[data-run-state]")).to_have_text("pending")
    run_bar = page.get_by_role("status", name="Execution")
    expect(run_bar).to_have_attribute("data-transport", "websocket")
    expect(run_bar.locator(".nf-run-transport")).to_have_text("live")
    screenshot(page, "execution-live-running")

    # Open the next node's inspector before it runs: its output and log lines arrive in it.
    canvas_node(page, "greet").click()
    inspector = page.get_by_role("complementary", name="Run details")
    expect(inspector.get_by_test_id("node-run-status")).to_have_text("pending")
    expect(inspector.get_by_role("tabpanel")).to_contain_text("No output yet.")
    expect(inspector.get_by_role("tab", name="Logs (0)")).to_be_visible()
    expect(canvas_node(page, "nap").locator("[data-run-state]")).to_have_text("completed", timeout=30_000)
    expect(inspector.get_by_role("tabpanel")).to_contain_text("hi ada", timeout=30_000)
    expect(inspector.get_by_test_id("node-run-status")).to_have_text("completed")
    expect(inspector.get_by_role("tab", name="Logs (1)")).to_be_visible()
    inspector.get_by_role("tab", name="Logs (1)").click()
    expect(inspector.get_by_role("list", name="Logs")).to_contain_text("hello ada")
    expect(page.get_by_test_id("execution-status")).to_have_text("succeeded", timeout=30_000)

    # All of it came over the socket: the page never fell back to polling the execution.
    assert traffic.polls_of(execution_id) == []
    assert any('"NODE_STATE_CHANGED"' in frame for frame in traffic.frames)
    assert any('"LOG"' in frame and "hello ada" in frame for frame in traffic.frames)
    assert any('"DATA_AVAILABLE"' in frame for frame in traffic.frames)

    # The run's global context, next to its node runs, timeline and logs.
    page.keyboard.press("Escape")
    panel = page.get_by_role("complementary", name="Run details")
    panel.get_by_role("tab", name="Context").click()
    context = panel.get_by_role("tabpanel", name="Context")
    expect(context.locator(".nf-global-context")).to_have_attribute("data-after", "done")
    context.get_by_role("searchbox", name="Search Global context").fill("greeting")
    expect(context).to_contain_text("hi ada")
    context.get_by_role("button", name="Copy path nodes.greet.output.greeting").click()
    assert page.evaluate("navigator.clipboard.readText()") == "nodes.greet.output.greeting"
    screenshot(page, "execution-global-context")


def test_the_global_context_view_follows_the_run_as_nodes_finish(page, asgi_live_server, alice, celery_worker):
    workflow = chain(alice, [
        {"id": "first", "type": "data.set", "params": {"vars": {"step": "one"}}},
        {"id": "nap", "type": "test.sleep", "params": {"seconds": 3}},
        {"id": "second", "type": "data.set", "params": {"vars": {"step": "two"}}},
    ])
    sign_in(page, asgi_live_server)
    open_editor(page, asgi_live_server, workflow.pk)
    start_run(page)
    page.get_by_role("complementary", name="Run details").get_by_role("tab", name="Context").click()
    context = page.get_by_role("tabpanel", name="Context")
    expect(context.locator(".nf-global-context")).to_have_attribute("data-after", "first", timeout=30_000)
    expect(context.locator('[data-path="vars.step"]')).to_contain_text('"one"')
    expect(page.get_by_test_id("execution-status")).to_have_text("succeeded", timeout=30_000)
    expect(context.locator(".nf-global-context")).to_have_attribute("data-after", "second")
    expect(context.locator('[data-path="vars.step"]')).to_contain_text('"two"')


def test_a_run_is_paused_and_resumed_from_the_run_bar(page, asgi_live_server, alice, celery_worker):
    workflow = chain(alice, [
        {"id": "first", "type": "test.sleep", "params": {"seconds": 2}},
        {"id": "second", "type": "test.sleep", "params": {"seconds": 0.2}},
        {"id": "done", "type": "flow.terminal", "params": {"result": "both slept"}},
    ])
    traffic = Traffic(page)
    sign_in(page, asgi_live_server)
    open_editor(page, asgi_live_server, workflow.pk)
    execution_id = start_run(page)
    run_bar = page.get_by_role("status", name="Execution")
    expect(canvas_node(page, "first").locator("[data-run-state]")).to_have_text("running", timeout=30_000)

    run_bar.get_by_role("button", name="Pause").click()
    expect(page.get_by_test_id("execution-status")).to_have_text("paused", timeout=30_000)
    # The running node finishes; nothing after it starts while the run is paused.
    expect(canvas_node(page, "first").locator("[data-run-state]")).to_have_text("completed", timeout=30_000)
    second = canvas_node(page, "second").locator("[data-run-state]")
    for _ in range(15):  # watched for 1.5 s, failing the moment it starts
        expect(second).to_have_text(re.compile("^(pending|queued)$"), timeout=100)
        page.wait_for_timeout(100)
    expect(page.get_by_test_id("execution-status")).to_have_text("paused")
    expect(run_bar.get_by_role("button", name="Pause")).to_have_count(0)
    screenshot(page, "execution-paused")

    run_bar.get_by_role("button", name="Resume").click()
    expect(page.get_by_test_id("execution-status")).to_have_text("succeeded", timeout=30_000)
    for node_id in ("first", "second", "done"):
        expect(canvas_node(page, node_id).locator("[data-run-state]")).to_have_text("completed")
    expect(run_bar).to_have_attribute("data-transport", "websocket")
    assert traffic.polls_of(execution_id) == []

    from executions.models import Execution

    execution = Execution.objects.get(pk=execution_id)
    assert execution.status == "succeeded" and execution.result == "both slept"
    states = [event.data.get("status") for event in execution.events.filter(type="EXECUTION_STATE_CHANGED").order_by("seq")]
    assert "paused" in states and states.index("paused") < len(states) - 1


def test_an_execution_of_an_older_revision_draws_what_ran_read_only_and_leads_back_to_the_draft(
        page, asgi_live_server, alice):
    from executions.inline import InlineDispatcher

    workflow = chain(alice, [
        {"id": "old_step", "type": "data.set", "params": {"vars": {"a": 1}}},
        {"id": "done", "type": "flow.terminal", "params": {"result": "old"}},
    ], name="Revised")
    dispatcher = InlineDispatcher()
    execution = starting.run_workflow(workflow, dispatcher=dispatcher)
    dispatcher.drain()
    ran_revision = workflow.revision
    # The draft changes after the run: a node renamed and moved, one more node.
    changed = chain_document([
        {"id": "new_step", "type": "data.set", "params": {"vars": {"a": 2}}},
        {"id": "extra", "type": "data.set", "params": {"vars": {"b": 2}}},
        {"id": "done", "type": "flow.terminal", "params": {"result": "new"}},
    ], name="Revised")
    services.update_workflow(workflow, definition=changed)

    sign_in(page, asgi_live_server)
    page.goto(f"{asgi_live_server.url}/workflows/{workflow.pk}/executions/{execution.pk}")
    page.wait_for_selector("body[data-editor-ready=true]", timeout=20_000)
    notice = page.get_by_role("note", name="Revision that ran")
    expect(notice).to_contain_text(f"draft revision {ran_revision}")
    expect(notice).to_contain_text("read-only")
    expect(page.locator(".react-flow__node")).to_have_count(3)
    for node_id in ("start", "old_step", "done"):
        expect(canvas_node(page, node_id).locator("[data-run-state]")).to_have_text("completed")
    expect(canvas_node(page, "new_step")).to_have_count(0)
    # Read-only: nothing to add nodes with, no moving, no deleting.
    expect(page.locator(".nf-palette")).to_have_count(0)
    expect(page.get_by_role("toolbar", name="Editing")).to_have_count(0)
    before = node_positions(page)["old_step"]
    canvas_node(page, "old_step").drag_to(page.locator(".react-flow__pane"), target_position={"x": 200, "y": 400})
    assert node_positions(page)["old_step"] == before
    canvas_node(page, "old_step").click()
    page.keyboard.press("Delete")
    expect(page.get_by_role("complementary", name="Run details").get_by_role("heading", name="old_step")).to_be_visible()
    workflow.refresh_from_db()
    assert [node["id"] for node in workflow.definition["nodes"]] == ["start", "new_step", "extra", "done"]
    screenshot(page, "execution-older-revision")

    notice.get_by_role("link", name="Back to the draft").click()
    page.wait_for_selector("body[data-editor-ready=true]")
    expect(page).to_have_url(f"{asgi_live_server.url}/workflows/{workflow.pk}")
    expect(page.locator(".react-flow__node")).to_have_count(4)
    expect(canvas_node(page, "new_step")).to_be_visible()

    # A run of the draft as it is now: the canvas and the draft agree, so no notice.
    dispatcher = InlineDispatcher()
    workflow.refresh_from_db()
    current = starting.run_workflow(workflow, dispatcher=dispatcher)
    dispatcher.drain()
    page.goto(f"{asgi_live_server.url}/workflows/{workflow.pk}/executions/{current.pk}")
    page.wait_for_selector("body[data-editor-ready=true]", timeout=20_000)
    expect(canvas_node(page, "extra").locator("[data-run-state]")).to_have_text("completed")
    expect(page.get_by_role("note", name="Revision that ran")).to_have_count(0)


INPUT_SCHEMA = {
    "type": "object",
    "required": ["who", "times"],
    "properties": {
        "who": {"type": "string", "minLength": 2, "title": "Who"},
        "times": {"type": "integer", "minimum": 1, "maximum": 5},
        "loud": {"type": "boolean"},
        "tone": {"enum": ["warm", "dry"]},
    },
}


def test_the_run_dialog_offers_a_form_from_the_input_schema_in_sync_with_the_json(page, asgi_live_server, alice, celery_worker):
    document = with_node_versions({"api_version": "nodeflow/v1", "name": "Form", "input_schema": INPUT_SCHEMA, "nodes": [
        {"id": "start", "type": "trigger.manual", "position": [0, 100]},
        {"id": "done", "type": "flow.terminal", "params": {"result": "{{ input }}"}, "position": [320, 100]}],
        "edges": [{"from": "start", "to": "done"}]})
    workflow = Workflow.objects.create(owner=alice, name="Form", definition=document)
    sign_in(page, asgi_live_server)
    open_editor(page, asgi_live_server, workflow.pk)
    page.get_by_role("button", name="Run", exact=True).click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("radio", name="Form")).to_have_attribute("aria-checked", "true")

    # Per-field problems, found in the browser before anything is sent.
    dialog.get_by_label("Who").fill("a")
    dialog.get_by_label("Times").fill("9")
    dialog.get_by_role("button", name="Run", exact=True).click()
    expect(dialog.locator(".nf-field", has=page.get_by_label("Who")).get_by_role("alert")).to_have_text("Must be at least 2 characters long.")
    expect(dialog.locator(".nf-field", has=page.get_by_label("Times")).get_by_role("alert")).to_have_text("Must be at most 5.")
    expect(dialog.get_by_role("button", name="Run", exact=True)).to_be_disabled()
    screenshot(page, "run-dialog-form-errors")

    dialog.get_by_label("Who").fill("ada")
    dialog.get_by_label("Times").fill("2")
    dialog.get_by_label("Tone").select_option("warm")
    dialog.get_by_label("Loud").check()
    expect(dialog.get_by_role("button", name="Run", exact=True)).to_be_enabled()

    # The JSON shows what the form holds; an edit there shows in the form.
    dialog.get_by_role("radio", name="JSON").click()
    import json

    assert json.loads(dialog.get_by_label("Input (JSON)").input_value()) == {"who": "ada", "times": 2, "loud": True, "tone": "warm"}
    dialog.get_by_label("Input (JSON)").fill('{"who": "grace", "times": 3, "loud": false, "tone": "dry"}')
    dialog.get_by_role("radio", name="Form").click()
    expect(dialog.get_by_label("Who")).to_have_value("grace")
    expect(dialog.get_by_label("Times")).to_have_value("3")
    expect(dialog.get_by_label("Tone")).to_have_value("dry")
    expect(dialog.get_by_label("Loud")).not_to_be_checked()

    # Text that is not JSON keeps the JSON view until it is fixed.
    dialog.get_by_role("radio", name="JSON").click()
    dialog.get_by_label("Input (JSON)").fill('{"who": ')
    expect(dialog.get_by_role("alert")).to_contain_text("not valid JSON")
    expect(dialog.get_by_role("radio", name="Form")).to_be_disabled()
    dialog.get_by_label("Input (JSON)").fill('{"who": "grace", "times": 3}')
    dialog.get_by_role("radio", name="Form").click()
    dialog.get_by_role("button", name="Run", exact=True).click()
    expect(page.get_by_test_id("execution-status")).to_have_text("succeeded", timeout=30_000)

    from executions.models import Execution

    assert Execution.objects.get(workflow=workflow).input == {"who": "grace", "times": 3}


def test_the_servers_refusal_of_an_input_is_shown_on_its_field(page, asgi_live_server, alice):
    # A schema the browser's checks leave to the server (a oneOf): the server's 400 is what says no.
    schema = {"type": "object", "properties": {"code": {"type": "string", "oneOf": [{"const": "A1"}, {"const": "B2"}]}}}
    document = with_node_versions({"api_version": "nodeflow/v1", "name": "Strict", "input_schema": schema, "nodes": [
        {"id": "start", "type": "trigger.manual", "position": [0, 100]},
        {"id": "done", "type": "flow.terminal", "params": {"result": "ok"}, "position": [320, 100]}],
        "edges": [{"from": "start", "to": "done"}]})
    workflow = Workflow.objects.create(owner=alice, name="Strict", definition=document)
    page.allowed_errors = ("status of 400",)  # the browser logs the refused request
    sign_in(page, asgi_live_server)
    open_editor(page, asgi_live_server, workflow.pk)
    page.get_by_role("button", name="Run", exact=True).click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Code").fill("C3")
    with page.expect_response(re.compile(r"/run/$")) as answer:
        dialog.get_by_role("button", name="Run", exact=True).click()
    assert answer.value.status == 400 and answer.value.json()["error"]["code"] == "invalid_input"
    expect(dialog.locator(".nf-field", has=page.get_by_label("Code")).get_by_role("alert")).to_contain_text("is not valid under any of the given schemas")
    expect(dialog.get_by_text("The server refused this input")).to_be_visible()
    expect(page).to_have_url(f"{asgi_live_server.url}/workflows/{workflow.pk}")
