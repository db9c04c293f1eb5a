"""The editor in a real browser against the real server, used as a new user would."""

import re

import pytest
from playwright.sync_api import expect

from tests.frontend.conftest import screenshot
from tests.frontend.editor import (
    canvas_node,
    connect,
    drag_from_palette,
    expect_edges,
    node_positions,
    sign_in,
    wait_until_interactive,
)
from workflows.models import Workflow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

URL = "https://api.example.com/users?email={{ input.email }}"
EDGES = ["http_request.main->flow_terminal", "trigger_manual.main->http_request"]


def stored(workflow_id):
    return Workflow.objects.select_related("published_version").get(pk=workflow_id)


def test_a_new_user_builds_saves_reloads_and_publishes_a_workflow(page, live_server, alice):
    sign_in(page, live_server)
    expect(page.get_by_role("heading", name="Build your first workflow")).to_be_visible()
    page.get_by_role("button", name="New workflow").first.click()
    page.get_by_role("dialog").get_by_label("Name").fill("Sign-up enrichment")
    page.get_by_role("button", name="Create").click()
    wait_until_interactive(page)
    workflow_id = page.url.rstrip("/").rsplit("/", 1)[1]

    # Build: three nodes from the palette, connected port to port.
    drag_from_palette(page, "trigger.manual", 120, 260)
    drag_from_palette(page, "http.request", 400, 260)
    drag_from_palette(page, "flow.terminal", 680, 260)
    expect(page.locator(".react-flow__node")).to_have_count(3)
    connect(page, "trigger_manual", "http_request")
    connect(page, "http_request", "flow_terminal")
    expect(page.locator(".react-flow__edge")).to_have_count(2)
    expect_edges(page, EDGES)

    # The server's validation shows on the canvas: the HTTP node has no URL yet, so Publish waits.
    http = canvas_node(page, "http_request")
    expect(http.locator(".nf-node-problem")).to_contain_text("Needs 'url'")
    expect(http.locator(".nf-node")).to_have_class(re.compile(r"\bhas-problems\b"))
    publish = page.get_by_role("button", name="Publish", exact=True)
    expect(publish).to_be_disabled()
    screenshot(page, "editor-validation-error")

    # Fill the URL in the side panel (expression suggestions offer the context's paths).
    http.click()
    url_field = page.locator(".nf-side").get_by_label("URL")
    url_field.fill("https://api.example.com/users?email={{ inp")
    expect(page.get_by_role("option", name="input", exact=True)).to_be_visible()
    page.keyboard.press("Enter")
    expect(url_field).to_have_value("https://api.example.com/users?email={{ input }}")
    url_field.fill(URL)
    expect(http.locator(".nf-node-problem")).to_have_count(0)
    expect(page.get_by_test_id("problems")).to_have_attribute("data-count", "0")
    expect(publish).to_be_enabled()
    expect(page.locator(".nf-save-state")).to_have_attribute("data-state", "dirty")
    screenshot(page, "editor-filled")

    # Save with Ctrl+S; the server has exactly what the canvas shows.
    page.locator(".react-flow__pane").click(position={"x": 600, "y": 600})
    page.keyboard.press("Control+s")
    expect(page.locator(".nf-save-state")).to_have_attribute("data-state", "saved")
    document = stored(workflow_id).definition
    assert [node["id"] for node in document["nodes"]] == ["trigger_manual", "http_request", "flow_terminal"]
    assert document["nodes"][1]["params"] == {"url": URL}
    assert document["edges"] == [{"from": "trigger_manual", "to": "http_request"}, {"from": "http_request", "to": "flow_terminal"}]
    positions = node_positions(page)
    assert positions == {node["id"]: node["position"] for node in document["nodes"]}

    # Reload: everything is as it was.
    page.reload()
    wait_until_interactive(page)
    assert node_positions(page) == positions
    expect_edges(page, EDGES)
    expect(page.locator(".nf-save-state")).to_have_attribute("data-state", "saved")
    canvas_node(page, "http_request").click()
    expect(page.locator(".nf-side").get_by_label("URL")).to_have_value(URL)
    expect(page.get_by_label("Workflow name")).to_have_value("Sign-up enrichment")

    # Undo and redo a deletion.
    canvas_node(page, "flow_terminal").click()
    page.keyboard.press("Delete")
    expect(page.locator(".react-flow__node")).to_have_count(2)
    expect_edges(page, EDGES[1:])
    page.keyboard.press("Control+z")
    expect(page.locator(".react-flow__node")).to_have_count(3)
    expect_edges(page, EDGES)
    page.keyboard.press("Control+Shift+z")
    expect(page.locator(".react-flow__node")).to_have_count(2)
    page.get_by_role("button", name="Undo (Ctrl/⌘ Z)").click()
    expect(page.locator(".react-flow__node")).to_have_count(3)
    assert node_positions(page) == positions

    # A validation error appears and disappears: cut the trigger off and reconnect it.
    page.locator('.react-flow__edge[data-id="trigger_manual.main->http_request"]').click(force=True)
    page.keyboard.press("Delete")
    expect(canvas_node(page, "http_request").locator(".nf-node-problem")).to_contain_text("not reachable from a trigger")
    expect(canvas_node(page, "flow_terminal").locator(".nf-node-problem")).to_contain_text("not reachable from a trigger")
    expect(publish).to_be_disabled()
    connect(page, "trigger_manual", "http_request")
    expect(page.locator(".nf-node-problem")).to_have_count(0)
    expect(publish).to_be_enabled()

    # Publish: the draft is saved first, then frozen as version 1.
    publish.click()
    expect(page.locator(".nf-publish")).to_contain_text("Published · v1")
    workflow = stored(workflow_id)
    assert workflow.published_version.number == 1
    assert workflow.published_version.definition == workflow.definition
    expect(page.locator(".nf-save-state")).to_have_attribute("data-state", "saved")
    screenshot(page, "editor-published")

    # Unpublish asks first.
    page.get_by_role("button", name="Unpublish").click()
    page.get_by_role("dialog").get_by_role("button", name="Unpublish").click()
    expect(page.locator(".nf-publish")).to_contain_text("Not published")
    assert stored(workflow_id).published_version is None
