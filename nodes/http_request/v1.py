"""`http.request` version 1: one HTTP request, its answer as the node's output.

This module is what v1 means to a workflow: its parameters, how they become a request,
and how the answer becomes the output. What any version shares lives beside it:
`transport` (the pooled session, redirects hop by hop through the network guard, the
body read within its size limit and deadline), `credentials` (stored credentials and
the OAuth2 client) and `errors` (how failures are classified and told)."""

import json
import time
from urllib.parse import urlencode

import jsonschema
import requests

from engine.errors import PERMANENT, NodeError
from nodes.http_request import breaker
from nodes.http_request.credentials import apply_credential
from nodes.http_request.errors import (
    ERROR_BODY_CHARS, TRANSIENT_CLIENT_STATUSES, shown_url, size, status_error, status_text,
)
from nodes.http_request.guard import check_url
from nodes.http_request.transport import read_body, send
from nodes.registry import register_node

# Kept importable from here for tests/security, which reach the pooled session and the token
# cache through v1; new code imports them from transport and credentials.
from nodes.http_request.credentials import _oauth2_tokens  # noqa: F401
from nodes.http_request.transport import session  # noqa: F401

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD")
BODY_TYPES = ("json", "text", "form")
RESPONSE_MODES = ("auto", "json", "text")
IDEMPOTENCY_HEADER = "Idempotency-Key"

PARAMS_SCHEMA = {
    "type": "object",
    "properties": {
        "method": {"type": "string", "enum": list(METHODS), "default": "GET", "title": "Method"},
        "url": {"type": "string", "minLength": 1, "title": "URL"},
        "query": {
            "type": "object",
            "title": "Query parameters",
            "description": "Added to the URL's query; a list value repeats the key; null leaves the key out.",
            "additionalProperties": {"type": ["string", "number", "boolean", "null", "array"]},
        },
        "headers": {
            "type": "object",
            "title": "Headers",
            "description": "Request headers; null leaves the header out.",
            "additionalProperties": {"type": ["string", "number", "boolean", "null"]},
        },
        "body": {
            "title": "Body",
            "description": "An object or list is sent as JSON, a string as text (see body_type).",
        },
        "body_type": {
            "type": "string",
            "enum": list(BODY_TYPES),
            "title": "Body type",
            "description": "json, text or form (application/x-www-form-urlencoded); inferred from the body when absent.",
        },
        "timeout_s": {
            "type": "number",
            "exclusiveMinimum": 0,
            "maximum": 300,
            "default": 30,
            "title": "Timeout (s)",
            "description": "For the whole request: connecting, redirects and reading the body.",
        },
        "follow_redirects": {"type": "boolean", "default": True, "title": "Follow redirects"},
        "response": {
            "type": "string",
            "enum": list(RESPONSE_MODES),
            "default": "auto",
            "title": "Read the response as",
            "description": "auto parses JSON when the response says it is JSON, else returns text.",
        },
        "fail_on_status": {
            "type": "boolean",
            "default": True,
            "title": "Fail on 4xx/5xx",
            "description": "When false, any status is the node's output.",
        },
        "credential": {"type": "string", "title": "Credential", "description": "Id of a stored credential."},
        "circuit_breaker": breaker.PARAMS_SCHEMA,
        "idempotency_key": {
            "type": "boolean",
            "default": False,
            "title": "Send an Idempotency-Key",
            "description": "The same key for every run of one try of this node in this execution (a run again after "
                           "a lost worker sends it again), a new one for each retry: a receiver that honours "
                           "Idempotency-Key does the work once.",
        },
    },
    "required": ["url"],
    "additionalProperties": False,
}

_PARAMS_VALIDATOR = jsonschema.Draft202012Validator(PARAMS_SCHEMA)

DEFAULTS = {
    "method": "GET",
    "timeout_s": 30,
    "follow_redirects": True,
    "response": "auto",
    "fail_on_status": True,
    "idempotency_key": False,
}


# ---------------------------------------------------------------------------
# The node


@register_node(
    "http.request",
    version=1,
    title="HTTP request",
    category="http",
    queue="http",
    defaults=DEFAULTS,
    params_schema=PARAMS_SCHEMA,
    description=(
        "Sends one HTTP request and outputs {status, headers, body, url, elapsed_ms}; a JSON response is parsed. "
        "By default a 4xx or 5xx answer fails the node with the status and body in the error."
    ),
)
def http_request(call):
    try:
        return _request(call, call.params)
    except NodeError as error:
        call.log(f"failed ({error.code or error.error_class}): {error.message}", level="error")
        raise


