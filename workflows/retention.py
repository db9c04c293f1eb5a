"""Retention with each workflow's own `settings.retention` over the server's defaults (executions.retention).

The draft's settings count, as the editor shows them: an operator who shortens a workflow's
retention expects it to apply without publishing again."""

from executions import retention
from workflows.models import Workflow


def retention_overrides():
    """{workflow id: its settings.retention} for the workflows that have one."""
    rows = Workflow.objects.filter(definition__settings__has_key="retention").values_list(
        "id", "definition__settings__retention")
    return {str(pk): value for pk, value in rows}


def prune_executions(*, dry_run=False, now=None, batch=None):
    """Prune every workflow's finished executions by its policy; the executions.retention.Report."""
    return retention.prune(retention_overrides(), dry_run=dry_run, now=now, batch=batch)


def describe(report):
    """Lines saying what a prune removed (or would remove), for the command line."""
    verb = "would remove" if report.dry_run else "removed"
    counts = report.counts
    lines = [f"{verb} {counts['executions']} executions, {counts['node_runs']} node runs, "
             f"{counts['events']} events, {counts['files']} stored output files"]
    names = {str(pk): name for pk, name in Workflow.objects.filter(
        pk__in=[pk for pk, _, _ in report.selections if pk]).values_list("id", "name")}
    for pk, reason, n in report.selections:
        who = f"workflow {names.get(str(pk), pk)} ({pk})" if pk else "executions of no workflow's own policy"
        lines.append(f"  {n:>8}  {who}: {reason}")
    if report.vacuumed:
        lines.append("SQLite file compacted (VACUUM)")
    return lines
