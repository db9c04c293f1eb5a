"""The Django admin of workflows: list, graph picture, JSON editor that validates on save."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from executions.models import Definition, Execution
from tests.workflows.documents import changed, document, node
from workflows import services
from workflows.models import Workflow, WorkflowVersion

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/workflows/workflow/"


def change_url(workflow):
    return f"/admin/workflows/workflow/{workflow.pk}/change/"


def form_data(name, definition, versions=0):
    """The change form's POST body (the versions inline is read-only: only its management form)."""
    return {
        "name": name,
        "definition": definition if isinstance(definition, str) else json.dumps(definition),
        "versions-TOTAL_FORMS": str(versions), "versions-INITIAL_FORMS": str(versions),
        "versions-MIN_NUM_FORMS": "0", "versions-MAX_NUM_FORMS": "1000",
    }


def execution_of(workflow, status, definition):
    return Execution.objects.create(workflow=workflow, owner=workflow.owner, definition=definition, status=status)


def test_changelist_shows_owner_published_version_and_last_execution_status(admin_client, alice):
    workflow, _ = services.create_workflow(alice, "Signups", document())
    services.publish_workflow(workflow, alice)
    definition = Definition.store(workflow.definition)
    execution_of(workflow, "failed", definition)
    execution_of(workflow, "succeeded", definition)  # the newest

    response = admin_client.get(CHANGELIST)

    assert response.status_code == 200
    row = next(r for r in response.content.decode().split("<tr") if "Signups" in r)
    assert "alice" in row and "v1" in row and "succeeded" in row
    assert "failed" not in row


def test_changelist_queries_do_not_grow_with_the_rows(admin_client, alice):
    def count_queries():
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(CHANGELIST).status_code == 200
        return len(queries)

    def add_workflows(count):
        for i in range(count):
            workflow, _ = services.create_workflow(alice, f"w{i}", document())
            services.publish_workflow(workflow, alice)
            execution_of(workflow, "succeeded", Definition.store(workflow.definition))

    add_workflows(2)
    few = count_queries()
    add_workflows(10)

    assert count_queries() == few


def test_changelist_search_finds_by_name(admin_client, alice):
    services.create_workflow(alice, "Enrich signups", document())
    services.create_workflow(alice, "Nightly report", document())

    content = admin_client.get(CHANGELIST, {"q": "nightly"}).content.decode()

    assert "Nightly report" in content and "Enrich signups" not in content


def test_change_page_draws_the_graph_and_lists_problems(admin_client, alice):
    doc = changed(document(), lambda d: d["nodes"].append(node("island", "flow.noop")))
    workflow, _ = services.create_workflow(alice, "w", doc)

    content = admin_client.get(change_url(workflow)).content.decode()

    assert "<svg" in content
    for node_id in ["start", "work", "done", "island"]:
        assert f'data-node-id="{node_id}"' in content
    assert 'class="node invalid" data-node-id="island"' in content
    assert "unreachable_node" in content


def test_graph_picture_escapes_what_the_document_says(admin_client, alice):
    doc = document([node("start", "<script>alert(1)</script>")], [])
    workflow, _ = services.create_workflow(alice, "w", doc)

    content = admin_client.get(change_url(workflow)).content.decode()

    assert "<script>alert(1)</script>" not in content
    assert "&lt;script&gt;" in content


def test_saving_an_invalid_draft_saves_it_and_shows_the_errors(admin_client, alice):
    workflow, _ = services.create_workflow(alice, "w", document())
    broken = changed(workflow.definition, lambda d: d["nodes"].append(node("island", "flow.noop")))

    response = admin_client.post(change_url(workflow), form_data("w", broken), follow=True)

    assert response.status_code == 200
    workflow.refresh_from_db()
    assert workflow.revision == 2
    assert workflow.definition["nodes"][-1] == {"id": "island", "type": "flow.noop", "version": 1}
    messages = [str(m) for m in response.context["messages"]]
    assert any("1 validation problem" in m and "unreachable_node" in m for m in messages), messages


def test_saving_a_valid_draft_says_so(admin_client, alice):
    workflow, _ = services.create_workflow(alice, "w", document())

    response = admin_client.post(change_url(workflow), form_data("renamed", workflow.definition), follow=True)

    workflow.refresh_from_db()
    assert workflow.name == workflow.definition["name"] == "renamed"
    assert "The document is valid." in [str(m) for m in response.context["messages"]]


