"""Webhook (path, method, auth none or header) → trigger.webhook."""

from importers.n8n.nodes import NotTranslated, Translation

N8N_TYPES = ("n8n-nodes-base.webhook",)
VERSIONS = (1, 2.1)
_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}


def translate(node, ctx):
    params = node.get("parameters") or {}
    method = str(params.get("httpMethod", "GET")).upper()
    if method not in _METHODS:
        raise NotTranslated(f"webhooks answering {method}")
    notes = [f"n8n's path {params.get('path', '')!r} becomes NodeFlow's generated URL (see the workflow's triggers)"]
    out = {"methods": [method], "auth": "none"}
    auth = params.get("authentication", "none")
    if auth == "headerAuth":
        out["auth"] = "header"
        notes.append("header auth: n8n's credential (header name and value) is not exported; set header_name and "
                     "the secret")
    elif auth != "none":
        raise NotTranslated(f"webhook authentication {auth!r} (NodeFlow has none, header or hmac)")
    mode = params.get("responseMode", "onReceived")
    if mode in ("responseNode", "lastNode"):
        out["response"] = "sync"
        if mode == "lastNode":
            ctx.importer.answer_with_last_node(ctx.node_id)
    code = (params.get("options") or {}).get("responseCode")
    if isinstance(code, int):
        out["response_status"] = code
    return Translation("trigger.webhook", out, notes)
