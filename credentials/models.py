"""Stored credentials: a user's secrets for nodes, encrypted at rest (nodeflow.crypto)."""

import uuid

from django.conf import settings
from django.db import models

from credentials.types import TYPES


class Credential(models.Model):
    """One credential of one user. `ciphertext` is the JSON of its fields, encrypted; the
    names of the fields that are set are kept in clear so lists need no decryption."""

    Type = models.TextChoices("Type", [(name, t.title) for name, t in TYPES.items()])

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="credentials")
    name = models.CharField(max_length=200)
    type = models.CharField(max_length=40, choices=Type.choices)
    ciphertext = models.TextField(editable=False)
    fields_set = models.JSONField(default=list, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "created_at"]
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="unique_credential_name")]
        indexes = [models.Index(fields=["owner", "name"])]

    def __str__(self):
        return f"{self.name} ({self.type})"
