"""Names instead of ids (issue 25, item 7 of the list), where a person reads a node: the run panel's
list, the inspector's title (the id beside it, copyable), the timeline, the logs (with their time), the
problem list — and problem messages without document paths (item 11)."""

import re

import pytest
from playwright.sync_api import expect

from tests.frontend.editor import canvas_node, open_editor, sign_in, start_run
from workflows import services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SAY = 'def run(ctx):\n    print("hello from the greeter")\n    return {"greeting": "hi"}\n'


def named(owner, broken=False):
    workflow, _ = services.create_workflow(owner, "Named", {
        "api_version": "nodeflow/v1", "name": "Named",
        "nodes": [
            {"id": "start", "type": "trigger.manual", "name": "Kick off", "position": [0, 0]},
            {"id": "greet", "type": "code.python", "name": "Greeter with a long name", "position": [300, 0],
             "params": {"code": SAY + ('    ctx["nodes"]["fetch"]\n' if broken else "")}},
            {"id": "fetch", "type": "http.request", "name": "Fetch the profile", "position": [600, 0],
             "params": {} if broken else {"url": "http://127.0.0.1:9/"}},
        ],
        "edges": [{"from": "start", "to": "greet"}] + ([{"from": "greet", "to": "fetch"}] if broken else []),
    })
    return workflow


def test_the_run_view_names_nodes_and_times_log_lines(page, asgi_live_server, alice, celery_worker):
    workflow = named(alice)
    sign_in(page, asgi_live_server)
    open_editor(page, asgi_live_server, workflow.pk)
    start_run(page)
    expect(page.get_by_test_id("execution-status")).to_have_text(re.compile("succeeded|failed"), timeout=60_000)

    runs = page.get_by_role("list", name="Node runs in order")
    expect(runs).to_contain_text("Greeter with a long name")
    expect(runs).not_to_contain_text("greet ")
    canvas_node(page, "greet").click()
    inspector = page.get_by_role("complementary", name="Run details")
    title = inspector.get_by_role("heading", name=re.compile("Greeter with a long name"))
    expect(title).to_be_visible()
    expect(title.get_by_role("button", name="greet", exact=True)).to_have_attribute("title", re.compile("copy"))
    inspector.get_by_role("tab", name=re.compile("Logs")).click()
    line = inspector.get_by_role("list", name="Logs").locator("li").first
    expect(line).to_contain_text("hello from the greeter")
    expect(line.locator("time")).to_have_text(re.compile(r"^\d\d:\d\d:\d\d\.\d{3}$"))


def test_the_problem_list_names_nodes_and_says_problems_plainly(page, live_server, alice):
    workflow = named(alice, broken=True)
    sign_in(page, live_server)
    open_editor(page, live_server, workflow.pk)

    problems = page.get_by_test_id("problems")
    problems.get_by_role("button", name=re.compile("problem")).click()

    expect(problems.get_by_role("button", name="Fetch the profile")).to_be_visible()
    expect(problems).to_contain_text("Missing 'url'")
    expect(problems).not_to_contain_text("nodes[")
    expect(problems).not_to_contain_text("http.request v1:")
    # Open, the panel leaves the minimap uncovered (item 13 of the list).
    panel, minimap = problems.bounding_box(), page.locator(".react-flow__minimap").bounding_box()
    assert panel["x"] + panel["width"] <= minimap["x"], (panel, minimap)
    expect(page.get_by_label("Node name").first).to_have_count(0)
    canvas_node(page, "fetch").click()
    assert page.get_by_label("Node name").get_attribute("maxlength") == "200"


def overlaps(a, b):
    return a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"] and \
        a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"]


def test_the_minimap_covers_no_node_when_a_workflow_opens_and_can_be_hidden(page, live_server, alice):
    # A staircase: its last node is the drawing's bottom-right corner, where the minimap floats.
    steps = [{"id": f"s{i}", "type": "flow.noop", "position": [300 * i, 160 * i]} for i in range(1, 5)]
    workflow, _ = services.create_workflow(alice, "Stairs", {
        "api_version": "nodeflow/v1", "name": "Stairs",
        "nodes": [{"id": "start", "type": "trigger.manual", "position": [0, 0]}, *steps],
        "edges": [{"from": a["id"], "to": b["id"]} for a, b in zip([{"id": "start"}, *steps], steps)],
    })
    sign_in(page, live_server)
    open_editor(page, live_server, workflow.pk)
    minimap = page.locator(".react-flow__minimap")
    expect(minimap).to_be_visible()
    for node_id in ["start", "s1", "s2", "s3", "s4"]:
        expect(canvas_node(page, node_id)).to_be_in_viewport()
        assert not overlaps(canvas_node(page, node_id).bounding_box(), minimap.bounding_box()), node_id

    # Hidden, it stays hidden in this browser after a reload; shown again, it is back.
    page.get_by_role("button", name="Hide the minimap").click()
    expect(minimap).to_have_count(0)
    open_editor(page, live_server, workflow.pk)
    expect(canvas_node(page, "s4")).to_be_visible()
    expect(minimap).to_have_count(0)
    page.get_by_role("button", name="Show the minimap").click()
    expect(minimap).to_be_visible()
