"""Workflows: an editable draft document and its immutable published versions."""

import uuid

from django.conf import settings
from django.db import models


class Workflow(models.Model):
    """A user's workflow: the draft document (FORMAT.md) and which version is published."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="workflows")
    name = models.CharField(max_length=200)
    definition = models.JSONField()
    # Bumped on every save of the draft; executions of a draft record the revision they ran.
    revision = models.PositiveIntegerField(default=1)
    published_version = models.ForeignKey(
        "WorkflowVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]
        indexes = [models.Index(fields=["owner", "-updated_at"])]

    def __str__(self):
        return self.name

    @property
    def active(self):
        return self.published_version_id is not None


class WorkflowVersion(models.Model):
    """An immutable published copy of a workflow's document."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    definition = models.JSONField()
    revision = models.PositiveIntegerField(help_text="The draft revision this version was published from.")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-number"]
        constraints = [models.UniqueConstraint(fields=["workflow", "number"], name="unique_version_number")]

    def __str__(self):
        return f"{self.workflow.name} v{self.number}"
