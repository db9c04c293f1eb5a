"""Renaming a node id (issue 25, item 3): expressions, JsonLogic vars and code that read the node follow
the new id, and code reading a node that is not upstream is a problem shown in the editor."""

import pytest
from playwright.sync_api import expect

from tests.frontend.editor import canvas_node, open_editor, sign_in
from workflows import services
from workflows.models import Workflow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CODE = 'def run(ctx):\n    return {"n": ctx["nodes"]["lookup"]["output"]["status"]}\n'


def referenced(owner):
    workflow, _ = services.create_workflow(owner, "References", {
        "api_version": "nodeflow/v1", "name": "References",
        "nodes": [
            {"id": "start", "type": "trigger.manual", "position": [0, 0]},
            {"id": "lookup", "type": "http.request", "name": "Look up", "position": [300, 0],
             "params": {"url": "https://example.com/users"}},
            {"id": "known", "type": "logic.if", "position": [600, 0],
             "params": {"condition": {">": [{"var": "nodes.lookup.output.status"}, 199]}}},
            {"id": "score", "type": "code.python", "position": [900, -100], "params": {"code": CODE}},
            {"id": "done", "type": "flow.terminal", "position": [1200, 0],
             "params": {"result": {"status": "{{ nodes.lookup.output.status }}", "score": "{{ nodes.score.output }}"}}},
        ],
        "edges": [{"from": "start", "to": "lookup"}, {"from": "lookup", "to": "known"},
                  {"from": "known", "port": "true", "to": "score"}, {"from": "known", "port": "false", "to": "done"},
                  {"from": "score", "to": "done"}],
    })
    return workflow


def test_renaming_a_node_id_rewrites_every_reference_to_it(page, live_server, alice):
    workflow = referenced(alice)
    sign_in(page, live_server)
    open_editor(page, live_server, workflow.pk)

    canvas_node(page, "lookup").click()
    page.get_by_role("tab", name="Settings").click()
    identifier = page.get_by_label("ID", exact=True)
    identifier.fill("find_user")
    identifier.press("Enter")

    expect(page.get_by_role("status").filter(has_text="3 references in other nodes updated")).to_be_visible()
    page.keyboard.press("Control+s")
    expect(page.locator(".nf-save-state")).to_have_attribute("data-state", "saved")
    stored = {n["id"]: n for n in Workflow.objects.get(pk=workflow.pk).definition["nodes"]}
    assert set(stored) == {"start", "find_user", "known", "score", "done"}
    assert stored["known"]["params"]["condition"] == {">": [{"var": "nodes.find_user.output.status"}, 199]}
    assert 'ctx["nodes"]["find_user"]["output"]' in stored["score"]["params"]["code"]
    assert stored["done"]["params"]["result"]["status"] == "{{ nodes.find_user.output.status }}"
    assert services.validate_document(Workflow.objects.get(pk=workflow.pk).definition) == []


def test_code_reading_a_node_that_is_not_upstream_is_a_problem_in_the_editor(page, live_server, alice):
    workflow = referenced(alice)
    definition = workflow.definition
    for node in definition["nodes"]:
        if node["id"] == "score":
            node["params"]["code"] = CODE.replace('"lookup"', '"done"')
    Workflow.objects.filter(pk=workflow.pk).update(definition=definition)
    sign_in(page, live_server)
    open_editor(page, live_server, workflow.pk)

    canvas_node(page, "score").click()

    expect(page.get_by_role("list", name="Problems of this node")).to_contain_text("The code reads 'nodes.done'")
