"""`http.request` version 1: one HTTP request, its answer as the node's output.

The request goes through a pooled `requests.Session` (one per process and thread,
replaced after a fork). Redirects are followed here, hop by hop, so that every URL
the node connects to passes `guard.check_url` first, and the session's connections
go only to the addresses that check pinned (no second DNS lookup). The response body
is streamed and refused past settings.NODEFLOW["HTTP_MAX_RESPONSE_BYTES"]; `timeout_s`
bounds the whole request, redirects and body included.

`credential` names a stored credential of the execution's owner: it is decrypted here,
in the worker, applied to the request, and every secret value of it is added to
`call.secrets`, which the runtime masks in everything it stores."""

import base64
import json
import os
import socket
import ssl
import threading
import time
from http.cookiejar import DefaultCookiePolicy
from urllib.parse import urlencode, urljoin, urlsplit, urlunsplit

import jsonschema
import requests
import urllib3
from requests.cookies import RequestsCookieJar, extract_cookies_to_jar
from urllib3.exceptions import NameResolutionError, ReadTimeoutError

from engine.errors import PERMANENT, TIMEOUT, TRANSIENT, NodeError
from nodes.http_request.guard import PinnedAdapter, check_url
from nodes.registry import register_node

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD")
BODY_TYPES = ("json", "text", "form")
RESPONSE_MODES = ("auto", "json", "text")
DEFAULT_MAX_RESPONSE_BYTES = 10 * 1024 * 1024
MAX_REDIRECTS = 10
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# Statuses where trying again later can help; every other 4xx is the request's fault.
TRANSIENT_CLIENT_STATUSES = frozenset({408, 425, 429})
USER_AGENT = "NodeFlow (http.request v1)"
# How much of an error response is kept in the error's details (the message shows less).
ERROR_BODY_CHARS = 64 * 1024
_CHUNK_BYTES = 64 * 1024

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
}


# ---------------------------------------------------------------------------
# The pooled session


_sessions = threading.local()


def session():
    """This process's (and thread's) pooled session: keep-alive connections are reused across node runs."""
    pooled = getattr(_sessions, "session", None)
    if pooled is None:
        pooled = requests.Session()
        # No proxies, .netrc credentials or CA bundles picked up from the worker's
        # environment: what a request does depends on the workflow alone, and a proxy
        # would bypass the guard (it resolves and connects on our behalf).
        pooled.trust_env = False
        # Node runs of different workflows share the session: it must never keep cookies.
        pooled.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
        pooled.headers["User-Agent"] = USER_AGENT
        adapter = PinnedAdapter(pool_connections=16, pool_maxsize=16, max_retries=0)
        pooled.mount("http://", adapter)
        pooled.mount("https://", adapter)
        _sessions.session = pooled
    return pooled


def _forget_sessions():
    # A forked child (a Celery prefork worker) must not share the parent's sockets.
    global _sessions
    _sessions = threading.local()


os.register_at_fork(after_in_child=_forget_sessions)


def max_response_bytes():
    """settings.NODEFLOW["HTTP_MAX_RESPONSE_BYTES"], read at call time; the default without Django."""
    try:
        from django.conf import settings
    except ImportError:
        return DEFAULT_MAX_RESPONSE_BYTES
    if not settings.configured:
        return DEFAULT_MAX_RESPONSE_BYTES
    return int(getattr(settings, "NODEFLOW", {}).get("HTTP_MAX_RESPONSE_BYTES", DEFAULT_MAX_RESPONSE_BYTES))


