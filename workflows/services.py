"""Use cases of workflows: one function per verb, the only writers of Workflow rows."""

from django.db import transaction
from django.db.models import F, Max

from nodes.registry import UnknownNodeType, registry
from workflows.models import Workflow, WorkflowVersion
from workflows.validation import validate_document


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
        nodes.append(node)
    return {**document, "nodes": nodes}


def create_workflow(owner, name, definition):
    definition = with_node_versions(definition)
    workflow = Workflow.objects.create(owner=owner, name=name, definition=definition)
    return workflow, validate_document(definition)


def update_workflow(workflow, *, name=None, definition=None):
    fields = ["updated_at"]
    if name is not None:
        workflow.name = name
        fields.append("name")
    if definition is not None:
        workflow.definition = with_node_versions(definition)
        workflow.revision = F("revision") + 1
        fields += ["definition", "revision"]
    workflow.save(update_fields=fields)
    workflow.refresh_from_db(fields=["revision"])
    return workflow, validate_document(workflow.definition)


class InvalidWorkflow(ValueError):
    """The workflow's document has validation errors, so it cannot be published or run."""

    def __init__(self, errors):
        super().__init__(f"the workflow has {len(errors)} validation error(s): {errors[0]['message']}")
        self.errors = errors


def publish_workflow(workflow, user=None):
    errors = validate_document(workflow.definition)
    if errors:
        raise InvalidWorkflow(errors)
    with transaction.atomic():
        locked = Workflow.objects.select_for_update().get(pk=workflow.pk)
        number = (locked.versions.aggregate(n=Max("number"))["n"] or 0) + 1
        version = WorkflowVersion.objects.create(
            workflow=locked, number=number, definition=locked.definition, revision=locked.revision, created_by=user
        )
        locked.published_version = version
        locked.save(update_fields=["published_version", "updated_at"])
    workflow.published_version = version
    return version


def unpublish_workflow(workflow):
    workflow.published_version = None
    workflow.save(update_fields=["published_version", "updated_at"])


def run_workflow(workflow, *, input_data=None, version="draft", trigger="manual", trigger_node=None, dispatcher=None):
    """Start an execution of the draft, the published version or version number `version`."""
    from executions import runtime
    from executions.tasks import dispatcher as celery_dispatcher

    if version in (None, "draft"):
        document, number, revision = workflow.definition, None, workflow.revision
    elif version == "published":
        if workflow.published_version is None:
            raise LookupError("the workflow is not published")
        published = workflow.published_version
        document, number, revision = published.definition, published.number, None
    else:
        published = workflow.versions.filter(number=version).first()
        if published is None:
            raise LookupError(f"the workflow has no version {version}")
        document, number, revision = published.definition, published.number, None
    errors = validate_document(document)
    if errors:
        raise InvalidWorkflow(errors)
    return runtime.start_execution(
        document,
        dispatcher=dispatcher or celery_dispatcher,
        owner=workflow.owner,
        workflow=workflow,
        version=number,
        revision=revision,
        input_data=input_data,
        trigger=trigger,
        trigger_node=trigger_node,
    )
