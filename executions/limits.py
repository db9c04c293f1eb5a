"""Concurrency limits and priorities: how many executions of a workflow, and of an owner, run at once.

A workflow's `settings.max_concurrent` and the server's NODEFLOW["MAX_RUNNING_PER_OWNER"] bound
the executions in progress (queued for a worker, running, paused or waiting). A run started
past a limit is created `queued` with `held` saying which limit ("workflow" or "owner") and its
trigger node left pending: nothing is sent to the broker and nothing polls for it. The
transaction that ends an execution (Transition's end hooks) releases the next held runs its
end made room for, in order of `settings.priority` (high, normal, low) and then of creation:
their trigger nodes are queued in that same transaction and sent after its commit. So the
limits hold across all workers, and a queued run costs nothing until its turn.

Admissions and releases of one owner's limited runs are serialised by a transaction-scoped
advisory lock per owner on PostgreSQL (SQLite's IMMEDIATE transactions serialise all writes
anyway); held runs are taken with SKIP LOCKED, so a held run being cancelled is passed over.

Priorities also order the broker's queues: kombu's Redis transport serves priority 0 before
3 before 6 (its priority steps), so a high run's node messages go before those of normal and
low runs waiting in the same queue. Child executions (a group, a loop's iteration) belong to
their parent's run and are never held.

A failed execution retried (services.retry_execution) goes on without admission: it was
admitted when it started."""

import hashlib

from django.conf import settings
from django.db import connection
from django.db.models import Q

from engine.states import ExecutionStatus
from executions.compiled import compiled_for
from executions.models import Execution, ExecutionEvent

E = ExecutionStatus
PRIORITIES = {"high": 0, "normal": 1, "low": 2}
PRIORITY_NAMES = {rank: name for name, rank in PRIORITIES.items()}
# Execution.priority → the message priority for kombu's Redis transport (lower is served first).
BROKER_PRIORITY = {0: 0, 1: 3, 2: 6}
IN_PROGRESS = (E.QUEUED, E.RUNNING, E.PAUSED, E.WAITING)
WORKFLOW, OWNER = "workflow", "owner"
# Held runs looked at per release: enough to find the next ones a finish made room for.
_CANDIDATES = 50


def priority_of(document_settings):
    return PRIORITIES.get((document_settings or {}).get("priority"), PRIORITIES["normal"])


def workflow_limit(document_settings):
    value = (document_settings or {}).get("max_concurrent")
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 1 else None


def owner_limit():
    return settings.NODEFLOW.get("MAX_RUNNING_PER_OWNER", 0) or None


def _limited(execution):
    return bool(execution.owner_id) and not execution.parent_id


def admit(execution, document_settings):
    """Set the new (unsaved) execution's priority; "" when it may start now, else the limit that holds it.

    Called inside the transaction that creates it: the lock taken here is held until its commit,
    so the next start of this owner counts this one."""
    execution.priority = priority_of(document_settings)
    if not _limited(execution):
        return ""
    per_workflow = workflow_limit(document_settings) if execution.workflow_id else None
    per_owner = owner_limit()
    if not (per_workflow or per_owner):
        return ""
    _lock_owner(execution.owner_id)
    if per_workflow and _in_progress(workflow_id=execution.workflow_id) >= per_workflow:
        return WORKFLOW
    if per_owner and _in_progress(owner_id=execution.owner_id) >= per_owner:
        return OWNER
    return ""


def release_after(transition):
    """An execution ended in `transition` (its end written, the transaction open): start the held
    runs its end made room for. Each gets a Transition of its own in this same transaction."""
    ended = transition.execution
    if not _limited(ended):
        return
    per_owner = owner_limit()
    if not (per_owner or workflow_limit(transition.compiled.settings)):
        return
    _lock_owner(ended.owner_id)
    held = Q(workflow_id=ended.workflow_id) if ended.workflow_id else Q(pk=None)
    if per_owner:
        held |= Q(held=OWNER)
    candidates = list(
        Execution.objects.filter(held, owner_id=ended.owner_id, status=E.QUEUED, parent=None).exclude(held="")
        .order_by("priority", "created_at", "id").select_for_update(skip_locked=True)
        .only("id", "workflow_id", "definition_id", "held")[:_CANDIDATES]
    )
    if not candidates:
        return
    running_per_workflow = {}
    running_for_owner = _in_progress(owner_id=ended.owner_id) if per_owner else 0
    for candidate in candidates:
        if per_owner and running_for_owner >= per_owner:
            break
        per_workflow = workflow_limit(compiled_for(candidate.definition_id).settings)
        if per_workflow:
            if candidate.workflow_id not in running_per_workflow:
                running_per_workflow[candidate.workflow_id] = _in_progress(workflow_id=candidate.workflow_id)
            if running_per_workflow[candidate.workflow_id] >= per_workflow:
                continue
            running_per_workflow[candidate.workflow_id] += 1
        running_for_owner += 1
        _start_held(type(transition), candidate.pk, transition.dispatcher)


def _start_held(transition_class, execution_id, dispatcher):
    transition = transition_class(execution_id, dispatcher)
    execution = transition.execution
    reason = execution.held
    transition.set_execution(held="")
    transition.event(ExecutionEvent.STATE_CHANGED, status=execution.status, previous=execution.status,
                     released=reason)
    transition.queue_node(execution.trigger_node)
    transition.flush()


def _in_progress(**where):
    # Child executions run inside their parent's slot: only top-level runs count.
    return Execution.objects.filter(held="", status__in=IN_PROGRESS, parent=None, **where).count()


def _lock_owner(owner_id):
    if connection.vendor != "postgresql":
        return
    digest = hashlib.blake2b(f"nodeflow.limits.owner:{owner_id}".encode(), digest_size=8).digest()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [int.from_bytes(digest, "big", signed=True)])
