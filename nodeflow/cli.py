"""`nodeflow run FILE.json`: run a document inline or on Celery, print the result and a node table;
`nodeflow prune [--dry-run]`: retention now."""

import json
import time

from engine.states import EXECUTION_FINAL, ExecutionStatus
from workflows.services import with_node_versions
from nodes.validation import validate_document


def run_document(document, input_data, *, inline, timeout, out):
    document = with_node_versions(document)
    errors = validate_document(document)
    if errors:
        for error in errors:
            out.write(f"{error['code']}: {error['message']}\n")
        return 2
    if inline:
        from executions.inline import run_inline

        execution = run_inline(document, input_data=input_data, trigger="manual")
    else:
        from executions.starting import start_execution
        from executions.tasks import dispatcher

        execution = start_execution(document, dispatcher=dispatcher, input_data=input_data, trigger="manual")
        deadline = time.monotonic() + timeout
        while True:
            execution.refresh_from_db()
            if execution.status in EXECUTION_FINAL or (execution.status == ExecutionStatus.WAITING
                                                       and _waits_for_outside(execution)):
                break
            if time.monotonic() > deadline:
                out.write(f"execution {execution.pk} still {execution.status} after {timeout:.0f} s (is a worker running?)\n")
                return 3
            time.sleep(0.05)
    print_execution(execution, out)
    return 0 if execution.status == ExecutionStatus.SUCCEEDED else 1


def _waits_for_outside(execution):
    """A waiting execution waits for a timer or for input, not only for its child executions (a loop's
    items, a group, a sub-workflow call: those finish by themselves)."""
    waiting = execution.node_runs.filter(status=ExecutionStatus.WAITING)
    return waiting.exclude(wait__has_key="children").exists()


def print_execution(execution, out):
    took = f" in {execution.duration_ms:.1f} ms" if execution.duration_ms is not None else ""
    out.write(f"execution {execution.pk}: {execution.status}{took}\n")
    if execution.error:
        out.write(f"error: {execution.error.get('message')}\n")
    out.write("result: " + json.dumps(execution.result, indent=2, default=str) + "\n")
    rows = [("node", "type", "status", "attempt", "ms")]
    for run in execution.node_runs.order_by("start_seq", "id"):
        duration = f"{run.duration_ms:.1f}" if run.duration_ms is not None else "-"
        rows.append((run.node_id, f"{run.type} v{run.type_version}", run.status, str(run.attempt), duration))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        out.write("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() + "\n")


def prune(*, dry_run, out):
    """Prune finished executions past their retention now (what beat does every NODEFLOW_PRUNE_INTERVAL_S)."""
    from workflows import retention

    report = retention.prune_executions(dry_run=dry_run)
    for line in retention.describe(report):
        out.write(line + "\n")
