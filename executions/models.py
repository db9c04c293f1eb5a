"""Executions, their node runs and their append-only event logs."""

import hashlib
import json
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from engine.states import ExecutionStatus, NodeStatus


def canonical_json(document):
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class Definition(models.Model):
    """A workflow document exactly as an execution ran it, stored once per distinct content."""

    sha256 = models.CharField(max_length=64, primary_key=True)
    document = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    @classmethod
    def store(cls, document):
        """The stored definition of `document` (stored now if it is new), without reading the document back."""
        definition = cls.of(document)
        if not cls.objects.filter(sha256=definition.sha256).exists():
            cls.objects.get_or_create(sha256=definition.sha256, defaults={"document": document})
        return definition

    @classmethod
    def of(cls, document):
        """The definition of `document`, as store() gives it, but not written: its writer stores it if it
        is new (executions.store.insert does, in the round trip that inserts an execution of it). Its
        `canonical` is the JSON text its digest is of."""
        canonical = canonical_json(document)
        definition = cls(sha256=hashlib.sha256(canonical.encode()).hexdigest(), document=document)
        definition._state.adding = False  # stored, or about to be (created_at is not read back)
        definition.canonical = canonical
        return definition


class Execution(models.Model):
    """One run of a workflow (or of a document from the command line)."""

    Status = models.TextChoices("Status", [(s.value, s.value) for s in ExecutionStatus])

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workflow = models.ForeignKey(
        "workflows.Workflow", null=True, blank=True, on_delete=models.CASCADE, related_name="executions"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="executions"
    )
    definition = models.ForeignKey(Definition, on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField(null=True, blank=True, help_text="Published version number, if any.")
    revision = models.PositiveIntegerField(null=True, blank=True, help_text="Draft revision, for draft runs.")
    status = models.CharField(max_length=16, choices=Status.choices, default=ExecutionStatus.QUEUED)
    trigger = models.CharField(max_length=16, default="manual")
    trigger_node = models.CharField(max_length=64, blank=True)
    input = models.JSONField(default=dict, blank=True)
    result = models.JSONField(null=True, blank=True)
    artifacts = models.JSONField(null=True, blank=True)
    error = models.JSONField(null=True, blank=True)
    # When the execution was made, not when its row was written: a sync webhook's execution runs its
    # instant nodes before its row is inserted (executing.StartHere), and a loop's child is written
    # again when it starts; created ≤ started ≤ finished holds for both.
    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Last event sequence number; the row is locked while a transition appends events.
    last_seq = models.PositiveIntegerField(default=0)
    # Concurrency limits (executions.limits): 0 high, 1 normal, 2 low; a queued execution held
    # back by a limit says which ("workflow" or "owner") until a finishing one releases it.
    priority = models.PositiveSmallIntegerField(default=1)
    held = models.CharField(max_length=16, blank=True, default="")
    # A child execution (executions.children, COMPOSITION.md): a group's run, one iteration of a
    # loop or a sub-workflow call, run for node `parent_node_id` of `parent`; `parent_index` is the
    # iteration (null for a group or a sub-workflow); `depth` counts the parents above it.
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="children")
    parent_node_id = models.CharField(max_length=64, blank=True, default="")
    parent_index = models.PositiveIntegerField(null=True, blank=True)
    depth = models.PositiveSmallIntegerField(default=0)
    # A debug run (DEBUGGING.md; engine.policy.debug_request): breakpoints, step mode, the nodes it is
    # paused before and the vars edits made while paused. Null for every other run.
    debug = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["workflow", "-created_at"]),
            models.Index(fields=["owner", "-created_at"]),
            models.Index(fields=["status"]),
            models.Index(fields=["finished_at"], name="execution_finished"),
            models.Index(fields=["priority", "created_at"], condition=~models.Q(held=""), name="execution_held"),
            # ?parent= lists a parent's children by node and index; the top-level list skips children.
            models.Index(fields=["parent", "parent_node_id", "parent_index"], name="execution_child"),
            models.Index(fields=["owner", "-created_at"], condition=models.Q(parent__isnull=True),
                         name="execution_top_level"),
            # The next child of a loop to start: the first by index not started yet.
            models.Index(fields=["parent", "parent_node_id", "parent_index"], name="execution_unstarted_child",
                         condition=models.Q(last_seq=0, status="queued")),
        ]

    def __str__(self):
        return f"execution {self.id} ({self.status})"

    @property
    def duration_ms(self):
        if self.started_at and self.finished_at:
            return round((self.finished_at - self.started_at).total_seconds() * 1000, 3)
        return None


