"""Groups and loops in the editor and the run view (issue 18): a body drawn as a frame that
collapses, the palette and the side panel working inside it, problems shown on the inner node;
a foreach built on the canvas, run on a real worker, its progress watched live, an iteration
opened as a run of its own with a breadcrumb back to its parent."""

import json
import re

import pytest
from playwright.sync_api import expect

from tests.frontend.conftest import screenshot
from tests.frontend.editor import (
    canvas_node,
    connect,
    drag_from_palette,
    expect_edges,
    open_editor,
    save_state,
    sign_in,
    start_run,
)
from executions.models import Execution
from workflows.models import Workflow
from workflows.services import with_node_versions

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def loop_document():
    """A manual trigger, a foreach whose body starts at an inner `start` (the outer one's id) and doubles the item."""
    body = {
        "nodes": [
            {"id": "start", "type": "trigger.group", "name": "Each item", "position": [30, 70]},
            {"id": "double", "type": "test.sleep", "name": "Double", "position": [330, 70],
             "params": {"seconds": 0, "output": "{{ input.item }}"}},
        ],
        "edges": [{"from": "start", "to": "double"}],
    }
    return with_node_versions({
        "api_version": "nodeflow/v1",
        "name": "Loop",
        "nodes": [
            {"id": "start", "type": "trigger.manual", "position": [0, 120]},
            {"id": "loop", "type": "flow.foreach", "name": "Every item", "position": [300, 40],
             "params": {"items": "{{ input.items }}", "concurrency": 2, "graph": body}},
            {"id": "done", "type": "flow.terminal", "position": [1100, 120], "params": {"result": "{{ nodes.loop.output }}"}},
        ],
        "edges": [{"from": "start", "to": "loop"}, {"from": "loop", "to": "done"}],
    })


def stored_body(workflow):
    workflow.refresh_from_db()
    loop = next(node for node in workflow.definition["nodes"] if node["id"] == "loop")
    return loop["params"]["graph"]


def wait_saved(page):
    expect(page.locator(".nf-save-state")).to_have_attribute("data-state", "saved", timeout=10_000)


def inside(inner, outer):
    return (outer["x"] <= inner["x"] and inner["x"] + inner["width"] <= outer["x"] + outer["width"]
            and outer["y"] <= inner["y"] and inner["y"] + inner["height"] <= outer["y"] + outer["height"])


