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


def translate(format, document):
    """(nodeflow document, import report) for a document of `format`; raises NotThisFormat."""
    if format == "n8n":
        return n8n.translate(document)
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
    definition, report = translate(format, document)
    with transaction.atomic():
        workflow, errors = workflow_services.create_workflow(owner, name, definition)
    return workflow, errors, report
