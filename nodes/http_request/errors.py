"""How `http.request` failures are classified and told: a transport exception, an error
status or a refused response becomes a NodeError whose class says whether retrying
can help (TRANSIENT, TIMEOUT) or not (PERMANENT).

Shared by every version of the node: a version imports this module, never another version."""

import json
import socket
import ssl
from urllib.parse import urlsplit, urlunsplit

import requests
import urllib3
from urllib3.exceptions import NameResolutionError, ReadTimeoutError

from engine.errors import PERMANENT, TIMEOUT, TRANSIENT, NodeError

# Statuses where trying again later can help; every other 4xx is the request's fault.
TRANSIENT_CLIENT_STATUSES = frozenset({408, 425, 429})
# How much of an error response is kept in the error's details (the message shows less).
ERROR_BODY_CHARS = 64 * 1024


def status_error(method, response, body):
    """A 4xx/5xx answer as an error: transient for 5xx and 408/425/429, permanent for the rest."""
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
    message = f"{method} {shown_url(response.url)} answered {status_text(response)}"
    message += f": {excerpt}" if excerpt else ""
    message += f" ({hint}; set fail_on_status to false to handle the status in the workflow)"
    return NodeError(message, error_class, code="http.status", details=details)


def too_large(method, url, limit, how):
    """The response body exceeds NODEFLOW_HTTP_MAX_RESPONSE_BYTES (`how` says how we know)."""
    return NodeError(
        f"{method} {shown_url(url)}: the response body is larger than the limit of {size(limit)} ({how}); "
        "ask for less (paging, filters) or raise NODEFLOW_HTTP_MAX_RESPONSE_BYTES",
        PERMANENT,
        code="http.response_too_large",
        details={"limit_bytes": limit},
    )


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


def timeout_error(method, url, timeout_s, when):
    """The whole request ran past `timeout_s`; `when` says what it was doing."""
    return NodeError(
        f"{method} {shown_url(url)} timed out after {timeout_s:g} s {when}; raise timeout_s if the server is slow",
        TIMEOUT,
        code="http.timeout",
        details={"timeout_s": timeout_s},
    )


def transport_error(exc, method, url, timeout_s):
    """The NodeError for an exception raised while sending a request or reading its answer."""
    target = f"{method} {shown_url(url)}"
    parts = urlsplit(url)
    host = parts.hostname or "?"
    if isinstance(exc, (requests.exceptions.SSLError, urllib3.exceptions.SSLError, ssl.SSLError)):
        return NodeError(
            f"{target}: the TLS connection to {host} failed ({_reason(exc)}); check the server's certificate, "
            "or whether the URL should be http://",
            PERMANENT,
            code="http.tls_error",
        )
    # The request's own fault, checked before the connection errors below: requests' exceptions
    # are OSErrors too, and a header carrying a line break (injection) must not be retried.
    if isinstance(exc, requests.exceptions.InvalidHeader):
        return NodeError(f"{target}: invalid header ({exc})", PERMANENT, code="http.invalid_params")
    if isinstance(exc, UnicodeEncodeError):
        return NodeError(f"{target}: a header holds a character HTTP cannot carry ({exc}); header names and "
                         "values are Latin-1 text", PERMANENT, code="http.invalid_params")
    if isinstance(exc, (requests.exceptions.InvalidURL, requests.exceptions.URLRequired,
                        requests.exceptions.MissingSchema, requests.exceptions.InvalidSchema)):
        return NodeError(f"{target}: invalid URL ({exc})", PERMANENT, code="http.invalid_url")
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return timeout_error(method, url, timeout_s, f"while connecting to {host}")
    if isinstance(exc, requests.exceptions.ReadTimeout) or _caused_by(exc, ReadTimeoutError, socket.timeout):
        return timeout_error(method, url, timeout_s, "waiting for the response")
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


# -- showing (messages and logs)


def shown_url(url):
    """The URL for logs and messages, without a password in it."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{netloc}"))


def status_text(response):
    """`404 Not Found`, or the bare code when the server gave no reason."""
    return f"{response.status_code} {response.reason}" if response.reason else str(response.status_code)


def size(n):
    """A byte count for people: `1.5 MB`, `12 KB`, `80 bytes`."""
    for unit, factor in (("MB", 1024 * 1024), ("KB", 1024)):
        if n >= factor:
            return f"{n / factor:.3g} {unit}"
    return f"{n} bytes"