def test_a_body_is_a_frame_that_collapses_and_is_edited_in_place(page, live_server, alice):
    workflow = Workflow.objects.create(owner=alice, name="Loop", definition=loop_document())
    sign_in(page, live_server)
    open_editor(page, live_server, workflow.pk)

    # The body is drawn inside the loop's frame; its start is not the outer start.
    frame = canvas_node(page, "loop")
    expect(frame.locator("[data-frame]")).to_have_attribute("data-collapsed", "false")
    for inner in ("loop/start", "loop/double"):
        expect(canvas_node(page, inner)).to_be_visible()
        assert inside(canvas_node(page, inner).bounding_box(), frame.bounding_box())
    expect(canvas_node(page, "loop/start")).to_contain_text("Each item")
    expect(canvas_node(page, "start")).not_to_contain_text("Each item")
    expect_edges(page, ["start.main->loop", "loop.main->done", "@loop|start.main->double"])

    # A node dropped from the palette onto the frame goes into the body; it connects there.
    box = frame.bounding_box()
    pane = page.locator(".react-flow__pane").bounding_box()
    drag_from_palette(page, "flow.noop", box["x"] - pane["x"] + box["width"] * 0.3, box["y"] - pane["y"] + box["height"] - 12)
    added = canvas_node(page, "loop/flow_noop")
    expect(added).to_be_visible()
    assert inside(added.bounding_box(), frame.bounding_box())
    connect(page, "loop/double", "loop/flow_noop")
    expect_edges(page, ["start.main->loop", "loop.main->done", "@loop|start.main->double", "@loop|double.main->flow_noop"])
    wait_saved(page)
    body = stored_body(workflow)
    assert [node["id"] for node in body["nodes"]] == ["start", "double", "flow_noop"]
    assert body["edges"] == [{"from": "start", "to": "double"}, {"from": "double", "to": "flow_noop"}]
    assert [node["id"] for node in workflow.definition["nodes"]] == ["start", "loop", "done"]

    # The side panel edits an inner node: its name and params go into the body.
    canvas_node(page, "loop/double").click()
    side = page.get_by_role("complementary", name="Details")
    expect(side.get_by_label("Node name")).to_have_value("Double")
    side.get_by_label("Node name").fill("Twice")
    expect(canvas_node(page, "loop/double")).to_contain_text("Twice")
    wait_saved(page)
    assert next(node for node in stored_body(workflow)["nodes"] if node["id"] == "double")["name"] == "Twice"

    # Ids are the body's own: taken there means taken, and a rename follows its edges inside the body.
    canvas_node(page, "loop/flow_noop").click()
    side.get_by_role("tab", name="Settings").click()
    side.get_by_label("ID").fill("double")
    side.get_by_label("ID").press("Enter")
    expect(side.get_by_role("alert")).to_contain_text("Another node is called double")
    side.get_by_label("ID").fill("tail")
    side.get_by_label("ID").press("Enter")
    expect(canvas_node(page, "loop/tail")).to_be_visible()
    expect(canvas_node(page, "loop/tail")).to_have_class(re.compile("selected"))
    wait_saved(page)
    assert stored_body(workflow)["edges"] == [{"from": "start", "to": "double"}, {"from": "double", "to": "tail"}]

    # Dragged inside the frame, a node moves in the body (relative to the frame) and the frame grows to hold it.
    before = next(node for node in stored_body(workflow)["nodes"] if node["id"] == "tail")["position"]
    frame_width = frame.bounding_box()["width"]
    handle = canvas_node(page, "loop/tail").locator(".nf-node-title")
    start = handle.bounding_box()
    page.mouse.move(start["x"] + 10, start["y"] + 5)
    page.mouse.down()
    page.mouse.move(start["x"] + 60, start["y"] + 5, steps=5)
    page.mouse.move(start["x"] + 250, start["y"] + 5, steps=10)
    page.mouse.up()
    wait_saved(page)
    after = next(node for node in stored_body(workflow)["nodes"] if node["id"] == "tail")["position"]
    assert after[0] > before[0] + 100 and after[1] == before[1]
    expect(frame).not_to_have_css("width", f"{frame_width}px")
    assert inside(canvas_node(page, "loop/tail").bounding_box(), frame.bounding_box())

    # The loop's own form leaves its body to the canvas.
    canvas_node(page, "loop").locator(".nf-frame-head").click()
    expect(side.get_by_test_id("body-hint")).to_be_visible()
    expect(side.get_by_label("Concurrency")).to_have_value("2")
    screenshot(page, "editor-foreach-frame")

    # Collapsed, the frame is a card saying what it holds; expanded again, the body is back where it was.
    canvas_node(page, "loop").locator("[data-frame-toggle=collapse]").click()
    expect(canvas_node(page, "loop/double")).to_have_count(0)
    expect(canvas_node(page, "loop")).to_contain_text("3 nodes inside")
    expect_edges(page, ["start.main->loop", "loop.main->done"])
    screenshot(page, "editor-foreach-collapsed")
    canvas_node(page, "loop").locator("[data-frame-toggle=expand]").click()
    expect(canvas_node(page, "loop/double")).to_be_visible()
    expect_edges(page, ["start.main->loop", "loop.main->done", "@loop|start.main->double", "@loop|double.main->tail"])
    # Nothing of this was an edit: the document is as saved.
    assert save_state(page) == "saved"

    # A click in the palette adds into the selected open frame's body.
    canvas_node(page, "loop").locator(".nf-frame-head").click()
    page.locator('.nf-palette [data-node-type="flow.noop"]').click()
    expect(canvas_node(page, "loop/flow_noop")).to_be_visible()
    assert inside(canvas_node(page, "loop/flow_noop").bounding_box(), frame.bounding_box())
    wait_saved(page)
    assert [node["id"] for node in stored_body(workflow)["nodes"]] == ["start", "double", "tail", "flow_noop"]
    assert [node["id"] for node in workflow.definition["nodes"]] == ["start", "loop", "done"]

    # Delete removes an inner node and its connections from the body only.
    canvas_node(page, "loop/tail").click()
    page.keyboard.press("Delete")
    expect(canvas_node(page, "loop/tail")).to_have_count(0)
    wait_saved(page)
    assert stored_body(workflow)["edges"] == [{"from": "start", "to": "double"}]
    assert [node["id"] for node in workflow.definition["nodes"]] == ["start", "loop", "done"]


