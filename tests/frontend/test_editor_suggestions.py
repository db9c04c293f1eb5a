"""Suggestions (issue 25, item 10 of the list): fields of the last run's outputs are offered in `{{ }}`,
and a choice lands inside the braces with the caret right after it."""

import pytest
from playwright.sync_api import expect

from executions import starting
from executions.inline import InlineDispatcher
from tests.frontend.editor import canvas_node, open_editor, sign_in
from workflows import services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def ran_once(owner):
    workflow, _ = services.create_workflow(owner, "Suggestions", {
        "api_version": "nodeflow/v1", "name": "Suggestions",
        "nodes": [
            {"id": "start", "type": "trigger.manual", "position": [0, 0]},
            {"id": "fetch", "type": "data.set", "position": [300, 0],
             "params": {"output": {"status": 200, "body": {"user": {"name": "Ada", "plan": "pro"}}}}},
            {"id": "later", "type": "data.set", "position": [900, 200], "params": {"output": {"secret_field": 1}}},
            {"id": "done", "type": "flow.terminal", "position": [600, 0], "params": {"result": ""}},
        ],
        "edges": [{"from": "start", "to": "fetch"}, {"from": "fetch", "to": "done"}, {"from": "fetch", "to": "later"}],
    })
    dispatcher = InlineDispatcher()
    starting.run_workflow(workflow, dispatcher=dispatcher, input_data={"email": "ada@example.com"})
    dispatcher.drain()
    return workflow


def caret(field):
    return field.evaluate("(el) => el.selectionStart")


def test_fields_of_the_last_run_are_offered_and_land_inside_the_braces(page, live_server, alice):
    workflow = ran_once(alice)
    sign_in(page, live_server)
    open_editor(page, live_server, workflow.pk)
    canvas_node(page, "done").click()
    result = page.locator(".nf-side").get_by_label("Result")

    # From the run: the body's fields, never those of a node that is not upstream.
    result.fill("{{ nodes.fetch.output.body.")
    option = page.get_by_role("option", name="nodes.fetch.output.body.user.name", exact=True)
    expect(option).to_be_visible()
    expect(option).to_have_attribute("title", 'In the last run: "Ada"')
    result.fill("{{ nodes.")
    expect(page.get_by_role("option").first).to_be_visible()
    assert not any("later" in text for text in page.get_by_role("option").all_inner_texts())

    result.fill("{{ nodes.fetch.output.body.")
    page.get_by_role("option", name="nodes.fetch.output.body.user.name", exact=True).click()
    expect(result).to_have_value("{{ nodes.fetch.output.body.user.name }}")
    assert caret(result) == len("{{ nodes.fetch.output.body.user.name")

    # `{{` then `input`: spaced and closed, the caret after the path, ready for `.email`.
    result.fill("{{")
    expect(page.get_by_role("option", name="input.email", exact=True)).to_be_visible()
    page.get_by_role("option", name="input", exact=True).click()
    expect(result).to_have_value("{{ input }}")
    assert caret(result) == len("{{ input")
    result.press_sequentially(".email")
    expect(result).to_have_value("{{ input.email }}")
