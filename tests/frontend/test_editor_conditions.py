"""The condition builder (issue 25, item 9 of the list): logic.if / logic.switch conditions as field,
operator, value in and/or groups, round-tripping with JsonLogic; a raw tab for the rest; the fields
suggested from the paths the node may read."""

import json

import pytest
from playwright.sync_api import expect

from tests.frontend.conftest import screenshot
from tests.frontend.editor import canvas_node, open_editor, sign_in
from workflows import services
from workflows.models import Workflow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def branching(owner):
    workflow, _ = services.create_workflow(owner, "Conditions", {
        "api_version": "nodeflow/v1", "name": "Conditions",
        "nodes": [
            {"id": "start", "type": "trigger.manual", "position": [0, 0]},
            {"id": "fetch", "type": "http.request", "position": [300, 0], "params": {"url": "https://example.com"}},
            {"id": "ok", "type": "logic.if", "name": "Went well?", "position": [600, 0],
             "params": {"condition": {">": [{"var": "nodes.fetch.output.status"}, 199]}}},
            {"id": "route", "type": "logic.switch", "position": [900, 0],
             "params": {"cases": [{"name": "odd", "condition": {"var": ["input.x", 1]}}]}},
            {"id": "later", "type": "flow.noop", "position": [1200, 0]},
        ],
        "edges": [{"from": "start", "to": "fetch"}, {"from": "fetch", "to": "ok"},
                  {"from": "ok", "port": "true", "to": "route"}, {"from": "route", "port": "default", "to": "later"}],
    })
    return workflow


def stored_params(workflow, node_id):
    nodes = Workflow.objects.get(pk=workflow.pk).definition["nodes"]
    return next(node["params"] for node in nodes if node["id"] == node_id)


def test_the_builder_shows_edits_and_round_trips_a_condition(page, live_server, alice):
    workflow = branching(alice)
    sign_in(page, live_server)
    open_editor(page, live_server, workflow.pk)
    side = page.locator(".nf-side")

    canvas_node(page, "ok").click()
    expect(side.get_by_role("tab", name="Builder")).to_have_attribute("aria-selected", "true")
    rule = side.get_by_role("group", name="Condition", exact=True)
    expect(rule.get_by_label("Field")).to_have_value("nodes.fetch.output.status")
    expect(rule.get_by_label("Operator")).to_have_value(">")
    expect(rule.get_by_label("Value")).to_have_value("199")
    # Fields are suggested from what the node may read: upstream outputs, never downstream nodes.
    options = side.locator("datalist option")
    values = options.evaluate_all("(els) => els.map((el) => el.value)")
    assert "nodes.fetch.output.status" in values and "input" in values
    assert not any(value.startswith(("nodes.route", "nodes.later")) for value in values)

    rule.get_by_label("Value").fill("299")
    side.get_by_role("button", name="Add condition").click()
    second = side.get_by_role("group", name="Condition", exact=True).nth(1)
    second.get_by_label("Field").fill("input.kind")
    second.get_by_label("Value").fill("signup")
    side.get_by_label("Match").select_option("or")
    screenshot(page, "editor-condition-builder")
    page.keyboard.press("Control+s")
    expect(page.locator(".nf-save-state")).to_have_attribute("data-state", "saved")

    expected = {"or": [{">": [{"var": "nodes.fetch.output.status"}, 299]}, {"==": [{"var": "input.kind"}, "signup"]}]}
    assert stored_params(workflow, "ok")["condition"] == expected
    side.get_by_role("tab", name="JsonLogic").click()
    assert json.loads(side.get_by_label("JsonLogic", exact=True).input_value()) == expected

    # Reopened, the builder shows the stored JsonLogic as it was built.
    page.reload()
    canvas_node(page, "ok").click()
    expect(side.get_by_label("Match")).to_have_value("or")
    expect(side.get_by_role("group", name="Condition", exact=True).nth(1).get_by_label("Value")).to_have_value("signup")


def test_jsonlogic_the_builder_cannot_show_stays_raw_and_unchanged(page, live_server, alice):
    workflow = branching(alice)
    sign_in(page, live_server)
    open_editor(page, live_server, workflow.pk)
    side = page.locator(".nf-side")

    canvas_node(page, "route").click()

    expect(side.get_by_role("tab", name="Builder")).to_be_disabled()
    expect(side).to_contain_text("The builder cannot show this condition")
    assert json.loads(side.get_by_label("JsonLogic", exact=True).input_value()) == {"var": ["input.x", 1]}
    assert stored_params(workflow, "route")["cases"][0]["condition"] == {"var": ["input.x", 1]}
