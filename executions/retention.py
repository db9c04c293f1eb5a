"""Retention: finished executions past their policy go, with their node runs, events and stored output files.

A policy (`Policy`) says how many days a succeeded or cancelled execution is kept (`days`),
how many days a failed or timed-out one is kept (`failed_days`, usually longer: that is the
run someone will want to look at), and how many succeeded or cancelled executions a workflow
keeps at most (`count`, the newest). The server's defaults come from the settings; a
workflow's `settings.retention` overrides them key by key (workflows.retention reads them,
since this app does not know workflows).

Pruning goes in batches of NODEFLOW["PRUNE_BATCH"] executions, each in a transaction of its
own that locks only those rows: an execution a transition holds (a retry starting) is
skipped (SKIP LOCKED) and left for the next round, and one that is no longer final is not
deleted. Stored output files are removed after their rows' commit; a crash between the two
leaves files whose execution is gone, which the next prune removes (`sweep_orphan_outputs`).
"""

import logging
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.models import Count, Q
from django.utils import timezone

from engine.states import ExecutionStatus
from executions.models import Execution, ExecutionEvent, NodeRun
from executions.outputs import OUTPUTS_FOLDER
from nodeflow.cache import count as counter

logger = logging.getLogger("nodeflow.retention")

FAILED = (ExecutionStatus.FAILED, ExecutionStatus.TIMED_OUT)
ENDED = (ExecutionStatus.SUCCEEDED, ExecutionStatus.CANCELLED)
PRUNED_KEY = "nodeflow:metrics:pruned:{}"
PRUNED_KINDS = ("executions", "node_runs", "events", "files")
_POLICY_KEYS = ("days", "failed_days", "count")


@dataclass(frozen=True)
class Policy:
    """How long finished executions are kept; None = no limit of that kind."""

    days: int | None = None
    failed_days: int | None = None
    count: int | None = None

    @classmethod
    def server_default(cls):
        config = settings.NODEFLOW
        return cls(days=config["RETENTION_DAYS"] or None, failed_days=config["RETENTION_FAILED_DAYS"] or None,
                   count=config["RETENTION_COUNT"] or None)

    def overridden(self, retention):
        """This policy with a workflow's `settings.retention` over it: a key present replaces (0 = no limit).

        Drafts may be saved invalid, so a value that is not a whole number of at least 0 is ignored."""
        if not isinstance(retention, dict):
            return self
        changes = {}
        for key in _POLICY_KEYS:
            value = retention.get(key)
            if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
                changes[key] = value or None
        return Policy(**{**self.__dict__, **changes})


@dataclass
class Report:
    """What a prune removed, or with dry_run what it would remove."""

    dry_run: bool = False
    counts: dict = field(default_factory=lambda: dict.fromkeys(PRUNED_KINDS, 0))
    # (workflow id or None, reason, executions) per selection with something to prune
    selections: list = field(default_factory=list)
    vacuumed: bool = False

    def add(self, kind, n):
        self.counts[kind] += n


def prune(overrides=None, *, dry_run=False, now=None, batch=None):
    """Prune what the policies say: the server's default, and {workflow id: settings.retention} over it."""
    now = now or timezone.now()
    batch = batch or settings.NODEFLOW["PRUNE_BATCH"]
    default = Policy.server_default()
    overrides = {str(pk): default.overridden(retention) for pk, retention in (overrides or {}).items()}
    report = Report(dry_run=dry_run)
    if dry_run:
        _plan(report, _selections(default, overrides, now))
        return report
    for workflow_id, reason, rule in _selections(default, overrides, now):
        found = _delete(rule, batch, report)
        if found:
            report.selections.append((workflow_id, reason, found))
    report.add("files", sweep_orphan_outputs())
    report.vacuumed = _compact()
    _count_metrics(report)
    return report


@dataclass(frozen=True)
class _Rule:
    """Which executions one part of a policy prunes: `queryset`, past the newest `keep` of them."""

    queryset: object
    keep: int = 0


def _selections(default, overrides, now):
    """(workflow id or None, reason, rule) for every part of every policy that prunes something."""
    overridden = list(overrides)
    scopes = [(None, default, ~Q(workflow_id__in=overridden) if overridden else Q())]
    scopes += [(pk, policy, Q(workflow_id=pk)) for pk, policy in overrides.items()]
    for workflow_id, policy, scope in scopes:
        if policy.days:
            yield workflow_id, f"older than {policy.days} days", _Rule(_finished_before(ENDED, now - timedelta(days=policy.days)).filter(scope))
        if policy.failed_days:
            yield workflow_id, f"failed, older than {policy.failed_days} days", _Rule(
                _finished_before(FAILED, now - timedelta(days=policy.failed_days)).filter(scope))
        if policy.count:
            # The count is per workflow: the default's scope is every workflow without an override.
            workflows = [workflow_id] if workflow_id else _workflows_with_more_than(policy.count, scope)
            for pk in workflows:
                ended = Execution.objects.filter(workflow_id=pk, status__in=ENDED).order_by("-created_at", "-id")
                yield pk, f"beyond the newest {policy.count}", _Rule(ended, keep=policy.count)


