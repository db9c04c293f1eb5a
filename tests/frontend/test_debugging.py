"""Debugging in the editor (issue 23), against a real Celery worker: pin an output from the run inspector
and run again without the call; set a breakpoint, run, step twice, edit a variable, continue; make a test
case from a run and run the tests, with a failure's path, expected and actual."""

import pytest
from playwright.sync_api import expect

from executions.models import Execution, NodeRun
from tests.frontend.conftest import screenshot
from tests.frontend.editor import canvas_node, open_editor, sign_in, start_run
from workflows.models import Workflow
from workflows.services import with_node_versions

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def make_workflow(owner, nodes, edges, name="Debug me"):
    document = with_node_versions({"api_version": "nodeflow/v1", "name": name, "nodes": nodes,
                                   "edges": [{"from": f, "to": t} for f, t in edges]})
    return Workflow.objects.create(owner=owner, name=name, definition=document)


def test_pin_an_output_from_a_run_and_run_again_without_the_call(page, asgi_live_server, alice, celery_worker,
                                                                 httpserver):
    httpserver.expect_request("/user").respond_with_json({"name": "ada"})
    workflow = make_workflow(alice, [
        {"id": "start", "type": "trigger.manual", "position": [0, 100]},
        {"id": "lookup", "type": "http.request", "params": {"url": httpserver.url_for("/user")}, "position": [300, 100]},
        {"id": "done", "type": "flow.terminal", "params": {"result": "{{ nodes.lookup.output.body.name }}"},
         "position": [600, 100]}], [("start", "lookup"), ("lookup", "done")])
    sign_in(page, asgi_live_server)
    open_editor(page, asgi_live_server, workflow.pk)
    start_run(page)
    expect(page.get_by_test_id("execution-status")).to_have_text("succeeded", timeout=60_000)

    canvas_node(page, "lookup").click()
    inspector = page.get_by_role("complementary", name="Run details")
    expect(inspector.get_by_role("tabpanel")).to_contain_text("ada")  # the output
    inspector.get_by_test_id("pin-output").click()
    expect(inspector.get_by_test_id("pin-output")).to_have_text("Unpin output")
    expect(canvas_node(page, "lookup").locator("[data-pinned]")).to_be_visible()
    expect(page.locator("body")).to_contain_text("Pinned: draft runs use this output")  # saved
    pinned = Workflow.objects.get(pk=workflow.pk).definition["pins"]["lookup"]
    assert pinned["body"] == {"name": "ada"} and pinned["status"] == 200

    page.get_by_role("link", name="Back to editing").click()
    expect(canvas_node(page, "lookup").locator("[data-pinned]")).to_be_visible()
    screenshot(page, "debugging-pinned-node")
    start_run(page)
    expect(page.get_by_test_id("execution-status")).to_have_text("succeeded", timeout=60_000)
    assert len(httpserver.log) == 1  # the second run did not call
    latest = Execution.objects.filter(workflow=workflow).order_by("-created_at").first()
    assert latest.result == "ada"
    assert NodeRun.objects.get(execution=latest, node_id="lookup").pinned


