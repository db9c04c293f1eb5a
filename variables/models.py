"""Global variables (COMPOSITION.md "Variables beyond one run"): one row per owner and key, the
history of its changes, and the trigger.variable nodes of published workflows that watch them."""

from django.conf import settings
from django.db import models


class Variable(models.Model):
    """One global variable of one owner: a JSON value and the version every write increments."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="variables")
    key = models.CharField(max_length=128)
    value = models.JSONField(null=True, blank=True)
    version = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["key"]
        constraints = [models.UniqueConstraint(fields=["owner", "key"], name="unique_variable_key")]

    def __str__(self):
        return f"{self.key} (v{self.version})"


class VariableChange(models.Model):
    """One write of a global variable: who (an execution's node, or a user through the API), when,
    the value before and after. Kept NODEFLOW_VARIABLE_HISTORY_DAYS.

    `triggers` is the outbox of trigger.variable: a change that altered the value is written
    `pending` in the transaction of the write, and becomes `done` in the transaction that starts
    its executions (workflows.variable_triggers), so a committed change starts them exactly once,
    also when the process dies in between (beat's sweep finds it)."""

    NONE, PENDING, DONE = "none", "pending", "done"
    TRIGGERS = [(NONE, "nothing to start"), (PENDING, "executions to start"), (DONE, "executions started")]

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=128)
    op = models.CharField(max_length=16)
    old = models.JSONField(null=True, blank=True)
    new = models.JSONField(null=True, blank=True)
    old_version = models.PositiveBigIntegerField(default=0)
    new_version = models.PositiveBigIntegerField(default=0)  # 0: the write deleted the key
    execution_id = models.UUIDField(null=True, blank=True)
    node_id = models.CharField(max_length=64, blank=True, default="")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    triggers = models.CharField(max_length=8, choices=TRIGGERS, default=NONE)
    started = models.JSONField(default=list, blank=True)  # ids of the executions it started
    trigger_error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["owner", "key", "-at"], name="variable_change_key"),
            models.Index(fields=["at"], name="variable_change_at"),
            models.Index(fields=["at"], condition=models.Q(triggers="pending"), name="variable_change_pending"),
        ]

    def __str__(self):
        return f"{self.key} v{self.old_version}→v{self.new_version}"


class VariableTrigger(models.Model):
    """A trigger.variable node of a published workflow: the key (or `prefix*`) it watches.
    Written when the workflow is published (triggers.services), gone with its publication."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    workflow = models.ForeignKey("workflows.Workflow", on_delete=models.CASCADE, related_name="variable_triggers")
    node_id = models.CharField(max_length=64)
    pattern = models.CharField(max_length=130)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workflow", "node_id"], name="unique_variable_trigger")]
        indexes = [models.Index(fields=["owner"], name="variable_trigger_owner")]

    def __str__(self):
        return f"{self.pattern} → {self.workflow_id}:{self.node_id}"


class VariableRun(models.Model):
    """An execution a variable change started, with how many variable-triggered executions lead
    to it: a chain longer than NODEFLOW_MAX_CALL_DEPTH stops with an error on the change."""

    execution_id = models.UUIDField(primary_key=True)
    depth = models.PositiveSmallIntegerField()
    change = models.ForeignKey(VariableChange, null=True, on_delete=models.SET_NULL, related_name="+")
