"""workflows.services: drafts, versions, and which document an execution ran."""

import pytest

from tests.workflows.documents import changed, codes, document, node
from executions import starting
from nodes.validation import InvalidWorkflow
from workflows import services
from workflows.models import WorkflowVersion

pytestmark = pytest.mark.django_db


class RecordingDispatcher:
    """Records what the engine would send to Celery; sends nothing (dispatches wait for a commit
    that a test transaction never makes)."""

    after_commit = True

    def __init__(self):
        self.sent = []

    def dispatch(self, execution_id, starts):
        self.sent.append(("dispatch", execution_id, starts))

    def dispatch_later(self, execution_id, node_id, eta, reason, start=None):
        self.sent.append(("later", execution_id, node_id))

    def revoke(self, task_ids):
        self.sent.append(("revoke", task_ids))


def test_create_records_each_nodes_latest_version(alice):
    workflow, errors = services.create_workflow(alice, "w", document())

    assert errors == []
    assert [n["version"] for n in workflow.definition["nodes"]] == [1, 1, 1]


def test_update_bumps_the_revision_only_when_the_document_changes(alice):
    workflow, _ = services.create_workflow(alice, None, document())

    services.update_workflow(workflow, definition=document())
    assert workflow.revision == 1
    services.update_workflow(workflow, definition=changed(document(), lambda d: d.update(description="new")))
    assert workflow.revision == 2


def test_the_workflow_name_and_the_document_name_are_one(alice):
    workflow, _ = services.create_workflow(alice, None, document(name="From the document"))
    assert workflow.name == workflow.definition["name"] == "From the document"

    services.update_workflow(workflow, name="Renamed")
    assert workflow.name == workflow.definition["name"] == "Renamed"
    assert workflow.revision == 2

    services.update_workflow(workflow, definition=document(name="Named in the draft"))
    assert workflow.name == "Named in the draft"


def test_unreadable_documents_are_refused(alice):
    with pytest.raises(services.UnreadableDocument) as caught:
        services.create_workflow(alice, "w", changed(document(), lambda d: d.update(api_version="nodeflow/v9")))

    assert caught.value.error["code"] == "unsupported_api_version"


def test_publish_numbers_versions_from_one(alice):
    workflow, _ = services.create_workflow(alice, "w", document())

    numbers = [services.publish_workflow(workflow, alice).number for _ in range(3)]

    assert numbers == [1, 2, 3]
    assert workflow.published_version.number == 3


def test_publish_refuses_an_invalid_draft(alice):
    workflow, _ = services.create_workflow(alice, "w", document(nodes=[node("idle", "flow.noop")], edges=[]))

    with pytest.raises(InvalidWorkflow) as caught:
        services.publish_workflow(workflow, alice)

    assert codes(caught.value.errors) == ["no_trigger"]
    assert not WorkflowVersion.objects.exists()


def test_published_version_keeps_its_document_when_the_draft_changes(alice):
    workflow, _ = services.create_workflow(alice, "w", document())
    version = services.publish_workflow(workflow, alice)
    frozen = version.definition

    services.update_workflow(workflow, definition=changed(workflow.definition,
                                                          lambda d: d["nodes"][1]["params"].update(vars={"x": 2})))

    version.refresh_from_db()
    assert version.definition == frozen
    assert version.revision == 1
    assert workflow.definition != frozen


def test_a_draft_run_records_the_draft_revision(alice):
    workflow, _ = services.create_workflow(alice, "w", document())
    services.update_workflow(workflow, definition=changed(document(), lambda d: d.update(description="v2")))

    execution = starting.run_workflow(workflow, input_data={"name": "x"}, dispatcher=RecordingDispatcher())

    assert (execution.version, execution.revision) == (None, 2)
    assert execution.definition.document == workflow.definition


def test_a_published_run_records_the_version_and_runs_its_document(alice):
    workflow, _ = services.create_workflow(alice, "w", document())
    version = services.publish_workflow(workflow, alice)
    services.update_workflow(workflow, definition=changed(document(), lambda d: d.update(description="later")))

    execution = starting.run_workflow(workflow, version="published", dispatcher=RecordingDispatcher())
    by_number = starting.run_workflow(workflow, version=1, dispatcher=RecordingDispatcher())

    assert (execution.version, execution.revision) == (1, None)
    assert execution.definition.document == version.definition
    assert by_number.version == 1


def test_running_an_unpublished_workflow_as_published_is_refused(alice):
    workflow, _ = services.create_workflow(alice, "w", document())

    with pytest.raises(LookupError):
        starting.run_workflow(workflow, version="published", dispatcher=RecordingDispatcher())
