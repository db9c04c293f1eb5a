"""Running a workflow from the editor and watching it on the canvas, against a real Celery worker.

Most tests use the ASGI server (`asgi_live_server`), so the page watches over its WebSocket as in
production; one uses pytest-django's WSGI `live_server`, where the socket is refused and the page
falls back to polling the REST API."""

import pytest
from playwright.sync_api import expect

from tests.frontend.conftest import screenshot
from tests.frontend.editor import canvas_node, fill_run_dialog, open_editor, sign_in, start_run
from workflows.models import Workflow
from workflows.services import with_node_versions

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# pytest-django's live test server speaks WSGI only: the page's WebSocket is refused and it polls instead.
WEBSOCKET_REFUSED = ("WebSocket",)

CODE = """def run(ctx):
    print("hello", ctx["input"]["who"])
    return {"greeting": "hi " + ctx["input"]["who"]}
"""


def fan_out_workflow(owner, url="http://127.0.0.1:9/users"):
    document = with_node_versions({"api_version": "nodeflow/v1", "name": "Greeter", "nodes": [
        {"id": "start", "type": "trigger.manual", "position": [0, 200]},
        {"id": "greet", "type": "code.python", "params": {"code": CODE}, "position": [320, 200]},
        {"id": "a", "type": "data.set", "params": {"vars": {"a": 1}}, "position": [640, 40]},
        {"id": "b", "type": "http.request", "params": {"url": url + "?who={{ input.who }}"}, "position": [640, 200]},
        {"id": "c", "type": "data.set", "params": {"vars": {"c": 3}}, "position": [640, 360]},
        {"id": "done", "type": "flow.terminal", "params": {"result": "{{ nodes.greet.output }}"}, "position": [960, 200]}],
        "edges": [{"from": "start", "to": "greet"}, {"from": "greet", "to": "a"}, {"from": "greet", "to": "b"},
                  {"from": "greet", "to": "c"}, {"from": "a", "to": "done"}, {"from": "b", "to": "done"},
                  {"from": "c", "to": "done"}]})
    return Workflow.objects.create(owner=owner, name="Greeter", definition=document)


def test_run_from_the_editor_and_watch_every_node_complete(page, asgi_live_server, alice, celery_worker, httpserver):
    live_server = asgi_live_server
    httpserver.expect_request("/users", query_string="who=ada").respond_with_json({"name": "Ada Lovelace"})
    workflow = fan_out_workflow(alice, httpserver.url_for("/users"))
    sign_in(page, live_server)
    open_editor(page, live_server, workflow.pk)
    start_run(page, '{"who": "ada"}')

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

    # The run panel lists the node runs, draws their timeline and gathers their logs.
    panel = page.get_by_role("complementary", name="Run details")
    expect(page.get_by_role("list", name="Node runs in order").get_by_role("listitem")).to_have_count(6)
    panel.get_by_role("tab", name="Timeline").click()
    expect(page.get_by_role("list", name="Timeline").get_by_role("listitem")).to_have_count(6)
    screenshot(page, "execution-timeline")
    panel.get_by_role("tab", name="Logs").click()
    expect(page.get_by_role("list", name="All logs")).to_contain_text("hello ada")
    page.get_by_label("Logs of node").select_option("greet")
    expect(page.get_by_role("list", name="All logs").get_by_role("listitem")).to_have_count(1)
    screenshot(page, "execution-run-panel")
    panel.get_by_role("tab", name="Result").click()
    expect(panel.get_by_label("Run result", exact=True)).to_contain_text("hi ada")
    expect(panel.get_by_label("Run input", exact=True)).to_contain_text("ada")
    canvas_node(page, "greet").click()
    inspector = page.get_by_role("complementary", name="Run details")
    expect(inspector.get_by_role("heading", name="greet")).to_be_visible()
    expect(inspector.get_by_role("tabpanel")).to_contain_text("hi ada")  # output
    inspector.get_by_role("tab", name="Input").click()
    expect(inspector.get_by_role("tabpanel")).to_contain_text("def run(ctx)")
    inspector.get_by_role("tab", name="Logs (1)").click()
    expect(inspector.get_by_role("list", name="Logs")).to_contain_text("hello ada")
    inspector.get_by_role("tab", name="Context after").click()
    inspector.get_by_role("searchbox", name="Search Context after").fill("hi ada")
    expect(inspector.get_by_role("tabpanel")).to_contain_text("greeting")
    inspector.get_by_role("tab", name="Changes").click()
    inspector.get_by_role("searchbox", name="Search Changes (JSON Patch)").fill("greet")
    expect(inspector.get_by_role("tabpanel")).to_contain_text("/nodes/greet")
    inspector.get_by_role("tab", name="Output").click()
    inspector.get_by_role("searchbox", name="Search Output").fill("greet")
    inspector.get_by_role("button", name="Copy path nodes.greet.output.greeting").click()
    assert page.evaluate("navigator.clipboard.readText()") == "nodes.greet.output.greeting"
    # The "Copied" toast shows below the run bar, not on it.
    toast = page.locator(".nf-toast", has_text="Copied nodes.greet.output.greeting")
    expect(toast).to_be_visible()
    assert not overlaps(toast.bounding_box(), page.get_by_role("status", name="Execution").bounding_box())
    screenshot(page, "execution-node-inspector")

    canvas_node(page, "b").click()  # the HTTP request, against the local test server
    expect(inspector.get_by_role("heading", name="b")).to_be_visible()
    expect(inspector.get_by_role("tabpanel")).to_contain_text("Ada Lovelace")