def test_a_problem_inside_a_body_shows_on_its_inner_node(page, live_server, alice):
    document = loop_document()
    loop = document["nodes"][1]
    loop["params"]["graph"]["nodes"][1]["params"]["output"] = "{{ nodes.nowhere.output }}"
    workflow = Workflow.objects.create(owner=alice, name="Loop", definition=document)
    sign_in(page, live_server)
    open_editor(page, live_server, workflow.pk)
    problem = canvas_node(page, "loop/double").locator(".nf-node-problem")
    expect(problem).to_contain_text("nowhere", timeout=10_000)
    expect(canvas_node(page, "loop").locator(".nf-frame-problems").first).to_have_text("1")
    for outer in ("start", "done"):
        expect(canvas_node(page, outer).locator(".nf-node-problem")).to_have_count(0)
    # The problems list leads to the inner node.
    page.get_by_test_id("problems").get_by_role("button", name=re.compile("problem")).click()
    expect(page.get_by_test_id("problems").get_by_role("button", name="loop/double")).to_be_visible()


def test_a_foreach_built_on_the_canvas_runs_with_live_progress_and_opens_an_iteration(page, asgi_live_server, alice, celery_worker):
    workflow = Workflow.objects.create(owner=alice, name="Built", definition={"api_version": "nodeflow/v1", "name": "Built", "nodes": [], "edges": []})
    sign_in(page, asgi_live_server)
    open_editor(page, asgi_live_server, workflow.pk)

    # Trigger, then a loop: the loop comes with its body's start node inside its frame.
    drag_from_palette(page, "trigger.manual", 160, 200)
    expect(canvas_node(page, "trigger_manual")).to_be_visible()
    drag_from_palette(page, "flow.foreach", 520, 160)
    frame = canvas_node(page, "flow_foreach")
    expect(frame.locator("[data-frame]")).to_be_visible()
    expect(canvas_node(page, "flow_foreach/start")).to_be_visible()
    connect(page, "trigger_manual", "flow_foreach")

    # The loop's items, from the run's input.
    canvas_node(page, "flow_foreach").locator(".nf-frame-head").click()
    side = page.get_by_role("complementary", name="Details")
    side.get_by_label("Items").fill("{{ input.items }}")
    side.get_by_label("Concurrency").fill("2")

    # The body: a node dropped into the frame, connected to the body's start, its params set in the side panel.
    box = frame.bounding_box()
    pane = page.locator(".react-flow__pane").bounding_box()
    drag_from_palette(page, "test.sleep", box["x"] - pane["x"] + box["width"] * 0.6, box["y"] - pane["y"] + box["height"] - 12)
    sleeper = canvas_node(page, "flow_foreach/test_sleep")
    expect(sleeper).to_be_visible()
    assert inside(sleeper.bounding_box(), frame.bounding_box())
    connect(page, "flow_foreach/start", "flow_foreach/test_sleep")
    expect_edges(page, ["trigger_manual.main->flow_foreach", "@flow_foreach|start.main->test_sleep"])
    sleeper.click()
    side.get_by_label("Seconds").fill("0.6")
    side.get_by_label("Output").fill("{{ input.item }}")
    wait_saved(page)
    body = stored_body_of(workflow, "flow_foreach")
    assert [node["type"] for node in body["nodes"]] == ["trigger.group", "test.sleep"]
    assert body["edges"] == [{"from": "start", "to": "test_sleep"}]
    screenshot(page, "editor-foreach-built")

    # Run it over six items: the frame shows the loop's progress live, up to six done.
    execution_id = start_run(page, json.dumps({"items": [1, 2, 3, 4, 5, 6]}))
    progress = canvas_node(page, "flow_foreach").locator("[data-progress]")
    expect(progress).to_be_visible(timeout=30_000)
    expect(progress).to_have_attribute("data-running", re.compile("[12]"), timeout=30_000)
    screenshot(page, "execution-foreach-progress")
    expect(progress).to_have_attribute("data-succeeded", "6", timeout=60_000)
    expect(progress).to_contain_text("6 / 6 done")
    expect(canvas_node(page, "flow_foreach").locator("[data-run-state]").first).to_have_text("completed", timeout=30_000)
    execution = Execution.objects.get(pk=execution_id)
    assert execution.children.count() == 6

    # The inspector lists the iterations in order; one opens as a run of its own.
    canvas_node(page, "flow_foreach").locator(".nf-frame-head").click()
    inspector = page.get_by_role("complementary", name="Run details")
    iterations = inspector.get_by_test_id("iterations")
    expect(iterations.locator("tr[data-iteration]")).to_have_count(6)
    assert iterations.locator("tr[data-iteration]").evaluate_all("rows => rows.map((row) => row.dataset.iteration)") == ["0", "1", "2", "3", "4", "5"]
    iterations.get_by_label("Show iterations").select_option("failed")
    expect(iterations).to_contain_text("No failed iteration.")
    iterations.get_by_label("Show iterations").select_option("succeeded")
    expect(iterations.locator("tr[data-iteration]")).to_have_count(6)
    screenshot(page, "execution-foreach-iterations")
    child = execution.children.get(parent_index=2)
    iterations.locator('tr[data-iteration="2"]').get_by_role("link", name="Open run").click()
    expect(page).to_have_url(re.compile(f"/executions/{child.pk}$"))

    # The child run: its own nodes, their output, and the way back to the parent and its node.
    expect(canvas_node(page, "test_sleep").locator("[data-run-state]")).to_have_text("completed", timeout=20_000)
    breadcrumb = page.get_by_test_id("breadcrumb")
    expect(breadcrumb).to_contain_text("node flow_foreach")
    expect(breadcrumb).to_contain_text("iteration 2")
    assert child.node_runs.get(node_id="test_sleep").output["output"] == 3
    inspector.get_by_role("button", name=re.compile("test_sleep")).click()
    expect(inspector.get_by_test_id("node-run-status")).to_have_text("completed")
    expect(inspector.get_by_role("tabpanel")).to_contain_text(re.compile(r"output:\s*3"))
    screenshot(page, "execution-foreach-iteration")
    breadcrumb.locator("[data-crumb=node]").click()
    expect(page).to_have_url(re.compile(f"/executions/{execution_id}#node=flow_foreach$"))
    expect(inspector.get_by_test_id("iterations")).to_be_visible()


