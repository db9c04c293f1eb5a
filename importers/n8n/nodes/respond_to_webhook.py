"""Respond to Webhook → a terminal node whose result the (now sync) webhook answers."""

import json

from importers.n8n.nodes import NotTranslated, Translation

N8N_TYPES = ("n8n-nodes-base.respondToWebhook",)
VERSIONS = (1, 1.1)


def translate(node, ctx):
    params = node.get("parameters") or {}
    respond_with = params.get("respondWith", "firstIncomingItem")
    notes = ["the webhook answers synchronously with this node's result; nodes after it are not run"]
    if respond_with in ("firstIncomingItem", "allIncomingItems"):
        if ctx.scope.current is None:
            raise NotTranslated("it responds with its input, but it has no single input node")
        result = "{{ " + ctx.scope.current + " }}"
    elif respond_with == "json":
        body = params.get("responseBody", "")
        if isinstance(body, str) and not body.startswith("="):
            try:
                body = json.loads(body)
            except ValueError:
                pass
        result = ctx.value(body, "responseBody")
    elif respond_with == "text":
        result = ctx.value(params.get("responseBody", ""), "responseBody")
    elif respond_with == "noData":
        result = None
    else:
        raise NotTranslated(f"responding with {respond_with!r}")
    code = (params.get("options") or {}).get("responseCode")
    if code not in (None, 200):
        notes.append(f"n8n answered {code}; set the webhook trigger's response_status")
    if (params.get("options") or {}).get("responseHeaders"):
        notes.append("response headers are not imported (NodeFlow answers JSON)")
    ctx.request_sync_webhook()
    return Translation("flow.terminal", {"result": result}, notes, outputs=[[]])
