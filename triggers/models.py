"""Webhook endpoints, trigger secrets and idempotency keys.

Schedules need no model of their own: each schedule node of a published version is one
django-celery-beat PeriodicTask named `nodeflow:schedule:<workflow id>:<node id>`."""

import secrets
import uuid

from django.db import models
from django.utils import timezone


def new_token():
    return secrets.token_urlsafe(32)


class WebhookEndpoint(models.Model):
    """The URL of one trigger.webhook node of a workflow: /hooks/<token> (published) and /hooks/test/<token> (draft).

    The token is made when a draft with the node is first saved and stays while a node of
    that id is in the draft or the published version."""

    workflow = models.ForeignKey("workflows.Workflow", on_delete=models.CASCADE, related_name="webhook_endpoints")
    node_id = models.CharField(max_length=64)
    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    # The test URL runs the draft until then (POST /api/v1/workflows/{id}/listen/).
    listening_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workflow", "node_id"], name="unique_webhook_node")]

    def __str__(self):
        return f"{self.workflow_id}:{self.node_id}"

    def listening(self, now=None):
        return self.listening_until is not None and self.listening_until > (now or timezone.now())


class TriggerSecret(models.Model):
    """A trigger's secret, encrypted (nodeflow.crypto). Documents hold `nodeflow-secret:<id>` in its place.

    Rows are never changed: a new secret is a new row, so a published version keeps
    verifying with the secret it was published with while the draft moves on."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workflow = models.ForeignKey("workflows.Workflow", on_delete=models.CASCADE, related_name="trigger_secrets")
    ciphertext = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"secret {self.id}"


class IdempotencyKey(models.Model):
    """An `Idempotency-Key` a webhook URL received, and the execution its first request started.

    The unique constraint makes two concurrent requests with one key start one execution."""

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="idempotency_keys")
    key = models.CharField(max_length=255)
    execution = models.ForeignKey("executions.Execution", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["endpoint", "key"], name="unique_idempotency_key")]

    def __str__(self):
        return self.key


class AcceptedRequest(models.Model):
    """A webhook request the door (triggers.door) accepted and answered 202, not yet an execution.

    Written before the 202 and turned into the execution of the same id by a worker
    (triggers.accepted.start_accepted), which deletes it in the transaction that creates the
    execution: a row here is an accepted request whose execution does not exist yet, so a
    crash of every process loses none and recovery starts each one once."""

    # The id the 202 answered: the execution is created with it.
    id = models.UUIDField(primary_key=True, editable=False)
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="+")
    # The published version the request was accepted for (a later publish does not change what it runs).
    version = models.PositiveIntegerField()
    input = models.JSONField()
    received_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self):
        return f"accepted {self.id}"
