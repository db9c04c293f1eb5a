"""Use cases of workflows: one function per verb, the only writers of Workflow rows."""

import uuid

from django.db import transaction
from django.db.models import F, Max

from engine.document import API_VERSION
from nodes.registry import UnknownNodeType, registry
from triggers import services as trigger_services
from workflows.models import Workflow, WorkflowVersion
from nodes.validation import InvalidWorkflow, api_version_problem, validate_document


def with_node_versions(document):
    """The document with each node's omitted `version` set to its type's latest (recorded at save time)."""
    if not isinstance(document, dict) or not isinstance(document.get("nodes"), list):
        return document
    nodes = []
    for node in document["nodes"]:
        if isinstance(node, dict) and "version" not in node and isinstance(node.get("type"), str):
            try:
                node = {**node, "version": registry.latest_version(node["type"])}
            except UnknownNodeType:
                pass
        params = node.get("params") if isinstance(node, dict) else None
        if isinstance(params, dict) and isinstance(params.get("graph"), dict):  # a composite node's body
            node = {**node, "params": {**params, "graph": with_node_versions(params["graph"])}}
        nodes.append(node)
    return {**document, "nodes": nodes}


class CalledWorkflowNotFound(LookupError):
    """A flow.subworkflow node names a workflow its owner does not have (missing, or another user's)."""

    def __init__(self, workflow_id, path):
        super().__init__(f"{path}: workflow {workflow_id} not found")
        self.workflow_id = workflow_id
        self.path = path


def check_called_workflows(owner, document, prefix=""):
    """Raise CalledWorkflowNotFound for the first flow.subworkflow node (in bodies too) that calls a
    workflow `owner` does not have: another user's workflow is as unknown as a missing one."""
    nodes = document.get("nodes") if isinstance(document, dict) else None
    for index, node in enumerate(nodes if isinstance(nodes, list) else []):
        params = node.get("params") if isinstance(node, dict) else None
        if not isinstance(params, dict):
            continue
        path = f"{prefix}nodes[{index}].params"
        called = params.get("workflow")
        if node.get("type") == "flow.subworkflow" and isinstance(called, str) and "{{" not in called:
            try:
                known = Workflow.objects.filter(pk=uuid.UUID(called), owner=owner).exists()
            except ValueError:
                known = True  # not an id: the params schema reports it
            if not known:
                raise CalledWorkflowNotFound(called, f"{path}.workflow")
        if isinstance(params.get("graph"), dict):
            check_called_workflows(owner, params["graph"], f"{path}.graph.")


UNTITLED = "Untitled workflow"
NAME_MAX_LENGTH = Workflow._meta.get_field("name").max_length


class UnreadableDocument(ValueError):
    """The document is not a nodeflow document this server can read (missing or newer api_version), so
    it cannot even be stored as a draft: nothing could edit or migrate it."""

    def __init__(self, error):
        super().__init__(error["message"])
        self.error = error


def new_document(name):
    """The document of a new, empty workflow."""
    return {"api_version": API_VERSION, "name": name, "nodes": [], "edges": []}


def _readable(document):
    error = api_version_problem(document)
    if error is not None:
        raise UnreadableDocument(error)
    return document


def _name_of(document, fallback):
    name = document.get("name") if isinstance(document, dict) else None
    return name if isinstance(name, str) and name.strip() else fallback


def _named(document, name):
    """The document carrying `name` (the workflow's name and its document's name are one)."""
    return document if document.get("name") == name else {**document, "name": name}