def overlaps(a, b):
    return a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"] and a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"]


def one_node_workflow(owner, node, name="One node"):
    document = with_node_versions({"api_version": "nodeflow/v1", "name": name, "nodes": [
        {"id": "start", "type": "trigger.manual", "position": [0, 100]},
        {**node, "position": [320, 100]},
        {"id": "done", "type": "flow.terminal", "params": {"result": "ok"}, "position": [640, 100]}],
        "edges": [{"from": "start", "to": node["id"]}, {"from": node["id"], "to": "done"}]})
    return Workflow.objects.create(owner=owner, name=name, definition=document)


def run_from_editor(page, live_server, workflow, text="{}"):
    open_editor(page, live_server, workflow.pk)
    start_run(page, text)


FAILING = """def run(ctx):
    if not ctx["input"].get("fixed"):
        raise ValueError("the flux capacitor is empty")
    return 1
"""


def test_a_failing_node_shows_its_error_and_traceback_and_the_run_can_be_retried(page, asgi_live_server, alice, celery_worker):
    live_server = asgi_live_server
    workflow = one_node_workflow(alice, {"id": "boom", "type": "code.python", "params": {"code": FAILING}})
    sign_in(page, live_server)
    run_from_editor(page, live_server, workflow)
    expect(page.get_by_test_id("execution-status")).to_have_text("failed", timeout=60_000)
    expect(canvas_node(page, "boom").locator("[data-run-state]")).to_have_text("failed")
    expect(page.get_by_role("status", name="Execution")).to_contain_text("flux capacitor")
    canvas_node(page, "boom").click()
    inspector = page.get_by_role("complementary", name="Run details")
    expect(inspector.get_by_role("tab", name="Error")).to_have_attribute("aria-selected", "true")
    expect(inspector.locator(".nf-run-error")).to_contain_text("the flux capacitor is empty")
    expect(inspector.locator(".nf-traceback")).to_contain_text("ValueError")
    screenshot(page, "execution-failed-node")

    page.get_by_role("status", name="Execution").get_by_role("button", name="Retry").click()
    expect(page.get_by_text("Retry: requested.")).to_be_visible()
    # The retry may fail again (same input) faster than the page looks: check the run itself.
    import time

    from executions.models import Execution

    deadline = time.monotonic() + 60
    while True:
        execution = Execution.objects.get(workflow=workflow)
        run = execution.node_runs.get(node_id="boom")
        if execution.status == "failed" and (run.attempt >= 2 or len(run.attempts) >= 1):
            break
        assert time.monotonic() < deadline, (execution.status, run.attempt, run.attempts)
        time.sleep(0.1)
    expect(page.get_by_test_id("execution-status")).to_have_text("failed", timeout=30_000)


def test_without_websockets_the_page_polls_and_a_long_run_is_cancelled_from_the_run_bar(page, live_server, alice, celery_worker):
    page.allowed_errors = WEBSOCKET_REFUSED
    workflow = one_node_workflow(alice, {"id": "nap", "type": "flow.wait", "params": {"seconds": 120}})
    sign_in(page, live_server)
    run_from_editor(page, live_server, workflow)
    expect(canvas_node(page, "nap").locator("[data-run-state]")).to_have_text("waiting", timeout=30_000)
    run_bar = page.get_by_role("status", name="Execution")
    expect(run_bar).to_have_attribute("data-transport", "polling")
    expect(run_bar.locator(".nf-run-transport")).to_have_text("polling")
    page.get_by_role("status", name="Execution").get_by_role("button", name="Cancel").click()
    expect(page.get_by_test_id("execution-status")).to_have_text("cancelled", timeout=30_000)
    expect(page.get_by_role("status", name="Execution").get_by_role("button", name="Retry")).to_be_visible()
    screenshot(page, "execution-cancelled")


def test_a_waiting_node_gets_its_input_from_the_inspector(page, asgi_live_server, alice, celery_worker):
    live_server = asgi_live_server
    workflow = one_node_workflow(alice, {"id": "ask", "type": "flow.wait", "params": {"input": {}}})
    sign_in(page, live_server)
    run_from_editor(page, live_server, workflow)
    expect(canvas_node(page, "ask").locator("[data-run-state]")).to_have_text("waiting", timeout=30_000)
    canvas_node(page, "ask").click()
    inspector = page.get_by_role("complementary", name="Run details")
    inspector.get_by_label("This node waits for input (JSON)").fill('{"approved": true}')
    inspector.get_by_role("button", name="Send input").click()
    expect(page.get_by_test_id("execution-status")).to_have_text("succeeded", timeout=30_000)
    expect(canvas_node(page, "ask").locator("[data-run-state]")).to_have_text("completed")