def _finished_before(statuses, cutoff):
    # A final execution without finished_at (cancelled before it started) goes by when it was created.
    return Execution.objects.filter(Q(finished_at__lt=cutoff) | Q(finished_at=None, created_at__lt=cutoff),
                                    status__in=statuses).order_by("created_at")


def _workflows_with_more_than(count, scope):
    rows = (Execution.objects.filter(scope, status__in=ENDED).exclude(workflow_id=None).values("workflow_id")
            .annotate(n=Count("id")).filter(n__gt=count).order_by())
    return [row["workflow_id"] for row in rows]


def _delete(rule, batch, report):
    """Delete the rule's executions a batch at a time; the number deleted."""
    deleted = 0
    while True:
        ids = list(rule.queryset.values_list("pk", flat=True)[rule.keep:rule.keep + batch])
        if not ids:
            return deleted
        gone = delete_executions(ids, report)
        deleted += gone
        if gone == 0:
            # Every candidate is locked by a transition or no longer final: the next round takes them.
            return deleted


def delete_executions(ids, report):
    """Delete these executions, if still final and not locked, with their rows and then their files."""
    with transaction.atomic():
        locked = (Execution.objects.filter(pk__in=ids, status__in=(*ENDED, *FAILED))
                  .select_for_update(skip_locked=True, of=("self",)).values_list("pk", flat=True))
        ids = list(locked)
        if not ids:
            return 0
        report.add("events", ExecutionEvent.objects.filter(execution_id__in=ids).delete()[0])
        report.add("node_runs", NodeRun.objects.filter(execution_id__in=ids).delete()[0])
        Execution.objects.filter(pk__in=ids).delete()
    report.add("executions", len(ids))
    for pk in ids:
        report.add("files", remove_outputs(pk))
    return len(ids)


def remove_outputs(execution_id):
    """Remove an execution's stored output files; how many there were."""
    folder = f"{OUTPUTS_FOLDER}/{execution_id}"
    try:
        _, files = default_storage.listdir(folder)
    except FileNotFoundError:
        return 0
    for name in files:
        default_storage.delete(f"{folder}/{name}")
    default_storage.delete(folder)  # the empty folder (FileSystemStorage removes directories)
    return len(files)


def sweep_orphan_outputs():
    """Remove output folders whose execution is gone (a crash after a prune's commit, a cascade); files removed."""
    try:
        folders, _ = default_storage.listdir(OUTPUTS_FOLDER)
    except FileNotFoundError:
        return 0
    removed = 0
    for start in range(0, len(folders), 1000):
        chunk = folders[start:start + 1000]
        ids = {str(pk) for pk in Execution.objects.filter(pk__in=[f for f in chunk if _is_uuid(f)])
               .values_list("pk", flat=True)}
        for folder in chunk:
            if _is_uuid(folder) and folder not in ids:
                removed += remove_outputs(folder)
    return removed


def _is_uuid(text):
    try:
        return str(uuid.UUID(text)) == text
    except ValueError:
        return False


def _plan(report, selections):
    """A dry run: every execution some rule would prune, once, with its node runs, events and files."""
    doomed = set()
    for workflow_id, reason, rule in selections:
        ids = rule.queryset.values_list("pk", flat=True)
        ids = ids[rule.keep:] if rule.keep else ids
        new = {pk for pk in ids.iterator(chunk_size=2000)} - doomed
        if new:
            report.selections.append((workflow_id, reason, len(new)))
            doomed |= new
    doomed = list(doomed)
    report.add("executions", len(doomed))
    for start in range(0, len(doomed), 2000):
        chunk = doomed[start:start + 2000]
        report.add("node_runs", NodeRun.objects.filter(execution_id__in=chunk).count())
        report.add("events", ExecutionEvent.objects.filter(execution_id__in=chunk).count())
        report.add("files", sum(_file_count(pk) for pk in chunk))


def _file_count(execution_id):
    try:
        return len(default_storage.listdir(f"{OUTPUTS_FOLDER}/{execution_id}")[1])
    except FileNotFoundError:
        return 0


def _compact():
    """SQLite (embedded mode): VACUUM when enough of the file is free pages; whether it ran.

    SQLite never gives deleted rows' pages back to the file system by itself; VACUUM rewrites
    the file, so it runs only when it is worth it, outside any transaction."""
    if connection.vendor != "sqlite":
        return False
    with connection.cursor() as cursor:
        pages = cursor.execute("PRAGMA page_count").fetchone()[0]
        free = cursor.execute("PRAGMA freelist_count").fetchone()[0]
        if not pages or free / pages < settings.NODEFLOW["SQLITE_VACUUM_FREE_RATIO"] or free == 0:
            return False
        cursor.execute("VACUUM")
    logger.info("VACUUM gave back %d free pages of %d", free, pages)
    return True


def _count_metrics(report):
    for kind in PRUNED_KINDS:
        if not report.counts[kind]:
            continue
        counter(PRUNED_KEY.format(kind), report.counts[kind])