def create_workflow(owner, name=None, definition=None):
    """A new workflow; an invalid draft is stored too. Returns (workflow, validation errors).

    `name` defaults to the document's name; when both are given, `name` wins and is
    written into the document. Raises UnreadableDocument for a document without a
    readable api_version."""
    if definition is None:
        definition = new_document(name or UNTITLED)
    _readable(definition)
    name = name or _name_of(definition, UNTITLED)
    definition = with_node_versions(_named(definition, name))
    check_called_workflows(owner, definition)
    with transaction.atomic():
        workflow = Workflow.objects.create(owner=owner, name=name[:NAME_MAX_LENGTH], definition=definition)
        # Webhook secrets are stored encrypted (they need the row), the document keeps references.
        sealed = trigger_services.seal_secrets(workflow, definition)
        if sealed is not definition:
            workflow.definition = sealed
            workflow.save(update_fields=["definition"])
        trigger_services.sync_endpoints(workflow)
    return workflow, validate_document(workflow.definition)


class RevisionConflict(Exception):
    """The draft was saved by someone else since the revision the writer edited (optimistic concurrency):
    saving anyway would silently drop their change, so the writer must choose."""

    def __init__(self, expected, current):
        super().__init__(f"the draft is at revision {current}, not {expected}: it was saved elsewhere since")
        self.expected = expected
        self.current = current


def update_workflow(workflow, *, name=None, definition=None, expected_revision=None):
    """Save the draft: a new name, a new document or both. Returns (workflow, validation errors).

    The revision goes up when the stored document changes (a rename changes its name).
    With `expected_revision`, the save happens only if the draft is still at that revision
    (checked under the row's lock), else RevisionConflict; without it, the last write wins."""
    if definition is not None:
        _readable(definition)
        check_called_workflows(workflow.owner_id, definition)
        name = name or _name_of(definition, workflow.name)
    elif name is not None and isinstance(workflow.definition, dict):
        definition = workflow.definition
    fields = ["updated_at"]
    if name is not None:
        workflow.name = name[:NAME_MAX_LENGTH]
        fields.append("name")
    with transaction.atomic():
        if expected_revision is not None:
            current = Workflow.objects.select_for_update().values_list("revision", flat=True).get(pk=workflow.pk)
            if current != expected_revision:
                raise RevisionConflict(expected_revision, current)
        if definition is not None:
            definition = with_node_versions(_named(definition, name))
            definition = trigger_services.seal_secrets(workflow, definition, previous=workflow.definition)
            if definition != workflow.definition:
                workflow.definition = definition
                workflow.revision = F("revision") + 1
                fields += ["definition", "revision"]
        workflow.save(update_fields=fields)
        if "definition" in fields:
            trigger_services.sync_endpoints(workflow)
    workflow.refresh_from_db(fields=["revision"])
    return workflow, validate_document(workflow.definition)


def delete_workflow(workflow):
    """Delete the workflow with its versions, executions, schedules and webhook URLs."""
    with transaction.atomic():
        trigger_services.deleting(workflow)
        workflow.delete()


def publish_workflow(workflow, user=None):
    """Validate the draft and freeze it as the next immutable WorkflowVersion, which triggers now run."""
    with transaction.atomic():
        locked = Workflow.objects.select_for_update().get(pk=workflow.pk)
        errors = validate_document(locked.definition)
        if errors:
            raise InvalidWorkflow(errors)
        number = (locked.versions.aggregate(n=Max("number"))["n"] or 0) + 1
        version = WorkflowVersion.objects.create(
            workflow=locked, number=number, definition=locked.definition, revision=locked.revision, created_by=user
        )
        locked.published_version = version
        locked.save(update_fields=["published_version", "updated_at"])
        trigger_services.published(locked)  # its schedules replace the old ones
    workflow.published_version = version
    workflow.updated_at = locked.updated_at
    return version


def unpublish_workflow(workflow):
    """Stop running a published version from triggers (schedules removed, webhook URLs 404); the versions stay."""
    with transaction.atomic():
        workflow.published_version = None
        workflow.save(update_fields=["published_version", "updated_at"])
        trigger_services.unpublished(workflow)


def listen_for_test_webhooks(workflow):
    """Make the draft's webhook test URLs live for a while; returns until when. LookupError without webhooks."""
    return trigger_services.listen(workflow)
