"""`nodeflow bench`: start worker processes on the production setup, run the scenarios, print one table."""

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.db import connection

from bench.scenarios import SCENARIOS
from bench.support import ROOT, environment
from nodeflow.celery import app


class BenchError(RuntimeError):
    """The benchmark cannot run here (no production setup, workers that do not start…)."""


def _check_setup():
    if connection.vendor != "postgresql" or not settings.REDIS_URL:
        raise BenchError(
            "the benchmark runs against the production setup: set DATABASE_URL=postgres://… and REDIS_URL=redis://… "
            "(e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/nodeflow_bench REDIS_URL=redis://127.0.0.1:6379/0)"
        )


class Context:
    """What scenarios share: the environment of the processes the bench starts, its worker, and the output."""

    def __init__(self, env, worker_pid, out):
        self.env = env
        self.worker_pid = worker_pid
        self.out = out
        self.notes = []

    def note(self, text):
        """Say something about the run (a step skipped, and why): printed now, and kept in the report."""
        self.notes.append(text)
        self.out.write(text + "\n")


def _start_workers(env, concurrency):
    command = [sys.executable, "-m", "celery", "-A", "nodeflow", "worker", "-P", "prefork", "-c", str(concurrency),
               "-Q", "default,http,sandbox,celery", "-n", f"bench-{uuid.uuid4().hex[:6]}@%h",
               "--without-gossip", "--without-mingle", "-l", "ERROR"]
    # Its log goes to a file: a pipe nobody reads fills up (64 KB: a few hundred of recovery's warnings,
    # when the bench's database holds runs an earlier process left queued) and then blocks the worker.
    log = tempfile.NamedTemporaryFile(prefix="nodeflow-bench-worker-", suffix=".log", delete=False)
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log,
                               start_new_session=True)
    deadline = time.monotonic() + 30
    while not app.control.ping(timeout=0.5):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            text = Path(log.name).read_text(errors="replace")[-2000:]
            raise BenchError(f"the benchmark's worker did not start; its log ({log.name}): {text}")
    return process


def _vacuum():
    """VACUUM ANALYZE the tables every run churns, so that figures do not depend on what earlier runs left
    there: where autovacuum is off or has not come round, the dead rows of finished runs slow the queries
    that look for work (recovery's scan took 62 ms instead of 1 ms on a bench database of 38,000
    executions)."""
    from executions.models import Execution, ExecutionEvent, NodeRun
    from triggers.models import AcceptedRequest

    tables = ", ".join(connection.ops.quote_name(model._meta.db_table)
                       for model in (Execution, NodeRun, ExecutionEvent, AcceptedRequest))
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {tables}")


def _leftovers():
    """What earlier runs left for workers to do in this database, in words ("" when nothing)."""
    from executions.models import NodeRun
    from triggers.models import AcceptedRequest

    accepted = AcceptedRequest.objects.count()
    queued = NodeRun.objects.filter(status__in=["queued", "retrying"],
                                    execution__status__in=["queued", "running"]).count()
    parts = [f"{accepted} accepted webhook requests not started"] if accepted else []
    parts += [f"{queued} queued node runs"] if queued else []
    return " and ".join(parts)


def run(quick=False, json_path=None, only=None, out=sys.stdout):
    _check_setup()
    unknown = set(only or ()) - set(SCENARIOS)
    if unknown:
        raise BenchError(f"unknown scenarios {', '.join(sorted(unknown))}; there are {', '.join(SCENARIOS)}")
    call_command("migrate", interactive=False, verbosity=0)
    _vacuum()
    leftovers = _leftovers()
    prefix = f"nodeflow-bench-{uuid.uuid4().hex[:8]}:"
    app.conf.broker_transport_options = {"global_keyprefix": prefix}
    app.conf.result_backend = settings.REDIS_URL
    app.conf.task_default_queue = "default"
    env = environment(prefix)
    worker = _start_workers(env, concurrency=2)
    context = Context(env, worker.pid, out)
    if leftovers:
        context.note(f"the database holds {leftovers} left by earlier runs: the workers take them up during the "
                     "scenarios, whose figures include that work (start on a new database to leave it out)")
    rows = []
    started = time.monotonic()
    try:
        for name, scenario in SCENARIOS.items():
            if only and name not in only:
                continue
            result = scenario(quick, context)
            for row in result if isinstance(result, list) else [result]:
                rows.append(row)
                _print_row(row, out)
    finally:
        os.killpg(worker.pid, 15)
        worker.wait(timeout=30)
    report = {
        "ran_at": datetime.now(timezone.utc).isoformat(),
        "quick": quick,
        "seconds": round(time.monotonic() - started, 1),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "rows": rows,
        "notes": context.notes,
    }
    if rows:
        out.write("\n" + table(rows) + "\n")
        for text in context.notes:  # again under the table, where a long run's reader looks
            out.write(text + "\n")
    if json_path:
        Path(json_path).write_text(json.dumps(report, indent=2, default=str).replace("NaN", "null"))
    return report


def _print_row(row, out):
    out.write(f"{row['id']}: {row['nodeflow']:.3f} {row['unit']} (baseline {row['baseline']:.3f})\n")


def table(rows):
    lines = ["| id | scenario | NodeFlow | baseline | ratio | target |", "|---|---|---|---|---|---|"]
    for row in rows:
        has_baseline = row["baseline"] == row["baseline"] and row["baseline"]  # not NaN, not 0
        ratio = f"{row['nodeflow'] / row['baseline']:.2f}×" if has_baseline else "—"
        nodeflow = f"{row['nodeflow']:.2f} {row['unit']}"
        baseline = f"{row['baseline']:.2f} {row['unit']}" if has_baseline else "—"
        tail = "p99" if "nodeflow_p99" in row else "p95"  # the row's own tail percentile
        if f"nodeflow_{tail}" in row:
            nodeflow += f" ({tail} {row[f'nodeflow_{tail}']:.2f})"
            if has_baseline and f"baseline_{tail}" in row:
                baseline += f" ({tail} {row[f'baseline_{tail}']:.2f})"
        lines.append(f"| {row['id']} | {row['scenario']} | {nodeflow} | {baseline} | {ratio} | {row['target']} |")
    return "\n".join(lines)
