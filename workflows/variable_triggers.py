"""What a committed change of a global variable does: start one execution of each published
workflow whose trigger.variable watches its key, with `{key, old, new, execution_id, node_id}`.

The change row is the outbox (variables.models.VariableChange.triggers): written `pending` with
the write, it is taken with a row lock (SKIP LOCKED: two takers never both start it) and marked
`done` in the transaction that creates its executions, so each committed change starts them
exactly once. Creating an execution needs the database only: its first node is sent after the
commit, and when the broker is down executions.recovery sends it later. Right after the commit
the writer's process takes its changes (variables.services.changes_committed); beat's sweep takes
those whose process died first.

A chain of variable-triggered executions (one writes what starts the next) stops at
NODEFLOW_MAX_CALL_DEPTH: the change that would go deeper starts nothing and says why."""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from engine.globals import matches
from executions.starting import InvalidInput, run_workflow
from executions.tasks import dispatcher
from nodes.validation import InvalidWorkflow
from triggers.services import VARIABLE, trigger_node
from variables.models import VariableChange, VariableRun, VariableTrigger

logger = logging.getLogger("nodeflow.triggers")

# Changes taken per transaction; and how old a pending change must be before the sweep takes it
# (younger ones are being taken by their writer's process right now).
BATCH = 100
SWEEP_AFTER_S = 5


def max_depth():
    return settings.NODEFLOW["MAX_CALL_DEPTH"]


def on_changes_committed(sender, change_ids, **kwargs):
    """variables.services.changes_committed's receiver: start what the changes trigger, now."""
    for start in range(0, len(change_ids), BATCH):
        fire_changes(change_ids[start:start + BATCH])


def sweep(now=None):
    """Beat's round: pending changes older than SWEEP_AFTER_S, in batches; returns how many were taken."""
    cutoff = (now or timezone.now()) - timedelta(seconds=SWEEP_AFTER_S)
    taken = 0
    while True:
        ids = list(VariableChange.objects.filter(triggers=VariableChange.PENDING, at__lt=cutoff)
                   .order_by("at", "id").values_list("id", flat=True)[:BATCH])
        if not ids:
            return taken
        count = fire_changes(ids)
        taken += count
        if not count:  # all locked by another taker
            return taken


def fire_changes(change_ids):
    """Start the executions of the pending changes among `change_ids` that no one else holds; returns
    how many changes were taken."""
    with transaction.atomic():
        changes = list(VariableChange.objects.select_for_update(skip_locked=True)
                       .filter(pk__in=change_ids, triggers=VariableChange.PENDING).order_by("at", "id"))
        if not changes:
            return 0
        owners = {change.owner_id for change in changes}
        watchers = list(VariableTrigger.objects.filter(owner_id__in=owners)
                        .select_related("workflow__published_version", "workflow__owner"))
        writers = {change.execution_id for change in changes if change.execution_id}
        depths = dict(VariableRun.objects.filter(execution_id__in=writers).values_list("execution_id", "depth"))
        for change in changes:
            _fire(change, [w for w in watchers if w.owner_id == change.owner_id and matches(w.pattern, change.key)],
                  depths.get(change.execution_id, 0))
        VariableChange.objects.bulk_update(changes, ["triggers", "started", "trigger_error"])
    return len(changes)


def _fire(change, watchers, writer_depth):
    change.triggers = VariableChange.DONE
    depth = writer_depth + 1
    if watchers and depth > max_depth():
        change.trigger_error = (
            f"not started: this change was written by the {writer_depth}th execution of a chain of variable-"
            f"triggered executions, and chains stop at NODEFLOW_MAX_CALL_DEPTH ({max_depth()})")
        logger.warning("variable %s of owner %s: %s", change.key, change.owner_id, change.trigger_error)
        return
    problems = []
    for watcher in watchers:
        workflow = watcher.workflow
        version = workflow.published_version
        if version is None or trigger_node(version.definition, VARIABLE, watcher.node_id) is None:
            continue  # unpublished since; its rows go with the next publish
        input_data = {"key": change.key, "old": change.old, "new": change.new,
                      "execution_id": str(change.execution_id) if change.execution_id else None,
                      "node_id": change.node_id or None}
        try:
            execution = run_workflow(workflow, dispatcher=dispatcher, input_data=input_data, version="published",
                                     trigger="variable", trigger_node=watcher.node_id)
        except (InvalidInput, InvalidWorkflow) as exc:
            problems.append(f"workflow {workflow.pk}: {exc}")
            continue
        VariableRun.objects.create(execution_id=execution.pk, depth=depth, change=change)
        change.started = [*change.started, str(execution.pk)]
    change.trigger_error = "; ".join(problems)