def stored_body_of(workflow, node_id):
    workflow.refresh_from_db()
    return next(node for node in workflow.definition["nodes"] if node["id"] == node_id)["params"]["graph"]


SQUARE = """def run(ctx):
    return ctx["input"]["n"] ** 2
"""


def test_a_sub_workflow_is_picked_from_the_users_workflows_and_its_child_run_opens(page, asgi_live_server, alice, bob, celery_worker):
    callee = Workflow.objects.create(owner=alice, name="Square it", definition=with_node_versions({
        "api_version": "nodeflow/v1", "name": "Square it",
        "nodes": [{"id": "start", "type": "trigger.manual", "position": [0, 100]},
                  {"id": "square", "type": "code.python", "position": [300, 100], "params": {"code": SQUARE}},
                  {"id": "done", "type": "flow.terminal", "position": [600, 100], "params": {"result": "{{ nodes.square.output }}"}}],
        "edges": [{"from": "start", "to": "square"}, {"from": "square", "to": "done"}],
    }))
    Workflow.objects.create(owner=bob, name="Bob's own", definition={"api_version": "nodeflow/v1", "name": "Bob's own", "nodes": [], "edges": []})
    caller = Workflow.objects.create(owner=alice, name="Caller", definition=with_node_versions({
        "api_version": "nodeflow/v1", "name": "Caller",
        "nodes": [{"id": "start", "type": "trigger.manual", "position": [0, 100]},
                  {"id": "call", "type": "flow.subworkflow", "name": "Square seven", "position": [300, 100], "params": {"input": {"n": 7}}},
                  {"id": "done", "type": "flow.terminal", "position": [600, 100], "params": {"result": "{{ nodes.call.output }}"}}],
        "edges": [{"from": "start", "to": "call"}, {"from": "call", "to": "done"}],
    }))
    sign_in(page, asgi_live_server)
    open_editor(page, asgi_live_server, caller.pk)

    # The workflow comes from the user's own workflows (not another user's), the version from a list; a link opens it.
    canvas_node(page, "call").click()
    side = page.get_by_role("complementary", name="Details")
    picker = side.get_by_label("Workflow to call")
    expect(picker.locator("option", has_text="Square it")).to_have_count(1)
    expect(picker.locator("option", has_text="Bob's own")).to_have_count(0)
    expect(picker.locator("option", has_text="Caller (this workflow)")).to_have_count(1)
    picker.select_option(label="Square it")
    side.get_by_label("Version to call").select_option("draft")
    expect(side.get_by_test_id("subworkflow-link")).to_have_attribute("href", re.compile(f"/workflows/{callee.pk}$"))
    wait_saved(page)
    caller.refresh_from_db()
    call = next(node for node in caller.definition["nodes"] if node["id"] == "call")
    assert call["params"] == {"input": {"n": 7}, "workflow": str(callee.pk), "version": "draft"}
    screenshot(page, "editor-subworkflow-picker")

    # Run: the sub-workflow's result flows on; its node opens the child run, which leads back.
    execution_id = start_run(page, "{}")
    run_bar = page.get_by_role("status", name="Execution")
    expect(run_bar).to_contain_text("succeeded", ignore_case=True, timeout=60_000)
    assert Execution.objects.get(pk=execution_id).result == 49
    canvas_node(page, "call").click()
    inspector = page.get_by_role("complementary", name="Run details")
    child = Execution.objects.get(parent_id=execution_id)
    inspector.get_by_test_id("child-run").get_by_role("link", name="Open the child run").click()
    expect(page).to_have_url(re.compile(f"/workflows/{callee.pk}/executions/{child.pk}$"))
    expect(canvas_node(page, "square").locator("[data-run-state]")).to_have_text("completed", timeout=20_000)
    breadcrumb = page.get_by_test_id("breadcrumb")
    expect(breadcrumb).to_contain_text("node call")
    expect(breadcrumb).not_to_contain_text("iteration")
    breadcrumb.locator("[data-crumb=run]").click()
    expect(page).to_have_url(re.compile(f"/workflows/{caller.pk}/executions/{execution_id}$"))


