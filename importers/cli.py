"""`python manage.py nodeflow import FILE.json --format … [--owner USER]`: import and print the report."""

import json
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from importers import services
from importers.report import NotThisFormat
from workflows.services import UnreadableDocument


def import_file(path, format, owner, out):
    """Import FILE as a new draft of `owner` (the first superuser when None); print the report."""
    try:
        text = Path(path).read_text()
    except FileNotFoundError:
        raise CommandError(f"{path}: no such file") from None
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise CommandError(f"{path} is not JSON: {exc}") from None
    users = get_user_model().objects
    user = users.filter(username=owner).first() if owner else users.filter(is_superuser=True).order_by("pk").first()
    if user is None:
        raise CommandError(f"no user {owner!r}" if owner else "no superuser to own the workflow: pass --owner USER")
    format = format or services.detect_format(document)
    if format is None:
        raise CommandError(f"{path}: not a nodeflow, n8n or stageflow document; pass --format")
    try:
        workflow, errors, report = services.import_workflow(user, format, document)
    except (NotThisFormat, UnreadableDocument) as exc:
        raise CommandError(f"{path}: {exc}") from None
    out.write(f"imported {format} as workflow {workflow.pk} ({workflow.name!r}), owner {user.username}\n")
    for entry in report["translated"]:
        kind = f" ({entry['type']})" if "type" in entry else ""
        notes = "".join(f"\n               note: {note}" for note in entry["notes"])
        out.write(f"  translated   {entry['from']} -> {entry['to']}{kind}{notes}\n")
    for entry in report["untranslated"]:
        out.write(f"  untranslated {entry['from']}: {entry['reason']}\n")
    for warning in report["warnings"]:
        out.write(f"  warning      {warning}\n")
    out.write(f"validation: {'valid' if not errors else f'{len(errors)} error(s)'}\n")
    for error in errors:
        out.write(f"  {error['code']}: {error['message']}\n")
    return workflow