def test_a_bad_input_is_refused_in_the_dialog(page, live_server, alice):
    workflow = fan_out_workflow(alice)
    sign_in(page, live_server)
    open_editor(page, live_server, workflow.pk)
    dialog = fill_run_dialog(page, "{nope")
    dialog.get_by_role("button", name="Run", exact=True).click()
    expect(dialog.get_by_role("alert")).to_contain_text("not valid JSON")


def test_the_executions_lists_filter_open_and_retry(page, asgi_live_server, alice, celery_worker):
    live_server = asgi_live_server
    from executions import starting
    from executions.tasks import dispatcher
    from tests.conftest import wait_for_execution

    good = one_node_workflow(alice, {"id": "ok", "type": "data.set", "params": {"vars": {"x": 1}}}, name="Good")
    bad = one_node_workflow(alice, {"id": "boom", "type": "code.python", "params": {"code": FAILING}}, name="Bad")
    for workflow in (good, bad):
        execution = starting.start_execution(workflow.definition, dispatcher=dispatcher, owner=alice, workflow=workflow)
        wait_for_execution(execution.pk, timeout=60)

    sign_in(page, live_server)
    page.get_by_role("link", name="All executions").click()
    table = page.get_by_role("table", name="Executions")
    expect(table.locator("tbody tr")).to_have_count(2)
    page.get_by_label("Status").select_option("failed")
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table).to_contain_text("Bad")
    screenshot(page, "executions-list")
    table.get_by_role("button", name="Retry").click()
    expect(page.get_by_text("Retry: requested.")).to_be_visible()

    # A workflow's own list, from the editor; a row opens the run on the canvas.
    open_editor(page, live_server, good.pk)
    page.get_by_role("link", name="Executions").click()
    expect(page.get_by_role("heading", name="Executions of Good")).to_be_visible()
    page.get_by_role("link", name="Open run").click()
    expect(page.get_by_test_id("execution-status")).to_have_text("succeeded")
    expect(canvas_node(page, "ok").locator("[data-run-state]")).to_have_text("completed")


def test_the_executions_list_pages_through_more_than_a_page(page, live_server, alice):
    from executions.models import Definition, Execution

    workflow = one_node_workflow(alice, {"id": "ok", "type": "data.set", "params": {"vars": {"x": 1}}}, name="Busy")
    definition = Definition.store(workflow.definition)
    created = Execution.objects.bulk_create(
        Execution(workflow=workflow, owner=alice, definition=definition, status="failed" if index % 10 == 0 else "succeeded",
                  input={"n": index})
        for index in range(230))
    # One creation time each, as runs started one after another have (the list orders by it alone).
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    for index, execution in enumerate(created):
        Execution.objects.filter(pk=execution.pk).update(created_at=now - timedelta(seconds=index))
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/workflows/{workflow.pk}/executions")
    table = page.get_by_role("table", name="Executions")
    pages = page.get_by_role("navigation", name="Pages")
    expect(table.locator("tbody tr")).to_have_count(100)
    expect(pages.get_by_test_id("page-range")).to_have_text("1–100 of 230")
    expect(pages.get_by_role("button", name="Newer")).to_be_disabled()
    seen = set(table.locator("tbody tr").evaluate_all("rows => rows.map((row) => row.dataset.executionId)"))
    pages.get_by_role("button", name="Older").click()
    expect(pages.get_by_test_id("page-range")).to_have_text("101–200 of 230")
    seen |= set(table.locator("tbody tr").evaluate_all("rows => rows.map((row) => row.dataset.executionId)"))
    pages.get_by_role("button", name="Older").click()
    expect(pages.get_by_test_id("page-range")).to_have_text("201–230 of 230")
    expect(table.locator("tbody tr")).to_have_count(30)
    expect(pages.get_by_role("button", name="Older")).to_be_disabled()
    seen |= set(table.locator("tbody tr").evaluate_all("rows => rows.map((row) => row.dataset.executionId)"))
    assert seen == {str(pk) for pk in Execution.objects.values_list("pk", flat=True)}
    screenshot(page, "executions-list-paged")

    # A filter starts from its first page; 23 failed runs fit on one, so there is nothing to page.
    page.get_by_label("Status").select_option("failed")
    expect(table.locator("tbody tr")).to_have_count(23)
    expect(pages).to_have_count(0)
    pages_back = page.get_by_label("Status")
    pages_back.select_option("")
    expect(pages.get_by_test_id("page-range")).to_have_text("1–100 of 230")