def test_breakpoint_run_step_twice_edit_vars_and_continue(page, asgi_live_server, alice, celery_worker):
    workflow = make_workflow(alice, [
        {"id": "start", "type": "trigger.manual", "position": [0, 100]},
        {"id": "first", "type": "data.set", "params": {"vars": {"x": "one"}}, "position": [300, 100]},
        {"id": "second", "type": "data.set", "params": {"output": {"seen": "{{ vars.x }}"}}, "position": [600, 100]},
        {"id": "third", "type": "flow.noop", "position": [900, 100]},
        {"id": "done", "type": "flow.terminal", "params": {"result": {"x": "{{ vars.x }}"}}, "position": [1200, 100]}],
        [("start", "first"), ("first", "second"), ("second", "third"), ("third", "done")])
    sign_in(page, asgi_live_server)
    open_editor(page, asgi_live_server, workflow.pk)
    canvas_node(page, "first").click()
    page.get_by_role("complementary", name="Details").get_by_role("button", name="Set breakpoint").click()
    expect(canvas_node(page, "first").locator("[data-breakpoint]")).to_be_visible()

    start_run(page)
    status = page.get_by_test_id("execution-status")
    expect(status).to_have_text("paused", timeout=60_000)
    paused = page.get_by_test_id("paused-panel")
    expect(paused).to_contain_text("Paused before first")
    expect(canvas_node(page, "first").locator("[data-run-state]")).to_have_text("waiting")
    screenshot(page, "debugging-paused")
    # The held node's inspector says how it goes on, and offers no input to send (it waits for no input).
    canvas_node(page, "first").click()
    inspector = page.get_by_role("complementary", name="Run details")
    expect(inspector.get_by_test_id("held-at-breakpoint")).to_be_visible()
    expect(inspector.get_by_role("button", name="Send input")).to_have_count(0)
    page.keyboard.press("Escape")
    bar = page.get_by_role("status", name="Execution")

    bar.get_by_role("button", name="Step", exact=True).click()
    expect(paused).to_contain_text("Paused before second", timeout=30_000)
    expect(canvas_node(page, "first").locator("[data-run-state]")).to_have_text("completed")
    bar.get_by_role("button", name="Step", exact=True).click()
    expect(paused).to_contain_text("Paused before third", timeout=30_000)
    expect(canvas_node(page, "second").locator("[data-run-state]")).to_have_text("completed")

    variables = paused.get_by_label("Variables (edit, then apply)")
    expect(variables).to_have_value('{\n  "x": "one"\n}')
    variables.fill('{"x": "edited"}')
    paused.get_by_role("button", name="Apply variables").click()
    expect(page.locator(".nf-toast").filter(has_text="Variables changed")).to_be_visible()
    bar.get_by_role("button", name="Continue").click()
    expect(status).to_have_text("succeeded", timeout=60_000)
    execution = Execution.objects.get(workflow=workflow)
    assert execution.result == {"x": "edited"}
    second = NodeRun.objects.get(execution=execution, node_id="second")
    assert second.output == {"seen": "one"}  # it ran before the edit


def test_a_test_case_from_a_run_passes_and_a_changed_draft_fails_with_the_path(page, asgi_live_server, alice,
                                                                               celery_worker):
    nodes = [{"id": "start", "type": "trigger.manual", "position": [0, 100]},
             {"id": "done", "type": "flow.terminal", "params": {"result": {"text": "hi {{ input.who }}"}},
              "position": [300, 100]}]
    workflow = make_workflow(alice, nodes, [("start", "done")])
    sign_in(page, asgi_live_server)
    open_editor(page, asgi_live_server, workflow.pk)
    start_run(page, '{"who": "ada"}')
    expect(page.get_by_test_id("execution-status")).to_have_text("succeeded", timeout=60_000)
    page.get_by_role("status", name="Execution").get_by_role("button", name="Save as test case").click()
    expect(page.locator("body")).to_contain_text("Saved as a test case")
    case = Workflow.objects.get(pk=workflow.pk).definition["tests"][0]
    assert case == {"name": "case 1", "input": {"who": "ada"},
                    "expect": {"status": "succeeded", "result": {"text": "hi ada"}}}

    page.get_by_role("link", name="Back to editing").click()
    side = page.get_by_role("complementary", name="Details")
    side.get_by_role("tab", name="Tests").click()
    expect(side.locator("[data-test-case='case 1']")).to_be_visible()
    side.get_by_role("button", name="Run all").click()
    expect(side.get_by_test_id("tests-summary")).to_have_text("1 passed, 0 failed", timeout=60_000)

    definition = Workflow.objects.get(pk=workflow.pk).definition
    definition["nodes"][1]["params"]["result"]["text"] = "hello {{ input.who }}"
    Workflow.objects.filter(pk=workflow.pk).update(definition=definition)
    open_editor(page, asgi_live_server, workflow.pk)
    side.get_by_role("tab", name="Tests").click()
    side.get_by_role("button", name="Run all").click()
    expect(side.get_by_test_id("tests-summary")).to_have_text("0 passed, 1 failed", timeout=60_000)
    failure = side.locator("[data-failure-path='result.text']")
    expect(failure).to_contain_text('"hi ada"')
    expect(failure).to_contain_text('"hello ada"')
    screenshot(page, "debugging-test-failure")
