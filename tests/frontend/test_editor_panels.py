"""The editor's side panel, ports, clipboard, autosave and trigger details, in a real browser."""

import re

import pytest
from playwright.sync_api import expect

from tests.frontend.conftest import screenshot
from tests.frontend.editor import canvas_node, connect, expect_edges, open_editor, sign_in
from workflows import services
from workflows.models import Workflow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def make(owner, nodes, edges=()):
    workflow, _ = services.create_workflow(owner, "Panels", {
        "api_version": "nodeflow/v1", "name": "Panels", "nodes": nodes, "edges": list(edges),
    })
    return workflow


def stored(workflow):
    return Workflow.objects.get(pk=workflow.pk).definition


def side(page):
    return page.locator(".nf-side")


def test_forms_follow_the_catalog_and_ports_follow_the_params(page, live_server, alice):
    workflow = make(alice, [
        {"id": "start", "type": "trigger.manual", "position": [0, 0]},
        {"id": "fetch", "type": "http.request", "position": [300, 0], "params": {"url": "https://example.com"}},
        {"id": "route", "type": "logic.switch", "position": [600, 0], "params": {"cases": []}},
        {"id": "score", "type": "code.python", "position": [900, -120], "params": {"code": "def run(ctx):\n    return {'score': 1}\n"}},
        {"id": "done", "type": "flow.terminal", "position": [900, 120]},
    ], [{"from": "start", "to": "fetch"}, {"from": "fetch", "to": "route"}])
    sign_in(page, live_server)
    open_editor(page, live_server, workflow.pk)

    # Python code gets a code editor with Python highlighting.
    canvas_node(page, "score").click()
    editor = side(page).locator(".cm-editor")
    expect(editor).to_be_visible()
    expect(editor.locator(".cm-content")).to_contain_text("def run(ctx):")
    keyword = editor.locator(".cm-line span", has_text=re.compile(r"^def$"))
    expect(keyword).to_have_count(1)
    assert keyword.evaluate("(el) => getComputedStyle(el).color") != editor.locator(".cm-content").evaluate("(el) => getComputedStyle(el).color")

    # A switch gets a port per case; renaming a case takes its connection along.
    canvas_node(page, "route").click()
    side(page).get_by_role("button", name="Add", exact=True).click()
    expect(canvas_node(page, "route").locator("[data-port]")).to_have_text(["case_1", "default"])
    connect(page, "route", "score", port="case_1")
    connect(page, "route", "done", port="default")
    expect_edges(page, ["start.main->fetch", "fetch.main->route", "route.case_1->score", "route.default->done"])
    name = side(page).get_by_label("Name", exact=True)
    name.fill("big")
    expect(canvas_node(page, "route").locator("[data-port]")).to_have_text(["big", "default"])
    expect_edges(page, ["start.main->fetch", "fetch.main->route", "route.big->score", "route.default->done"])
    side(page).get_by_role("tab", name="JsonLogic").click()  # the raw tab of the condition builder
    condition = side(page).get_by_label("JsonLogic", exact=True)
    condition.fill('{">": [{"var": "nodes.fetch.output.status"}, 299]}')
    condition.fill('{">": [{"var": "nodes.fetch.output.status"')
    expect(side(page).locator(".nf-field-error")).to_contain_text("Not JSON yet")
    condition.fill('{">": [{"var": "nodes.fetch.output.status"}, 299]}')
    expect(side(page).locator(".nf-field-error")).to_have_count(0)

    # Expressions: the terminal is offered its upstream nodes, never others.
    canvas_node(page, "done").click()
    result = side(page).get_by_label("Result")
    result.fill("{{ nodes.")
    options = page.get_by_role("option")
    expect(options.first).to_be_visible()
    offered = options.all_inner_texts()
    assert "nodes.fetch.output" in offered and "nodes.route.output" in offered
    assert "nodes.fetch.output.status" in offered  # the HTTP node's documented output
    assert not any(path.startswith("nodes.score") or path.startswith("nodes.done") for path in offered)
    result.press("Escape")
    result.fill("{{ nodes.fetch.output.body }}")

    # Node settings: on_error "route" gives the node an error port.
    canvas_node(page, "fetch").click()
    side(page).get_by_role("tab", name="Settings").click()
    side(page).get_by_label("On error").select_option("route")
    expect(canvas_node(page, "fetch").locator("[data-port]")).to_have_text(["main", "error"])
    side(page).get_by_label("Attempts (including the first)").fill("3")
    screenshot(page, "editor-switch-and-settings")

    page.keyboard.press("Control+s")
    expect(page.locator(".nf-save-state")).to_have_attribute("data-state", "saved")
    document = stored(workflow)
    nodes = {node["id"]: node for node in document["nodes"]}
    assert nodes["route"]["params"]["cases"] == [{"name": "big", "condition": {">": [{"var": "nodes.fetch.output.status"}, 299]}}]
    assert {"from": "route", "to": "score", "port": "big"} in document["edges"]
    assert nodes["done"]["params"] == {"result": "{{ nodes.fetch.output.body }}"}
    assert nodes["fetch"]["on_error"] == "route" and nodes["fetch"]["retry"] == {"max_attempts": 3}


