"""Issue 26 in the browser: a run held by a concurrency limit in the executions list, resource figures in the
run view (the node inspector and the run panel's totals)."""

import pytest
from playwright.sync_api import expect

from executions.inline import InlineDispatcher, run_inline
from executions.starting import run_workflow
from tests.frontend.conftest import screenshot
from tests.frontend.editor import canvas_node, sign_in
from workflows.models import Workflow
from workflows.services import with_node_versions

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CODE = """def run(ctx):
    block = "x" * (20 * 1024 * 1024)
    return {"size": len(block)}
"""


def _workflow(owner, nodes, edges, name, **settings):
    document = {"api_version": "nodeflow/v1", "name": name, "nodes": nodes, "edges": edges}
    if settings:
        document["settings"] = settings
    return Workflow.objects.create(owner=owner, name=name, definition=with_node_versions(document))


def test_the_executions_list_says_a_run_waits_for_its_limit(page, live_server, alice):
    workflow = _workflow(alice, [{"id": "start", "type": "trigger.manual", "position": [0, 0]}], [], "Nightly",
                         max_concurrent=1, priority="low")
    waiting = InlineDispatcher()  # never drained: the first run keeps the one slot
    run_workflow(workflow, dispatcher=waiting)
    held = run_workflow(workflow, dispatcher=waiting)
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/workflows/{workflow.pk}/executions")
    row = page.locator(f'tr[data-execution-id="{held.pk}"]')
    expect(row.get_by_test_id("held")).to_have_text("queued: limit reached")
    expect(row.get_by_test_id("held")).to_have_attribute("title", "Waits for this workflow's max_concurrent; it starts "
                                                                  "when a running execution ends.")
    expect(row).to_contain_text("low priority")
    expect(page.get_by_test_id("held")).to_have_count(1)
    screenshot(page, "executions-list-held")


def test_the_run_view_shows_what_a_node_and_the_run_used(page, asgi_live_server, alice):
    live_server = asgi_live_server
    nodes = [{"id": "start", "type": "trigger.manual", "position": [0, 100]},
             {"id": "hungry", "type": "code.python", "params": {"code": CODE}, "position": [320, 100]},
             {"id": "done", "type": "flow.terminal", "params": {"result": "ok"}, "position": [640, 100]}]
    edges = [{"from": "start", "to": "hungry"}, {"from": "hungry", "to": "done"}]
    workflow = _workflow(alice, nodes, edges, "Hungry")
    execution = run_inline(workflow.definition, owner=alice, workflow=workflow)
    assert execution.status == "succeeded"
    figures = execution.node_runs.get(node_id="hungry").resources
    assert figures["peak_memory_kb"] >= 20 * 1024
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/workflows/{workflow.pk}/executions/{execution.pk}")
    panel = page.get_by_role("complementary", name="Run details")
    expect(panel.get_by_test_id("run-total-CPU")).to_contain_text("ms")
    expect(panel.get_by_test_id("run-total-Peak memory")).to_contain_text("MB")
    canvas_node(page, "hungry").click()
    expect(panel.get_by_role("heading", name="hungry")).to_be_visible()
    expect(panel.get_by_test_id("node-run-CPU")).to_contain_text("sandbox")
    expect(panel.get_by_test_id("node-run-Peak memory")).to_have_text(f"{figures['peak_memory_kb'] / 1024:.1f} MB")
    screenshot(page, "execution-node-resources")
