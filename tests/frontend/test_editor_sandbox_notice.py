"""First run without the sandbox (issue 25, item 12 of the list): a code node's panel says that code nodes
cannot run here, why, and the one command that fixes it; with the sandbox there, it says nothing."""

import pytest
from playwright.sync_api import expect

import sandbox
from tests.frontend.editor import canvas_node, open_editor, sign_in
from workflows import services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def code_workflow(owner):
    workflow, _ = services.create_workflow(owner, "Code", {
        "api_version": "nodeflow/v1", "name": "Code",
        "nodes": [{"id": "start", "type": "trigger.manual", "position": [0, 0]},
                  {"id": "score", "type": "code.python", "position": [300, 0],
                   "params": {"code": "def run(ctx):\n    return 1\n"}}],
        "edges": [{"from": "start", "to": "score"}],
    })
    return workflow


def test_a_code_node_says_how_to_enable_code_nodes_when_the_sandbox_is_missing(page, live_server, alice, monkeypatch):
    monkeypatch.setattr(sandbox, "sandbox_status", lambda: {
        "mode": "unavailable", "detail": "code nodes are disabled: missing bubblewrap (bwrap)"})
    workflow = code_workflow(alice)
    sign_in(page, live_server)
    open_editor(page, live_server, workflow.pk)

    canvas_node(page, "score").click()

    notice = page.get_by_role("alert", name="Code sandbox")
    expect(notice).to_contain_text("Code nodes cannot run on this server yet")
    expect(notice).to_contain_text("sudo apt-get install bubblewrap libseccomp2")


def test_with_the_sandbox_the_code_node_says_nothing(page, live_server, alice, monkeypatch):
    monkeypatch.setattr(sandbox, "sandbox_status", lambda: {"mode": "bwrap+seccomp", "detail": "layers: …"})
    workflow = code_workflow(alice)
    sign_in(page, live_server)
    open_editor(page, live_server, workflow.pk)

    canvas_node(page, "score").click()

    expect(page.locator(".nf-side .cm-editor")).to_be_visible()
    expect(page.get_by_role("alert", name="Code sandbox")).to_have_count(0)