def apply_credential(credential_id, headers, call):
    """Add the stored credential `credential_id` of the execution's owner to `headers`.

    Its secret values (and what is derived from them: an encoded basic-auth pair, an
    OAuth2 access token) go into `call.secrets` before anything is sent. Returns the
    names of the headers it set: they are dropped on a redirect to another origin.
    Another user's credential fails the node exactly like a missing one."""
    from credentials.services import CredentialUnavailable, credential_for_node

    try:
        credential = credential_for_node(call, credential_id)
    except CredentialUnavailable as exc:
        raise NodeError(str(exc), PERMANENT, code="http.no_credential") from None
    data = credential.data
    if credential.type == "http_header":
        added = {data["name"]: data["value"]}
    elif credential.type == "http_basic":
        pair = base64.b64encode(f"{data['username']}:{data.get('password', '')}".encode()).decode("ascii")
        call.secrets.add(pair)
        added = {"Authorization": f"Basic {pair}"}
    elif credential.type == "bearer":
        added = {"Authorization": f"Bearer {data['token']}"}
    elif credential.type == "oauth2_client_credentials":
        added = {"Authorization": f"Bearer {oauth2_token(credential, call)}"}
    elif credential.type == "generic":
        added = dict(data)
    else:
        raise NodeError(f"credential {credential_id!r} has type {credential.type!r}, which http.request cannot use",
                        PERMANENT, code="http.no_credential")
    for name, value in added.items():
        for existing in [key for key in headers if key.lower() == name.lower()]:
            del headers[existing]  # the credential wins over a header of the same name in params
        headers[name] = value
    call.log(f"credential {credential.id} ({credential.type}) applied")
    return set(added)


# -- OAuth2 client credentials (RFC 6749 §4.4)

OAUTH2_TIMEOUT_S = 30
OAUTH2_DEFAULT_LIFETIME_S = 300  # when the token endpoint does not say (expires_in)
OAUTH2_EXPIRY_MARGIN_S = 30  # a token that expires sooner than this is fetched again
OAUTH2_MAX_ANSWER_BYTES = 256 * 1024
_oauth2_tokens = {}  # (credential id, version) -> (access token, monotonic expiry): this process only
_oauth2_lock = threading.Lock()


def oauth2_token(credential, call):
    """An access token for the client-credentials credential: cached in this process until it
    nearly expires, else fetched from token_url (through the network guard, no redirects)."""
    key = (credential.id, credential.version)
    with _oauth2_lock:
        cached = _oauth2_tokens.get(key)
    if cached is not None and cached[1] - OAUTH2_EXPIRY_MARGIN_S > time.monotonic():
        call.secrets.add(cached[0])
        return cached[0]
    token, lifetime = _fetch_oauth2_token(credential.data, call)
    call.secrets.add(token)
    with _oauth2_lock:
        for stale in [k for k in _oauth2_tokens if k[0] == credential.id or _oauth2_tokens[k][1] < time.monotonic()]:
            del _oauth2_tokens[stale]
        _oauth2_tokens[key] = (token, time.monotonic() + lifetime)
    call.log(f"OAuth2 token fetched from {_shown_url(credential.data['token_url'])} (valid {lifetime:g} s)")
    return token