@pytest.mark.parametrize("text, shown", [
    ("{not json", "Enter a valid JSON"),
    (json.dumps(changed(document(), lambda d: d.update(api_version="nodeflow/v2"))), "newer than this server"),
    ('{"api_version": "nodeflow/v1", "nodes": [], "name": "nul \\u0000"}', "cannot be stored"),
])
def test_an_unreadable_document_is_not_saved(admin_client, alice, text, shown):
    workflow, _ = services.create_workflow(alice, "w", document())

    response = admin_client.post(change_url(workflow), form_data("w", text))

    assert response.status_code == 200  # the form again, with the error
    assert shown in response.content.decode()
    workflow.refresh_from_db()
    assert workflow.revision == 1


def test_adding_a_workflow_goes_through_the_services(admin_client, admin_user):
    data = {**form_data("Added", document()), "owner": str(admin_user.pk)}

    response = admin_client.post("/admin/workflows/workflow/add/", data)

    assert response.status_code == 302
    workflow = Workflow.objects.get()
    assert workflow.owner == admin_user
    assert workflow.definition["name"] == "Added"
    assert all(n["version"] == 1 for n in workflow.definition["nodes"])


def test_publish_action_publishes_valid_drafts_only(admin_client, alice):
    good, _ = services.create_workflow(alice, "good", document())
    bad, _ = services.create_workflow(alice, "bad", document(nodes=[node("idle", "flow.noop")], edges=[]))

    admin_client.post(CHANGELIST, {"action": "publish_selected", "_selected_action": [good.pk, bad.pk]})

    good.refresh_from_db()
    bad.refresh_from_db()
    assert good.published_version.number == 1
    assert bad.published_version is None


def test_versions_are_read_only(admin_client, alice):
    workflow, _ = services.create_workflow(alice, "w", document())
    version = services.publish_workflow(workflow, alice)
    url = f"/admin/workflows/workflowversion/{version.pk}/change/"

    page = admin_client.get(url)
    admin_client.post(url, {"number": 7, "revision": 9})

    assert page.status_code == 200
    assert "<svg" in page.content.decode()
    assert 'name="_save"' not in page.content.decode()
    version.refresh_from_db()
    assert (version.number, version.revision) == (1, 1)
    assert admin_client.get("/admin/workflows/workflowversion/add/").status_code == 403
    assert WorkflowVersion.objects.count() == 1


def test_layout_puts_a_chain_in_columns_and_labels_ports():
    from workflows.admin import graph_layout
    from tests.workflows.documents import edge

    doc = document([node("start", "trigger.manual"), node("check", "logic.if", params={"condition": True}),
                    node("done", "flow.terminal")],
                   [edge("start", "check"), edge("check", "done", "true"), edge("check", "done", "false")])

    layout = graph_layout(doc)

    xs = {box["id"]: box["x"] for box in layout["boxes"]}
    assert xs["start"] < xs["check"] < xs["done"]
    assert [arrow["port"] for arrow in layout["arrows"]] == ["", "true, false"]
    assert [box["trigger"] for box in layout["boxes"]] == [True, False, False]


def test_layout_uses_canvas_positions_when_every_node_has_one():
    from workflows.admin import MARGIN, graph_layout

    doc = document([node("start", "trigger.manual", position=[100, 50]), node("b", "flow.noop", position=[400, 300])],
                   [])

    boxes = {box["id"]: (box["x"], box["y"]) for box in graph_layout(doc)["boxes"]}

    assert boxes == {"start": (MARGIN, MARGIN), "b": (300 + MARGIN, 250 + MARGIN)}


@pytest.mark.parametrize("doc", [
    document([node("a", "flow.noop"), node("b", "flow.noop")], [{"from": "a", "to": "b"}, {"from": "b", "to": "a"}]),
    {"nodes": "not a list"},
    [1, 2],
    document([{"id": 5}, "x", node("a", "flow.noop", position=["x", 1])], [{"from": [], "to": "a"}]),
])
def test_layout_draws_broken_drafts_without_failing(doc):
    from workflows.admin import draw_graph

    assert isinstance(draw_graph(doc), str)
