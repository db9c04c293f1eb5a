"""Large node outputs: stored once outside the row (Django's storage API), referenced with a preview."""

import json

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

REF_KEY = "$nodeflow_output"
PREVIEW_CHARS = 2000


def inline_limit():
    return settings.NODEFLOW["OUTPUT_INLINE_MAX_BYTES"]


def store_if_large(execution_id, name, value):
    """The value to keep in a node run's row: the value itself, or a reference to where it is stored.

    `name` says what it is within the execution, e.g. "fetch-1" (an output) or "fetch-1-input"."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    if len(text) <= inline_limit():
        return value
    name = default_storage.save(f"outputs/{execution_id}/{name}.json", ContentFile(text.encode()))
    return {REF_KEY: name, "size": len(text.encode()), "preview": text[:PREVIEW_CHARS]}


def is_reference(value):
    return isinstance(value, dict) and REF_KEY in value


def resolve(value):
    """The full output behind a stored value (the value itself when it is not a reference)."""
    if not is_reference(value):
        return value
    with default_storage.open(value[REF_KEY]) as handle:
        return json.loads(handle.read())
