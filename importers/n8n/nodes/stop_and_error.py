"""Stop and Error → flow.fail."""

import json

from importers.n8n.nodes import Translation

N8N_TYPES = ("n8n-nodes-base.stopAndError",)
VERSIONS = (1, 1)


def translate(node, ctx):
    params = node.get("parameters") or {}
    notes = []
    if params.get("errorType") == "errorObject":
        message = params.get("errorObject", "{}")
        if not (isinstance(message, str) and message.startswith("=")):
            message = message if isinstance(message, str) else json.dumps(message)
        notes.append("the error object becomes the failure message (its JSON text)")
    else:
        message = params.get("errorMessage", "")
    return Translation("flow.fail", {"message": ctx.value(message, "errorMessage") or "Stopped"}, notes)