def _fetch_oauth2_token(data, call):
    url = data["token_url"]
    check_url(url)
    form = {"grant_type": "client_credentials"}
    if data.get("scope"):
        form["scope"] = data["scope"]
    headers = {"Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded"}
    if data.get("client_auth") == "body":
        form.update(client_id=data["client_id"], client_secret=data["client_secret"])
    else:
        # RFC 6749 §2.3.1: both parts form-encoded, then basic auth.
        from urllib.parse import quote_plus

        pair = f"{quote_plus(data['client_id'])}:{quote_plus(data['client_secret'])}"
        encoded = base64.b64encode(pair.encode()).decode("ascii")
        call.secrets.add(encoded)
        headers["Authorization"] = f"Basic {encoded}"
    target = f"the OAuth2 token endpoint {_shown_url(url)}"
    try:
        response = session().post(url, data=urlencode(form).encode(), headers=headers, allow_redirects=False,
                                  stream=True, timeout=(OAUTH2_TIMEOUT_S, OAUTH2_TIMEOUT_S))
        with response:
            content = response.raw.read(OAUTH2_MAX_ANSWER_BYTES, decode_content=True)
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
        error = _transport_error(exc, "POST", url, OAUTH2_TIMEOUT_S)
        error.message = f"getting an OAuth2 token: {error.message}"
        raise error from None
    try:
        answer = json.loads(content.decode("utf-8", errors="replace"))
    except ValueError:
        answer = None
    if response.status_code != 200 or not isinstance(answer, dict) or not isinstance(answer.get("access_token"), str):
        error_class = TRANSIENT if response.status_code >= 500 or response.status_code == 429 else PERMANENT
        said = answer.get("error") if isinstance(answer, dict) and isinstance(answer.get("error"), str) else None
        detail = f" ({said})" if said else ""
        raise NodeError(
            f"{target} answered {_status_text(response)}{detail} without an access_token; check the credential's "
            "client id, secret and scope",
            error_class,
            code="http.oauth2_token",
            details={"status": response.status_code, "body": content.decode("utf-8", errors="replace")[:4096]},
        )
    token = answer["access_token"]
    if not token or not token.isprintable() or len(token) > 16 * 1024:
        raise NodeError(f"{target} gave an access token that cannot be sent in a header (empty, too long or with "
                        "control characters)", PERMANENT, code="http.oauth2_token")
    token_type = answer.get("token_type", "bearer")
    if not isinstance(token_type, str) or token_type.lower() != "bearer":
        raise NodeError(f"{target} gave a token of type {token_type!r}; only bearer tokens can be used",
                        PERMANENT, code="http.oauth2_token")
    expires_in = answer.get("expires_in")
    lifetime = float(expires_in) if isinstance(expires_in, (int, float)) and expires_in > 0 else OAUTH2_DEFAULT_LIFETIME_S
    return token, lifetime


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
    body = _encode_body(params.get("body"), params.get("body_type"), headers)
    credential_headers = set()
    if params.get("credential"):
        credential_headers = apply_credential(params["credential"], headers, call)
    timeout_s = float(params["timeout_s"])
    started = time.monotonic()
    deadline = started + timeout_s
    response = _send(call, method, url, _query_pairs(params.get("query")), headers, body,
                     follow=params["follow_redirects"], deadline=deadline, timeout_s=timeout_s,
                     credential_headers=credential_headers)
    with response:
        content = _read_body(response, method, deadline, timeout_s)
    elapsed_ms = round((time.monotonic() - started) * 1000, 3)
    body_value = _decode_body(response, content, params["response"], call)
    call.log(f"{method} {_shown_url(response.url)} -> {_status_text(response)} in {elapsed_ms:.1f} ms "
             f"({_size(len(content))})")
    if params["fail_on_status"] and response.status_code >= 400:
        raise _status_error(method, response, body_value)
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


# -- sending, hop by hop


def _send(call, method, url, query, headers, body, *, follow, deadline, timeout_s, credential_headers=()):
    """The final response (body not read yet), after following redirects when asked to."""
    cookies = RequestsCookieJar()  # cookies set along one redirect chain, for that chain only
    params = query
    for hop in range(MAX_REDIRECTS + 1):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _timeout_error(method, url, timeout_s, "while following redirects")
        try:
            response = session().request(
                method, url, params=params, headers=headers, data=body, cookies=cookies,
                allow_redirects=False, stream=True, timeout=(remaining, remaining),
            )
        except requests.RequestException as exc:
            raise _transport_error(exc, method, url, timeout_s) from None
        location = response.headers.get("location")
        if not (follow and response.status_code in REDIRECT_STATUSES and location):
            return response
        extract_cookies_to_jar(cookies, response.request, response.raw)
        response.close()
        if hop == MAX_REDIRECTS:
            raise NodeError(f"{method} {_shown_url(url)}: more than {MAX_REDIRECTS} redirects; the last went to "
                            f"{_shown_url(urljoin(response.url, location))}", PERMANENT, code="http.too_many_redirects")
        next_url = urljoin(response.url, location)
        call.log(f"{method} {_shown_url(response.url)} -> {response.status_code}, redirected to {_shown_url(next_url)}")
        check_url(next_url)
        method, body = _method_after_redirect(response.status_code, method, body, headers)
        _strip_credentials_across_origins(response.url, next_url, headers, credential_headers)
        url, params = next_url, None  # the query is part of the first URL now
    raise AssertionError("unreachable")


