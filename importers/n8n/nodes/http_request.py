"""HTTP Request v1–v4 (method, URL, query, headers, JSON/form/raw bodies, timeout) → http.request.

n8n's `$json` of this node is the response body, which is `output.body` here."""

import json

from importers.n8n.nodes import NotTranslated, Translation, option, pairs

N8N_TYPES = ("n8n-nodes-base.httpRequest",)
VERSIONS = (1, 4.2)
JSON_PATH = "body"


def _json_param(ctx, value, where):
    """A JSON text parameter (`jsonBody`, `bodyParametersJson`…) as an object, or the rewritten text."""
    if isinstance(value, (dict, list)):
        return ctx.value(value, where)
    if isinstance(value, str) and not value.startswith("="):
        try:
            return ctx.value(json.loads(value), where)
        except ValueError as exc:
            # Kept as text with body_type json: the node then fails when it runs, as n8n's does
            # ("JSON parameter needs to be valid JSON"), and takes its error route if it has one.
            ctx.notes.append(f"{where} is not valid JSON ({exc}): the node fails when it runs, as in n8n")
            ctx.report.warn(f"{ctx.node['name']}: {where} is not valid JSON; the node fails until it is fixed")
    if isinstance(value, str) and value.startswith("="):
        text = value[1:].strip()
        if text.startswith("{{") and text.endswith("}}") and text.count("{{") == 1:
            return ctx.value(value, where)
        raise NotTranslated(f"{where} is JSON text with expressions inside (n8n builds it as text, then parses it)")
    return ctx.value(value, where)


def _v1(params, ctx, out, notes):
    out["method"] = params.get("requestMethod", "GET")
    json_parameters = params.get("jsonParameters", False)
    if json_parameters:
        for source, target in (("queryParametersJson", "query"), ("headerParametersJson", "headers")):
            if params.get(source):
                out[target] = _json_param(ctx, params[source], source)
        if params.get("bodyParametersJson"):
            out["body"] = _json_param(ctx, params["bodyParametersJson"], "bodyParametersJson")
    else:
        query = pairs(ctx, option(params, "queryParametersUi", "parameter"), "queryParametersUi")
        headers = pairs(ctx, option(params, "headerParametersUi", "parameter"), "headerParametersUi")
        body = pairs(ctx, option(params, "bodyParametersUi", "parameter"), "bodyParametersUi")
        if query:
            out["query"] = query
        if headers:
            out["headers"] = headers
        if body:
            out["body"] = body
    options = params.get("options") or {}
    if options.get("bodyContentType") == "form-urlencoded":
        out["body_type"] = "form"
    elif options.get("bodyContentType") == "multipart-form-data":
        raise NotTranslated("multipart bodies")
    fmt = params.get("responseFormat", "json")
    if fmt == "file":
        raise NotTranslated("file (binary) responses")
    out["response"] = "text" if fmt == "string" else "auto"
    if options.get("fullResponse"):
        notes.append("'full response': status, headers and body are always in the output here")
    return options


def _v3(params, ctx, out, notes):
    out["method"] = params.get("method", "GET")
    if params.get("sendQuery"):
        if params.get("specifyQuery", "keypair") == "json":
            out["query"] = _json_param(ctx, params.get("jsonQuery", "{}"), "jsonQuery")
        else:
            out["query"] = pairs(ctx, option(params, "queryParameters", "parameters"), "queryParameters")
    if params.get("sendHeaders"):
        if params.get("specifyHeaders", "keypair") == "json":
            out["headers"] = _json_param(ctx, params.get("jsonHeaders", "{}"), "jsonHeaders")
        else:
            headers = pairs(ctx, option(params, "headerParameters", "parameters"), "headerParameters")
            if headers:
                out["headers"] = headers
    if params.get("sendBody"):
        content_type = params.get("contentType", "json")
        if content_type in ("json", "form-urlencoded"):
            if params.get("specifyBody", "keypair") == "json" and content_type == "json":
                out["body"] = _json_param(ctx, params.get("jsonBody", "{}"), "jsonBody")
            elif content_type == "form-urlencoded" and params.get("specifyBody") == "string":
                out["body"] = ctx.value(params.get("body", ""), "body")
            else:
                out["body"] = pairs(ctx, option(params, "bodyParameters", "parameters"), "bodyParameters")
            out["body_type"] = "json" if content_type == "json" else "form"
        elif content_type == "raw":
            out["body"] = ctx.value(params.get("body", ""), "body")
            out["body_type"] = "text"
            if params.get("rawContentType"):
                out.setdefault("headers", {})["Content-Type"] = params["rawContentType"]
        else:
            raise NotTranslated(f"{content_type} bodies")
    options = params.get("options") or {}
    response = option(options, "response", "response", default={}) or {}
    fmt = response.get("responseFormat", "autodetect")
    if fmt == "file":
        raise NotTranslated("file (binary) responses")
    out["response"] = {"json": "json", "text": "text"}.get(fmt, "auto")
    if response.get("neverError"):
        out["fail_on_status"] = False
    if response.get("fullResponse"):
        notes.append("'include response headers and status': they are always in the output here")
    if option(options, "redirect", "redirect", "followRedirects") is False:
        out["follow_redirects"] = False
    if options.get("pagination"):
        raise NotTranslated("pagination (several requests from one node)")
    if options.get("batching"):
        notes.append("batching is not imported (one request per run)")
    return options


def translate(node, ctx):
    params = node.get("parameters") or {}
    notes = []
    out = {"url": ctx.value(params.get("url", ""), "url")}
    options = _v1(params, ctx, out, notes) if ctx.type_version < 3 else _v3(params, ctx, out, notes)
    if isinstance(options.get("timeout"), (int, float)):
        out["timeout_s"] = max(float(options["timeout"]) / 1000, 0.001)
    authentication = params.get("authentication", "none")
    if authentication not in ("none", None) or node.get("credentials"):
        names = ", ".join(sorted((node.get("credentials") or {}).keys())) or authentication
        notes.append(f"credentials ({names}) are not exported by n8n: create a NodeFlow credential and set "
                     "`credential`")
        ctx.report.warn(f"{node['name']}: uses n8n credentials ({names}); set a NodeFlow credential")
    if params.get("allowUnauthorizedCerts") or options.get("allowUnauthorizedCerts"):
        notes.append("'ignore SSL issues' is not imported: certificates are checked")
    return Translation("http.request", out, notes)