def test_webhook_and_schedule_nodes_show_their_urls_and_next_runs(page, live_server, alice):
    workflow = make(alice, [
        {"id": "hook", "type": "trigger.webhook", "position": [0, 0]},
        {"id": "tick", "type": "trigger.schedule", "position": [0, 200], "params": {"every": 5, "unit": "minutes"}},
        {"id": "done", "type": "flow.terminal", "position": [300, 100]},
    ], [{"from": "hook", "to": "done"}, {"from": "tick", "to": "done"}])
    services.publish_workflow(workflow, alice)
    sign_in(page, live_server)
    open_editor(page, live_server, workflow.pk)

    canvas_node(page, "hook").click()
    production = side(page).locator(".nf-url", has_text="Production URL").locator("code")
    expect(production).to_have_text(re.compile(re.escape(live_server.url) + r"/hooks/[A-Za-z0-9_-]{20,}$"))
    expect(side(page).locator(".nf-url", has_text="Test URL").locator("code")).to_have_text(re.compile(r"/hooks/test/"))
    side(page).get_by_role("button", name="Copy the production url").click()
    expect(page.locator(".nf-toast")).to_contain_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == production.inner_text()

    canvas_node(page, "tick").click()
    runs = side(page).locator(".nf-next-runs li")
    expect(runs.first).to_be_visible()
    assert runs.count() >= 3
    screenshot(page, "editor-schedule")


def test_copy_paste_duplicate_autosave_and_the_leave_warning(page, live_server, alice):
    workflow = make(alice, [
        {"id": "start", "type": "trigger.manual", "position": [0, 0]},
        {"id": "fetch", "type": "http.request", "position": [300, 0], "params": {"url": "https://example.com"}},
    ], [{"from": "start", "to": "fetch"}])
    sign_in(page, live_server)
    open_editor(page, live_server, workflow.pk)

    canvas_node(page, "fetch").click()
    page.keyboard.press("Control+c")
    page.keyboard.press("Control+v")
    expect(canvas_node(page, "fetch_2")).to_be_visible()
    page.keyboard.press("Control+d")
    expect(canvas_node(page, "fetch_3")).to_be_visible()
    expect(page.locator(".react-flow__node")).to_have_count(4)

    # A palette click adds a node too; the draft saves itself after a pause in editing.
    page.locator('.nf-palette [data-node-type="flow.noop"]').click()
    expect(canvas_node(page, "flow_noop")).to_be_visible()
    expect(page.locator(".nf-save-state")).to_have_attribute("data-state", "dirty")
    expect(page.locator(".nf-save-state")).to_have_attribute("data-state", "saved", timeout=10_000)
    ids = [node["id"] for node in stored(workflow)["nodes"]]
    assert ids == ["start", "fetch", "fetch_2", "fetch_3", "flow_noop"]
    assert stored(workflow)["nodes"][2]["params"] == {"url": "https://example.com"}

    # Going back to the list saves what was not saved yet.
    page.get_by_label("Workflow name").fill("Panels, renamed")
    page.get_by_role("link", name="Back to workflows").click()
    expect(page.get_by_role("link", name="Panels, renamed", exact=True)).to_be_visible()
    assert Workflow.objects.get(pk=workflow.pk).name == "Panels, renamed"
    page.get_by_role("link", name="Panels, renamed", exact=True).click()
    expect(canvas_node(page, "flow_noop")).to_be_visible()

    # Leaving the page with unsaved changes: the browser asks first.
    page.get_by_label("Workflow name").fill("Renamed but not saved")
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.type), dialog.dismiss()))
    with page.expect_event("dialog"):
        page.close(run_before_unload=True)
    assert dialogs == ["beforeunload"]


def test_dragging_a_node_moves_it_and_undo_puts_it_back(page, live_server, alice):
    workflow = make(alice, [{"id": "start", "type": "trigger.manual", "position": [0, 0]}])
    sign_in(page, live_server)
    open_editor(page, live_server, workflow.pk)
    box = canvas_node(page, "start").bounding_box()
    page.mouse.move(box["x"] + 60, box["y"] + 20)
    page.mouse.down()
    page.mouse.move(box["x"] + 160, box["y"] + 120, steps=12)
    page.mouse.up()
    page.keyboard.press("Control+s")
    expect(page.locator(".nf-save-state")).to_have_attribute("data-state", "saved")
    moved = stored(workflow)["nodes"][0]["position"]
    assert moved != [0, 0]
    page.keyboard.press("Control+z")  # the whole drag is one step
    page.keyboard.press("Control+s")
    expect(page.locator(".nf-save-state")).to_have_attribute("data-state", "saved")
    assert stored(workflow)["nodes"][0]["position"] == [0, 0]
