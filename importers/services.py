"""Importing a document of any supported format as a new workflow, in one transaction."""

from django.db import transaction

from importers import n8n, stageflow
from importers.report import NotThisFormat
from workflows import services as workflow_services

FORMATS = ("nodeflow", "n8n", "stageflow")


def detect_format(document):
    """The format a document is in (as the editor's import detects it), or None."""
    if isinstance(document, dict) and isinstance(document.get("api_version"), str) \
            and document["api_version"].startswith("nodeflow/"):
        return "nodeflow"
    if n8n.looks_like_n8n(document):
        return "n8n"
    if stageflow.looks_like_stageflow(document):
        return "stageflow"
    return None


def n8n_workflows_of(owner):
    """find_workflow for n8n imports of `owner`: n8n workflow id → (id, name) of the owner's workflow most
    recently imported from it (the n8n id each n8n import records in the description), or None."""
    from workflows.models import Workflow

    def find(n8n_id):
        recorded = n8n.source_description(n8n_id)
        found = (Workflow.objects.filter(owner=owner, definition__description__startswith=recorded)
                 .order_by("-created_at").first())
        return (str(found.pk), found.name) if found else None

    return find


def translate(format, document, owner=None):
    """(nodeflow document, import report) for a document of `format`; raises NotThisFormat.

    With `owner`, an n8n Execute Workflow node calling a workflow the owner imported becomes a
    flow.subworkflow calling it."""
    if format == "n8n":
        return n8n.translate(document, n8n_workflows_of(owner) if owner is not None else None)
    if format == "stageflow":
        return stageflow.translate(document)
    if format == "nodeflow":
        if detect_format(document) not in ("nodeflow", None):
            raise NotThisFormat(f"this looks like a {detect_format(document)} document, not a nodeflow one",
                                {"detected": detect_format(document)})
        return document, {"translated": [], "untranslated": [], "warnings": []}
    raise NotThisFormat(f"unknown format {format!r}; formats: {', '.join(FORMATS)}", {"formats": list(FORMATS)})


def import_workflow(owner, format, document, name=None):
    """A new draft workflow from a document. Returns (workflow, validation errors, import report).

    The whole import is one transaction: a failure leaves no workflow behind. Raises
    NotThisFormat, and workflows.services.UnreadableDocument for nodeflow documents."""
    if format == "nodeflow" and name is None:
        translate(format, document)  # refuses an n8n or stageflow document claimed to be nodeflow
        with transaction.atomic():
            workflow, errors = workflow_services.create_workflow(owner, None, document)
        return workflow, errors, {"translated": [], "untranslated": [], "warnings": []}
    definition, report = translate(format, document, owner)
    with transaction.atomic():
        workflow, errors = workflow_services.create_workflow(owner, name, definition)
    return workflow, errors, report
