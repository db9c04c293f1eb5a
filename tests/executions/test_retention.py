"""Retention: pruning removes exactly what the policies say (rows and files), in batches, and nothing else."""

import io
import random
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.utils import timezone

from engine.states import ExecutionStatus as S
from executions import outputs, retention
from executions.models import Definition, Execution, ExecutionEvent, NodeRun
from workflows.models import Workflow
from workflows.retention import prune_executions

pytestmark = pytest.mark.django_db

NOW = timezone.now()
FINAL = {S.SUCCEEDED, S.FAILED, S.CANCELLED, S.TIMED_OUT}
STATUSES = [S.SUCCEEDED, S.SUCCEEDED, S.FAILED, S.CANCELLED, S.TIMED_OUT, S.RUNNING, S.WAITING, S.SUCCEEDED]


@pytest.fixture
def storage(settings, tmp_path):
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}}}
    settings.NODEFLOW = {**settings.NODEFLOW, "RETENTION_DAYS": 30, "RETENTION_FAILED_DAYS": 90, "RETENTION_COUNT": 0,
                         "OUTPUT_INLINE_MAX_BYTES": 1024}
    return tmp_path


def _workflow(owner, name, retention_settings=None):
    document = {"api_version": "nodeflow/v1", "name": name, "nodes": [], "edges": []}
    if retention_settings is not None:
        document["settings"] = {"retention": retention_settings}
    return Workflow.objects.create(owner=owner, name=name, definition=document)


def _old_executions(n, workflows, seed=26):
    """n executions spread over the workflows (and none), 0–200 days old, in every status; rows and some files."""
    rng = random.Random(seed)
    definition = Definition.store({"api_version": "nodeflow/v1", "nodes": [], "edges": []})
    executions, created_at = [], []
    for i in range(n):
        workflow = workflows[i % len(workflows)]
        status = STATUSES[rng.randrange(len(STATUSES))]
        created = NOW - timedelta(days=rng.uniform(0, 200))
        finished = created + timedelta(seconds=5) if status in FINAL and i % 97 else None
        created_at.append(created)
        executions.append(Execution(workflow=workflow, owner=workflow.owner if workflow else None,
                                    definition=definition, status=status, created_at=created, finished_at=finished))
    Execution.objects.bulk_create(executions, batch_size=2000)
    # created_at is auto_now_add: the intended times are written afterwards.
    for execution, created in zip(executions, created_at):
        execution.created_at = created
    Execution.objects.bulk_update(executions, ["created_at"], batch_size=2000)
    runs, events = [], []
    for execution in executions:
        for k, node in enumerate(("start", "work")):
            runs.append(NodeRun(execution=execution, node_id=node, type="flow.noop", type_version=1, status="completed"))
            events.append(ExecutionEvent(execution=execution, seq=k + 1, type="LOG", ts=NOW))
    NodeRun.objects.bulk_create(runs, batch_size=5000)
    ExecutionEvent.objects.bulk_create(events, batch_size=5000)
    for execution in executions[::40]:
        outputs.store_if_large(execution.pk, "work", {"text": "x" * 3000})
    return executions


def _expected_survivors(executions, policies):
    """The documented rule, computed independently of executions.retention."""
    kept = set()
    by_workflow = {}
    for execution in executions:
        by_workflow.setdefault(execution.workflow_id, []).append(execution)
    for workflow_id, group in by_workflow.items():
        policy = policies.get(workflow_id, policies["default"])
        ended = sorted((e for e in group if e.status in (S.SUCCEEDED, S.CANCELLED)),
                       key=lambda e: (e.created_at, e.pk), reverse=True)
        beyond_count = set()
        if policy["count"] and workflow_id is not None:
            beyond_count = {e.pk for e in ended[policy["count"]:]}
        for e in group:
            when = e.finished_at or e.created_at
            if e.status not in FINAL:
                kept.add(e.pk)
            elif e.status in (S.FAILED, S.TIMED_OUT):
                if not (policy["failed_days"] and when < NOW - timedelta(days=policy["failed_days"])):
                    kept.add(e.pk)
            elif not ((policy["days"] and when < NOW - timedelta(days=policy["days"])) or e.pk in beyond_count):
                kept.add(e.pk)
    return kept


def _files(storage):
    folder = storage / "outputs"
    return {path.parent.name for path in folder.glob("*/*.json")} if folder.exists() else set()


def test_pruning_10000_old_executions_removes_exactly_what_the_policies_say(storage, alice, monkeypatch):
    plain = _workflow(alice, "plain")
    short = _workflow(alice, "short", {"days": 7, "count": 100})
    forever = _workflow(alice, "forever", {"days": 0, "failed_days": 0})
    failed_long = _workflow(alice, "failed long", {"failed_days": 150, "count": 20})
    executions = _old_executions(10_000, [None, plain, short, forever, failed_long])
    default = {"days": 30, "failed_days": 90, "count": None}
    policies = {"default": default, short.pk: {**default, "days": 7, "count": 100},
                forever.pk: {"days": None, "failed_days": None, "count": None},
                failed_long.pk: {**default, "failed_days": 150, "count": 20}}
    survivors = _expected_survivors(executions, policies)
    doomed = {e.pk for e in executions} - survivors
    assert 3000 < len(doomed) < 9000  # the data exercise every rule
    files_before = _files(storage)
    kept_files = {str(pk) for pk in survivors} & files_before
    assert kept_files and files_before - kept_files

    # The dry run counts exactly what will go, and removes nothing.
    plan = prune_executions(dry_run=True, now=NOW)
    assert plan.counts == {"executions": len(doomed), "node_runs": 2 * len(doomed), "events": 2 * len(doomed),
                           "files": len(files_before - kept_files)}
    assert Execution.objects.count() == 10_000 and _files(storage) == files_before

    batches = []
    delete = retention.delete_executions
    monkeypatch.setattr(retention, "delete_executions", lambda ids, report: batches.append(len(ids)) or delete(ids, report))
    report = prune_executions(now=NOW, batch=500)

    assert set(Execution.objects.values_list("pk", flat=True)) == survivors
    assert NodeRun.objects.count() == 2 * len(survivors) and ExecutionEvent.objects.count() == 2 * len(survivors)
    assert set(NodeRun.objects.values_list("execution_id", flat=True)) == survivors
    assert _files(storage) == kept_files
    assert report.counts == plan.counts
    assert max(batches) <= 500 and len(batches) >= len(doomed) // 500
    # A second round finds nothing more.
    assert prune_executions(now=NOW).counts == dict.fromkeys(retention.PRUNED_KINDS, 0)