def _method_after_redirect(status, method, body, headers):
    """What browsers (and requests) do: 303, and 301/302 after a POST, become a GET without a body."""
    if (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST"):
        for name in [key for key in headers if key.lower() in ("content-type", "content-length")]:
            del headers[name]
        return "GET", None
    return method, body


def _strip_credentials_across_origins(old_url, new_url, headers, credential_headers=()):
    """A redirect to another origin loses the authentication: Authorization, cookies and
    every header a stored credential set (an API key header too)."""
    old, new = urlsplit(old_url), urlsplit(new_url)
    same_host = old.hostname == new.hostname
    upgrade = old.scheme == "http" and new.scheme == "https" and old.port in (None, 80) and new.port in (None, 443)
    if same_host and (old.scheme == new.scheme and old.port == new.port or upgrade):
        return
    sensitive = {"authorization", "proxy-authorization", "cookie", *(name.lower() for name in credential_headers)}
    for name in [key for key in headers if key.lower() in sensitive]:
        del headers[name]


# -- reading the answer


def _read_body(response, method, deadline, timeout_s):
    """The decoded body, read as it arrives so that the size limit and the deadline hold."""
    limit = max_response_bytes()
    declared = response.headers.get("content-length", "")
    # A HEAD answer announces the size of the GET body it does not send.
    if method != "HEAD" and declared.isdigit() and int(declared) > limit:
        raise _too_large(method, response.url, limit, f"it announced {_size(int(declared))}")
    raw = response.raw
    chunks, size = [], 0
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _timeout_error(method, response.url, timeout_s, f"while reading the body ({_size(size)} so far)")
            _limit_next_read(raw, remaining)
            # read1: what has arrived (one socket read), so a slow sender cannot hold us past the deadline.
            chunk = raw.read1(_CHUNK_BYTES, decode_content=True)
            if not chunk:
                break
            size += len(chunk)
            if size > limit:
                raise _too_large(method, response.url, limit, "reading stopped there")
            chunks.append(chunk)
    except (urllib3.exceptions.HTTPError, requests.RequestException, OSError) as exc:
        raise _transport_error(exc, method, response.url, timeout_s) from None
    # Read to the end, urllib3 has already given the connection back to the pool for the next request.
    return b"".join(chunks)


def _limit_next_read(raw, seconds):
    sock = getattr(getattr(raw, "connection", None), "sock", None)
    if sock is not None:
        sock.settimeout(max(seconds, 0.001))


def _too_large(method, url, limit, how):
    return NodeError(
        f"{method} {_shown_url(url)}: the response body is larger than the limit of {_size(limit)} ({how}); "
        "ask for less (paging, filters) or raise NODEFLOW_HTTP_MAX_RESPONSE_BYTES",
        PERMANENT,
        code="http.response_too_large",
        details={"limit_bytes": limit},
    )


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
                f"the response of {_shown_url(response.url)} is not JSON ({exc}; content type "
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


def _status_error(method, response, body):
    status = response.status_code
    error_class = TRANSIENT if status >= 500 or status in TRANSIENT_CLIENT_STATUSES else PERMANENT
    text = body if isinstance(body, str) else "" if body is None else json.dumps(body, ensure_ascii=False)
    if len(text) > ERROR_BODY_CHARS:
        shown_body, truncated = text[:ERROR_BODY_CHARS], True
    else:
        shown_body, truncated = body, False
    details = {"status": status, "url": response.url, "body": shown_body}
    if truncated:
        details["body_truncated"] = True
    if response.headers.get("retry-after"):
        details["retry_after"] = response.headers["retry-after"]
    excerpt = " ".join(text.split())[:200]
    hint = ("the server failed or is overloaded; retrying later may help" if error_class == TRANSIENT
            else "the request was refused; check the URL, parameters and authentication")
    message = f"{method} {_shown_url(response.url)} answered {_status_text(response)}"
    message += f": {excerpt}" if excerpt else ""
    message += f" ({hint}; set fail_on_status to false to handle the status in the workflow)"
    return NodeError(message, error_class, code="http.status", details=details)


# -- transport errors


def _causes(exc):
    """The exception and everything it wraps (requests keeps urllib3's error in args[0])."""
    seen, todo = [], [exc]
    while todo:
        current = todo.pop()
        if current is None or any(current is s for s in seen):
            continue
        seen.append(current)
        todo.extend(_wrapped(current))
        todo.append(current.__context__)
    return seen


def _wrapped(exc):
    """What an exception says it was caused by: urllib3's `reason`, `__cause__`, an exception in its args."""
    found = [getattr(exc, "reason", None), exc.__cause__, *getattr(exc, "args", ())]
    return [cause for cause in found if isinstance(cause, BaseException)]


def _caused_by(exc, *types):
    return any(isinstance(cause, types) for cause in _causes(exc))


def _timeout_error(method, url, timeout_s, when):
    return NodeError(
        f"{method} {_shown_url(url)} timed out after {timeout_s:g} s {when}; raise timeout_s if the server is slow",
        TIMEOUT,
        code="http.timeout",
        details={"timeout_s": timeout_s},
    )


def _transport_error(exc, method, url, timeout_s):
    target = f"{method} {_shown_url(url)}"
    parts = urlsplit(url)
    host = parts.hostname or "?"
    if isinstance(exc, (requests.exceptions.SSLError, urllib3.exceptions.SSLError, ssl.SSLError)):
        return NodeError(
            f"{target}: the TLS connection to {host} failed ({_reason(exc)}); check the server's certificate, "
            "or whether the URL should be http://",
            PERMANENT,
            code="http.tls_error",
        )
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return _timeout_error(method, url, timeout_s, f"while connecting to {host}")
    if isinstance(exc, requests.exceptions.ReadTimeout) or _caused_by(exc, ReadTimeoutError, socket.timeout):
        return _timeout_error(method, url, timeout_s, "waiting for the response")
    if _caused_by(exc, NameResolutionError, socket.gaierror):
        return NodeError(
            f"{target}: the host name {host!r} could not be resolved (DNS); check its spelling",
            TRANSIENT,
            code="http.dns_error",
        )
    if _caused_by(exc, ConnectionRefusedError):
        port = _port(parts)
        return NodeError(
            f"{target}: {host}:{port} refused the connection; is the service running and listening on that port?",
            TRANSIENT,
            code="http.connection_refused",
        )
    if isinstance(exc, (requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError,
                        urllib3.exceptions.ProtocolError, OSError)):
        return NodeError(f"{target}: the connection failed ({_reason(exc)})", TRANSIENT, code="http.connection_error")
    if isinstance(exc, (requests.exceptions.ContentDecodingError, urllib3.exceptions.DecodeError)):
        return NodeError(f"{target}: the response body could not be decoded ({_reason(exc)})", PERMANENT,
                         code="http.invalid_response")
    if isinstance(exc, requests.exceptions.InvalidHeader):
        return NodeError(f"{target}: invalid header ({exc})", PERMANENT, code="http.invalid_params")
    if isinstance(exc, (requests.exceptions.InvalidURL, requests.exceptions.URLRequired,
                        requests.exceptions.MissingSchema, requests.exceptions.InvalidSchema)):
        return NodeError(f"{target}: invalid URL ({exc})", PERMANENT, code="http.invalid_url")
    return NodeError(f"{target}: {type(exc).__name__}: {_reason(exc)}", PERMANENT, code="http.error")


def _reason(exc):
    """The innermost useful message of a wrapped urllib3/socket error."""
    innermost, seen = exc, [exc]
    while True:
        deeper = [cause for cause in _wrapped(innermost) if not any(cause is s for s in seen)]
        if not deeper:
            return str(innermost) or type(innermost).__name__
        innermost = deeper[0]
        seen.append(innermost)


def _port(parts):
    try:
        return parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return "?"


# -- showing


def _shown_url(url):
    """The URL for logs and messages, without a password in it."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{netloc}"))


def _status_text(response):
    return f"{response.status_code} {response.reason}" if response.reason else str(response.status_code)


def _size(n):
    for unit, factor in (("MB", 1024 * 1024), ("KB", 1024)):
        if n >= factor:
            return f"{n / factor:.3g} {unit}"
    return f"{n} bytes"
