"""Large node outputs: stored once outside the row (Django's storage API), referenced with a preview.

A reference is a dict `{"$nodeflow_output": "outputs/<execution id>/<name>.json", "size",
"preview", "signature"}` kept in place of the value. Node outputs are user data (a code
node or a webhook body can return any dict), so a dict is a reference only when its
`signature` is the server's HMAC of the execution id and the file's path: a dict built by
anyone else, including one with the `$nodeflow_output` key, is plain data. A reference is
also bound to its execution: `resolve(value, execution_id)` refuses a reference made for
another execution, and only files in `outputs/<that execution's id>/` are ever opened.
"""

import hashlib
import hmac
import json
import posixpath
import re

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils.encoding import force_bytes

REF_KEY = "$nodeflow_output"
SIGNATURE_KEY = "signature"
PREVIEW_CHARS = 2000
OUTPUTS_FOLDER = _FOLDER = "outputs"  # outputs/<execution id>/<name>.json
_KEY_PURPOSE = b"nodeflow.executions.outputs.reference"
_PATH = re.compile(r"outputs/(?P<execution>[0-9a-fA-F-]{1,64})/[A-Za-z0-9_.-]{1,200}\.json")


class OutputMissing(FileNotFoundError):
    """A genuine reference whose stored file is gone (deleted by an operator or a cleanup)."""


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
    path = default_storage.save(f"{_FOLDER}/{execution_id}/{name}.json", ContentFile(text.encode()))
    return {REF_KEY: path, "size": len(text.encode()), "preview": text[:PREVIEW_CHARS],
            SIGNATURE_KEY: _signature(str(execution_id), path)}


def is_reference(value, execution_id=None):
    """Whether `value` is a reference this server made (for `execution_id`, when given)."""
    return _stored_path(value, execution_id) is not None


def resolve(value, execution_id=None):
    """The full output behind a stored value (the value itself when it is not a reference).

    With `execution_id`, a reference made for another execution is plain data too.
    Raises OutputMissing when the stored file is gone."""
    path = _stored_path(value, execution_id)
    if path is None:
        return value
    try:
        with default_storage.open(path) as handle:
            return json.loads(handle.read())
    except FileNotFoundError:
        raise OutputMissing(f"the stored output {path} is gone") from None


def _stored_path(value, execution_id):
    """The file a genuine reference points to, or None."""
    if not isinstance(value, dict):
        return None
    path, signature = value.get(REF_KEY), value.get(SIGNATURE_KEY)
    if not isinstance(path, str) or not isinstance(signature, str):
        return None
    match = _PATH.fullmatch(path)
    if match is None or posixpath.normpath(path) != path:
        return None
    owner = match["execution"]
    if execution_id is not None and owner != str(execution_id):
        return None
    if not hmac.compare_digest(signature, _signature(owner, path)):
        return None
    return path


def _signature(execution_id, path):
    """HMAC-SHA256 of the execution id and the path, keyed by a key derived from SECRET_KEY."""
    key = hmac.new(force_bytes(settings.SECRET_KEY), _KEY_PURPOSE, hashlib.sha256).digest()
    return hmac.new(key, f"{execution_id}\n{path}".encode(), hashlib.sha256).hexdigest()