def test_a_locked_execution_is_left_for_the_next_round(storage, transactional_db, alice):
    """A transition holding an execution (a retry starting) is skipped, not waited for, and pruned later."""
    import threading

    from django.db import connection, transaction

    executions = _old_executions(3, [None])
    Execution.objects.update(status=S.SUCCEEDED, finished_at=NOW - timedelta(days=100))
    held = executions[0].pk
    locked, release = threading.Event(), threading.Event()

    def hold():
        with transaction.atomic():
            Execution.objects.select_for_update().get(pk=held)
            locked.set()
            release.wait(30)
        connection.close()

    thread = threading.Thread(target=hold)
    thread.start()
    assert locked.wait(10)
    try:
        report = prune_executions(now=NOW)
    finally:
        release.set()
        thread.join()
    assert report.counts["executions"] == 2
    assert list(Execution.objects.values_list("pk", flat=True)) == [held]
    assert prune_executions(now=NOW).counts["executions"] == 1


def test_orphan_output_folders_are_swept(storage):
    outputs.store_if_large("0b0b0b0b-0000-4000-8000-000000000000", "work", {"text": "x" * 3000})
    assert prune_executions(now=NOW).counts["files"] == 1
    assert _files(storage) == set()


def test_nodeflow_prune_command_says_what_would_go_and_removes_it(storage, alice):
    workflow = _workflow(alice, "nightly import", {"count": 2})
    _old_executions(6, [workflow])
    Execution.objects.update(status=S.SUCCEEDED, finished_at=NOW - timedelta(days=1))
    out = io.StringIO()
    call_command("nodeflow", "prune", "--dry-run", stdout=out)
    assert "would remove 4 executions, 8 node runs, 8 events" in out.getvalue()
    assert "nightly import" in out.getvalue() and "beyond the newest 2" in out.getvalue()
    assert Execution.objects.count() == 6
    out = io.StringIO()
    call_command("nodeflow", "prune", stdout=out)
    assert out.getvalue().startswith("removed 4 executions")
    assert Execution.objects.count() == 2


def test_an_invalid_retention_in_a_draft_falls_back_to_the_defaults(storage, alice):
    workflow = _workflow(alice, "draft", {"days": "soon", "count": -1, "failed_days": None})
    _old_executions(4, [workflow])
    Execution.objects.update(status=S.SUCCEEDED, finished_at=NOW - timedelta(days=31))
    assert prune_executions(now=NOW).counts["executions"] == 4


def test_metrics_count_what_was_pruned(storage, client, settings, django_user_model):
    settings.NODEFLOW = {**settings.NODEFLOW, "METRICS_PUBLIC": True}
    from django.core.cache import cache

    cache.delete_many([retention.PRUNED_KEY.format(kind) for kind in retention.PRUNED_KINDS])
    _old_executions(3, [None])
    Execution.objects.update(status=S.SUCCEEDED, finished_at=NOW - timedelta(days=31))
    prune_executions(now=NOW)
    text = client.get("/metrics").content.decode()
    assert 'nodeflow_pruned_total{kind="executions"} 3.0' in text
    assert 'nodeflow_pruned_total{kind="node_runs"} 6.0' in text


@pytest.mark.slow
def test_in_embedded_mode_pruning_compacts_the_sqlite_file(tmp_path):
    """SQLite keeps deleted rows' pages; the prune VACUUMs the file when enough of it is free."""
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    env = {key: value for key, value in os.environ.items() if key not in ("REDIS_URL", "DATABASE_URL")}
    env.update(DJANGO_SETTINGS_MODULE="nodeflow.settings", NODEFLOW_DATA_DIR=str(tmp_path), PYTHONDONTWRITEBYTECODE="1")
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=300)
    fill = (
        "from datetime import timedelta; from django.utils import timezone; "
        "from executions.models import Definition, Execution; "
        "d = Definition.store({'api_version': 'nodeflow/v1', 'nodes': [], 'edges': []}); "
        "old = timezone.now() - timedelta(days=100); "
        "Execution.objects.bulk_create([Execution(definition=d, status='succeeded', finished_at=old, "
        "input={'pad': 'x' * 20000}) for _ in range(500)])"
    )
    subprocess.run([*manage, "shell", "-c", fill], cwd=ROOT, env=env, check=True, timeout=120)
    database = tmp_path / "nodeflow.sqlite3"
    before = database.stat().st_size
    done = subprocess.run([*manage, "nodeflow", "prune"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("removed 500 executions")
    assert "SQLite file compacted (VACUUM)" in done.stdout
    assert database.stat().st_size < before / 4