class NodeRun(models.Model):
    """The run of one node in one execution: state, attempts, what it got and what it made."""

    Status = models.TextChoices("Status", [(s.value, s.value) for s in NodeStatus])

    execution = models.ForeignKey(Execution, on_delete=models.CASCADE, related_name="node_runs")
    node_id = models.CharField(max_length=64)
    type = models.CharField(max_length=100)
    type_version = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=NodeStatus.PENDING)
    attempt = models.PositiveIntegerField(default=0)
    attempts = models.JSONField(default=list, blank=True)
    # Join bookkeeping: incoming edges still unresolved, and how many were taken.
    inputs_remaining = models.PositiveIntegerField(default=0)
    inputs_taken = models.PositiveIntegerField(default=0)
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    start_seq = models.PositiveIntegerField(null=True, blank=True)
    finish_seq = models.PositiveIntegerField(null=True, blank=True)
    input = models.JSONField(null=True, blank=True, help_text="The resolved params.")
    output = models.JSONField(null=True, blank=True)
    ports = models.JSONField(default=list, blank=True, help_text="Output ports the run emitted.")
    error = models.JSONField(null=True, blank=True)
    logs = models.JSONField(default=list, blank=True)
    worker = models.CharField(max_length=200, blank=True)
    # The Celery task currently carrying this node run (to revoke it on cancel).
    task_id = models.CharField(max_length=64, blank=True)
    # A running node's worker renews this lease; an expired lease means the worker died.
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    # Variables: stored only where they change (see engine.context); otherwise
    # `vars_from` names the node run whose `vars_state` applies after this one.
    vars_state = models.JSONField(null=True, blank=True)
    vars_from = models.CharField(max_length=64, blank=True)
    wait = models.JSONField(null=True, blank=True, help_text="What a waiting node waits for.")
    # When recovery acts if nothing else has: a queued run not claimed by then is sent again,
    # a retry or a timer not fired by then is fired (executions.recovery). The broker's
    # messages make things happen on time; this column makes sure they happen at all.
    due_at = models.DateTimeField(null=True, blank=True)
    # What the run cost (executions.resources): cpu_ms, and for code nodes peak_memory_kb,
    # for HTTP nodes bytes_in and bytes_out.
    resources = models.JSONField(null=True, blank=True)
    # Debugging (DEBUGGING.md): the run completed with the document's pinned output without
    # running; or it was not run but reused from the node's run in execution `reused_from`.
    pinned = models.BooleanField(default=False)
    reused_from = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        ordering = ["start_seq", "id"]
        constraints = [models.UniqueConstraint(fields=["execution", "node_id"], name="unique_node_run")]
        indexes = [
            models.Index(fields=["execution", "status"]),
            models.Index(fields=["status", "lease_expires_at"]),
            models.Index(fields=["due_at"], condition=models.Q(due_at__isnull=False), name="node_run_due"),
        ]

    def __str__(self):
        return f"{self.node_id} ({self.status})"

    @property
    def duration_ms(self):
        if self.started_at and self.finished_at:
            return round((self.finished_at - self.started_at).total_seconds() * 1000, 3)
        return None


class ExecutionEvent(models.Model):
    """One entry of an execution's append-only event log; `seq` counts from 1 per execution."""

    STARTED = "EXECUTION_STARTED"
    NODE_STATE_CHANGED = "NODE_STATE_CHANGED"
    DATA_AVAILABLE = "DATA_AVAILABLE"
    LOG = "LOG"
    ERROR_OCCURRED = "ERROR_OCCURRED"
    STATE_CHANGED = "EXECUTION_STATE_CHANGED"
    COMPLETED = "EXECUTION_COMPLETED"
    VARS_EDITED = "VARS_EDITED"  # a debug run's variables changed while paused (executions.debugging)

    execution = models.ForeignKey(Execution, on_delete=models.CASCADE, related_name="events")
    seq = models.PositiveIntegerField()
    type = models.CharField(max_length=32)
    node_id = models.CharField(max_length=64, blank=True)
    ts = models.DateTimeField()
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["execution", "seq"]
        constraints = [models.UniqueConstraint(fields=["execution", "seq"], name="unique_event_seq")]

    def __str__(self):
        return f"{self.seq} {self.type} {self.node_id}"

    def as_dict(self):
        return {"seq": self.seq, "type": self.type, "node_id": self.node_id or None,
                "ts": self.ts.isoformat(), "data": self.data}
