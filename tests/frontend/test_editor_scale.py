"""The editor with real-world workflows: a branching one (the README's screenshot) and a 200-node one."""

import json
import time

import pytest
from playwright.sync_api import expect

from tests.frontend.conftest import ARTIFACTS, screenshot
from tests.frontend.editor import canvas_node, chains_of_twenty, edge_ids, node_positions, open_editor, sign_in
from workflows import services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Time to interactive of the 200-node workflow, from navigation start to every node drawn and
# measured: about 1-1.9 s on the 2-core test machine when it is quiet (drag: about 13 ms of
# script per mouse move). The machine is shared and runs 5-8 times slower under load, so the
# bounds only catch what no load explains (say, every node re-rendered on each move).
MAX_TIME_TO_INTERACTIVE_MS = 8000
MAX_DRAG_SCRIPT_MS_PER_MOVE = 150
MOVES = 30

SIGNUP_FLOW = {
    "api_version": "nodeflow/v1",
    "name": "Enrich new sign-ups",
    "input_schema": {"type": "object", "properties": {"email": {"type": "string"}}},
    "nodes": [
        {"id": "signup", "type": "trigger.webhook", "name": "New sign-up", "position": [0, 160],
         "params": {"methods": ["POST"], "auth": "hmac", "hmac_preset": "generic", "secret": "s3cret"}},
        {"id": "lookup", "type": "http.request", "name": "Look up company", "position": [320, 160], "on_error": "route",
         "retry": {"max_attempts": 3, "backoff_s": 1},
         "params": {"method": "GET", "url": "https://api.example.com/companies?domain={{ nodes.signup.output.body.domain }}",
                    "headers": {"Accept": "application/json"}, "timeout_s": 10}},
        {"id": "known", "type": "logic.if", "name": "Known company?", "position": [640, 120],
         "params": {"condition": {">": [{"var": "nodes.lookup.output.body.count"}, 0]}}},
        {"id": "score", "type": "code.python", "name": "Score lead", "position": [960, 0],
         "params": {"code": "def run(ctx):\n    company = ctx['nodes']['lookup']['output']['body']\n    return {'score': company['count'] * 10}\n"}},
        {"id": "tag", "type": "data.set", "name": "Tag as new", "position": [960, 200], "params": {"vars": {"tier": "new"}}},
        {"id": "done", "type": "flow.terminal", "name": "Result", "position": [1280, 100],
         "params": {"result": {"score": "{{ nodes.score.output.score }}", "tier": "{{ vars.tier }}"}}},
        {"id": "alert", "type": "flow.fail", "name": "Lookup failed", "position": [640, 360],
         "params": {"message": "company lookup failed for {{ nodes.signup.output.body.email }}"}},
    ],
    "edges": [
        {"from": "signup", "to": "lookup"},
        {"from": "lookup", "to": "known"},
        {"from": "lookup", "port": "error", "to": "alert"},
        {"from": "known", "port": "true", "to": "score"},
        {"from": "known", "port": "false", "to": "tag"},
        {"from": "score", "to": "done"},
        {"from": "tag", "to": "done"},
    ],
}


def large_document(count):
    """A manual trigger and `count - 1` HTTP requests: chains of twenty, side by side."""
    return chains_of_twenty(count, lambda index: {"id": f"call_{index}", "type": "http.request",
                                                  "params": {"url": f"https://api.example.com/items/{index}"}},
                            row_height=150, start_y=700)


def test_a_branching_workflow_draws_its_ports_and_edges(page, live_server, alice):
    workflow, errors = services.create_workflow(alice, None, SIGNUP_FLOW)
    assert errors == []
    page.set_viewport_size({"width": 1920, "height": 1080})  # the README's screenshot
    sign_in(page, live_server)
    open_editor(page, live_server, workflow.pk)
    expect(page.locator(".react-flow__node")).to_have_count(7)
    assert edge_ids(page) == sorted([
        "signup.main->lookup", "lookup.main->known", "lookup.error->alert", "known.true->score",
        "known.false->tag", "score.main->done", "tag.main->done",
    ])
    expect(canvas_node(page, "known").locator("[data-port]")).to_have_text(["true", "false"])
    expect(canvas_node(page, "lookup").locator("[data-port]")).to_have_text(["main", "error"])
    assert node_positions(page) == {node["id"]: node["position"] for node in SIGNUP_FLOW["nodes"]}
    expect(page.get_by_test_id("problems")).to_have_attribute("data-count", "0")
    canvas_node(page, "lookup").click()
    expect(page.locator(".nf-side").get_by_label("URL")).to_have_value(SIGNUP_FLOW["nodes"][1]["params"]["url"])
    page.locator(".react-flow__controls-fitview").click()
    page.wait_for_timeout(400)  # the fit-view animation
    screenshot(page, "editor-showcase")


def test_a_200_node_workflow_opens_fast_and_stays_responsive(page, live_server, alice):
    workflow, _ = services.create_workflow(alice, None, large_document(200))
    sign_in(page, live_server)
    open_editor(page, live_server, workflow.pk)
    expect(page.locator(".react-flow__node")).to_have_count(200)
    tti = page.evaluate("performance.getEntriesByName('nodeflow:editor-interactive')[0].startTime")

    # Selecting a node shows its form; dragging it moves it; both stay quick with 200 nodes.
    node = canvas_node(page, "call_45")
    started = time.perf_counter()
    node.click()
    expect(page.locator(".nf-side").get_by_label("URL")).to_have_value("https://api.example.com/items/45")
    select_ms = (time.perf_counter() - started) * 1000
    box = node.bounding_box()
    before = node_positions(page)["call_45"]
    devtools = page.context.new_cdp_session(page)
    devtools.send("Performance.enable")

    def script_seconds():
        return next(m["value"] for m in devtools.send("Performance.getMetrics")["metrics"] if m["name"] == "ScriptDuration")

    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    started, script_before = time.perf_counter(), script_seconds()
    for step in range(1, MOVES + 1):
        page.mouse.move(box["x"] + box["width"] / 2 + step * 4, box["y"] + box["height"] / 2 + step * 3)
    drag_ms_per_move = (time.perf_counter() - started) * 1000 / MOVES
    script_ms_per_move = (script_seconds() - script_before) * 1000 / MOVES
    page.mouse.up()
    assert node_positions(page)["call_45"] != before
    screenshot(page, "editor-200-nodes")

    figures = {"nodes": 200, "time_to_interactive_ms": round(tti), "select_ms": round(select_ms),
               "drag_ms_per_mouse_move": round(drag_ms_per_move, 1), "drag_script_ms_per_mouse_move": round(script_ms_per_move, 1)}
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "perf-200-nodes.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(f"\n200-node workflow: {figures}")
    assert tti < MAX_TIME_TO_INTERACTIVE_MS, figures
    # Our code and xyflow's per mouse move while dragging (painting excluded: headless Chromium
    # paints in software here). A canvas that re-rendered every node on each move takes far more.
    assert script_ms_per_move < MAX_DRAG_SCRIPT_MS_PER_MOVE, figures