NO_TENS = """def run(ctx):
    item = ctx["input"]["item"]
    if item % 10 == 0:
        raise ValueError(f"no tens: {item}")
    return item
"""


def test_a_loops_iterations_are_paged_and_filtered_by_status(page, asgi_live_server, alice, celery_worker):
    document = loop_document()
    loop = document["nodes"][1]
    loop["params"].update(concurrency=5, on_item_error="continue")
    loop["params"]["graph"]["nodes"][1] = {"id": "double", "type": "code.python", "position": [330, 70], "params": {"code": NO_TENS}}
    workflow = Workflow.objects.create(owner=alice, name="Tens", definition=with_node_versions(document))
    sign_in(page, asgi_live_server)
    open_editor(page, asgi_live_server, workflow.pk)
    execution_id = start_run(page, json.dumps({"items": list(range(1, 46))}))

    progress = canvas_node(page, "loop").locator("[data-progress]")
    expect(progress).to_have_attribute("data-succeeded", "41", timeout=120_000)
    expect(progress).to_have_attribute("data-failed", "4")
    expect(progress).to_contain_text("45 / 45 done · 4 failed")
    expect(page.get_by_role("status", name="Execution")).to_contain_text("succeeded", ignore_case=True, timeout=30_000)
    assert Execution.objects.get(pk=execution_id).result == [item for item in range(1, 46) if item % 10]

    canvas_node(page, "loop").locator(".nf-frame-head").click()
    iterations = page.get_by_role("complementary", name="Run details").get_by_test_id("iterations")
    rows = iterations.locator("tr[data-iteration]")
    expect(rows).to_have_count(20)
    expect(iterations.get_by_test_id("iterations-page")).to_have_text("1–20 of 45")
    iterations.get_by_role("button", name="Next").click()
    expect(iterations.get_by_test_id("iterations-page")).to_have_text("21–40 of 45")
    expect(rows.first).to_have_attribute("data-iteration", "20")
    iterations.get_by_role("button", name="Next").click()
    expect(rows).to_have_count(5)
    expect(iterations.get_by_role("button", name="Next")).to_be_disabled()

    iterations.get_by_label("Show iterations").select_option("failed")
    expect(rows).to_have_count(4)
    assert rows.evaluate_all("rows => rows.map((row) => row.dataset.iteration)") == ["9", "19", "29", "39"]
    expect(iterations.get_by_test_id("iterations-page")).to_have_count(0)
    iterations.scroll_into_view_if_needed()
    screenshot(page, "execution-foreach-failed-iterations")
    rows.nth(1).get_by_role("link", name="Open run").click()
    expect(canvas_node(page, "double").locator("[data-run-state]")).to_have_text("failed", timeout=20_000)
    expect(page.get_by_test_id("breadcrumb")).to_contain_text("iteration 19")