def _request(call, params):
    _check_params(params)
    method = params["method"]
    url = params["url"].strip()
    check_url(url)
    headers = _headers(params.get("headers"))
    if params["idempotency_key"] and not _has_header(headers, IDEMPOTENCY_HEADER.lower()):
        headers[IDEMPOTENCY_HEADER] = call.idempotency_key()
    body = _encode_body(params.get("body"), params.get("body_type"), headers)
    credential_headers = set()
    if params.get("credential"):
        credential_headers = apply_credential(params["credential"], headers, call)
    timeout_s = float(params["timeout_s"])
    circuit = breaker.settings_for(params.get("circuit_breaker"))
    breaker.before_request(url, circuit, method)
    started = time.monotonic()
    deadline = started + timeout_s
    try:
        response = send(call, method, url, _query_pairs(params.get("query")), headers, body,
                        follow=params["follow_redirects"], deadline=deadline, timeout_s=timeout_s,
                        credential_headers=credential_headers)
        with response:
            content = read_body(response, method, deadline, timeout_s)
    except NodeError as error:
        breaker.after_request(url, circuit, breaker.is_breaker_failure(error))
        raise
    finally:
        call.resources["bytes_out"] = len(body or b"")
    call.resources["bytes_in"] = len(content)
    breaker.after_request(url, circuit, response.status_code >= 500 or response.status_code in TRANSIENT_CLIENT_STATUSES)
    elapsed_ms = round((time.monotonic() - started) * 1000, 3)
    body_value = _decode_body(response, content, params["response"], call)
    call.log(f"{method} {shown_url(response.url)} -> {status_text(response)} in {elapsed_ms:.1f} ms "
             f"({size(len(content))})")
    if params["fail_on_status"] and response.status_code >= 400:
        raise status_error(method, response, body_value)
    return {
        "status": response.status_code,
        "headers": {name.lower(): value for name, value in response.headers.items()},
        "body": body_value,
        "url": response.url,
        "elapsed_ms": elapsed_ms,
    }


def _check_params(params):
    """The rendered params against the schema (expressions may have produced anything)."""
    if isinstance(params.get("method"), str):
        params["method"] = params["method"].upper()
    error = jsonschema.exceptions.best_match(_PARAMS_VALIDATOR.iter_errors(params))
    if error is not None:
        where = ".".join(str(p) for p in error.absolute_path)
        where = f"params.{where}" if where else "params"
        raise NodeError(f"{where}: {error.message}", PERMANENT, code="http.invalid_params")


# -- building the request


def _scalar_text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _query_pairs(query):
    pairs = []
    for key, value in (query or {}).items():
        for item in value if isinstance(value, list) else [value]:
            if item is None:
                continue
            if isinstance(item, (dict, list)):
                raise NodeError(f"query parameter {key!r} holds an object; use text, numbers or a list of them",
                                PERMANENT, code="http.invalid_params")
            pairs.append((key, _scalar_text(item)))
    return pairs


def _headers(headers):
    return {name: _scalar_text(value) for name, value in (headers or {}).items() if value is not None}


def _has_header(headers, name):
    return any(key.lower() == name for key in headers)


def _encode_body(body, body_type, headers):
    """Bytes to send (None for no body); sets Content-Type unless the headers already have one."""
    if body is None:
        return None
    if body_type is None:
        body_type = "text" if isinstance(body, str) else "json"
    if body_type == "json":
        if isinstance(body, str):
            try:
                json.loads(body)
            except ValueError as exc:
                raise NodeError(f"body_type is json but the body is not valid JSON text: {exc}",
                                PERMANENT, code="http.invalid_body") from None
            data, content_type = body, "application/json"
        else:
            data, content_type = json.dumps(body, ensure_ascii=False), "application/json"
    elif body_type == "form":
        if isinstance(body, str):
            data = body  # already encoded: a=1&b=2
        elif isinstance(body, dict):
            data = urlencode(_form_pairs(body))
        else:
            raise NodeError("body_type is form but the body is not an object of fields", PERMANENT,
                            code="http.invalid_body")
        content_type = "application/x-www-form-urlencoded"
    else:
        data = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
        content_type = "text/plain; charset=utf-8"
    if not _has_header(headers, "content-type"):
        headers["Content-Type"] = content_type
    return data.encode("utf-8")


def _form_pairs(fields):
    pairs = []
    for key, value in fields.items():
        for item in value if isinstance(value, list) else [value]:
            if item is None:
                continue
            if isinstance(item, (dict, list)):
                raise NodeError(f"form field {key!r} holds an object; a form carries text, numbers or lists of them",
                                PERMANENT, code="http.invalid_body")
            pairs.append((key, _scalar_text(item)))
    return pairs



# -- reading the answer


def _media_type(response):
    return response.headers.get("content-type", "").split(";")[0].strip().lower()


def _is_json_type(media_type):
    return media_type == "application/json" or media_type.endswith("+json")


def _text(response, content):
    # Without a charset, UTF-8 (what JSON and nearly every API uses), not HTTP/1.1's old Latin-1.
    encoding = "utf-8"
    if "charset=" in response.headers.get("content-type", "").lower():
        encoding = requests.utils.get_encoding_from_headers(response.headers) or "utf-8"
    try:
        return content.decode(encoding, errors="replace")
    except LookupError:
        return content.decode("utf-8", errors="replace")


def _decode_body(response, content, mode, call):
    if mode == "text":
        return _text(response, content)
    if not content:
        return None
    if mode == "json":
        try:
            return json.loads(_text(response, content))
        except ValueError as exc:
            raise NodeError(
                f"the response of {shown_url(response.url)} is not JSON ({exc}; content type "
                f"{_media_type(response) or 'none'}); set response to text or auto to read it as text",
                PERMANENT,
                code="http.invalid_json",
                details={"status": response.status_code, "body": _text(response, content)[:ERROR_BODY_CHARS]},
            ) from None
    text = _text(response, content)
    if _is_json_type(_media_type(response)):
        try:
            return json.loads(text)
        except ValueError as exc:
            call.log(f"the response says it is JSON but is not ({exc}); returned as text", level="warning")
    return text
