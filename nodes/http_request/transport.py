"""How `http.request` talks HTTP: the pooled session, redirects followed hop by hop, the body read within limits.

The request goes through a pooled `requests.Session` (one per process and thread,
replaced after a fork). Redirects are followed here, hop by hop, so that every URL
the node connects to passes `guard.check_url` first, and the session's connections
go only to the addresses that check pinned (no second DNS lookup). The response body
is streamed and refused past settings.NODEFLOW["HTTP_MAX_RESPONSE_BYTES"]; a deadline
bounds the whole request, redirects and body included.

Shared by every version of the node: a version imports this module, never another version."""

import os
import threading
import time
from http.cookiejar import DefaultCookiePolicy
from urllib.parse import urljoin, urlsplit

import requests
import urllib3
from requests.cookies import RequestsCookieJar, extract_cookies_to_jar

from engine.errors import PERMANENT, NodeError
from nodes.http_request.errors import shown_url, size, timeout_error, too_large, transport_error
from nodes.http_request.guard import PinnedAdapter, check_url

DEFAULT_MAX_RESPONSE_BYTES = 10 * 1024 * 1024
MAX_REDIRECTS = 10
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# Sent by the shared session, so by every version: it predates v2 and stays as it was.
USER_AGENT = "NodeFlow (http.request v1)"
_CHUNK_BYTES = 64 * 1024


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


# ---------------------------------------------------------------------------
# Sending, hop by hop


def send(call, method, url, query, headers, body, *, follow, deadline, timeout_s, credential_headers=()):
    """The final response (body not read yet), after following redirects when asked to."""
    cookies = RequestsCookieJar()  # cookies set along one redirect chain, for that chain only
    params = query
    for hop in range(MAX_REDIRECTS + 1):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise timeout_error(method, url, timeout_s, "while following redirects")
        try:
            response = session().request(
                method, url, params=params, headers=headers, data=body, cookies=cookies,
                allow_redirects=False, stream=True, timeout=(remaining, remaining),
            )
        except (requests.RequestException, UnicodeEncodeError) as exc:  # http.client encodes headers as Latin-1
            raise transport_error(exc, method, url, timeout_s) from None
        location = response.headers.get("location")
        if not (follow and response.status_code in REDIRECT_STATUSES and location):
            return response
        extract_cookies_to_jar(cookies, response.request, response.raw)
        response.close()
        if hop == MAX_REDIRECTS:
            raise NodeError(f"{method} {shown_url(url)}: more than {MAX_REDIRECTS} redirects; the last went to "
                            f"{shown_url(urljoin(response.url, location))}", PERMANENT, code="http.too_many_redirects")
        next_url = urljoin(response.url, location)
        call.log(f"{method} {shown_url(response.url)} -> {response.status_code}, redirected to {shown_url(next_url)}")
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


# ---------------------------------------------------------------------------
# Reading the answer


def read_body(response, method, deadline, timeout_s):
    """The decoded body, read as it arrives so that the size limit and the deadline hold."""
    limit = max_response_bytes()
    declared = response.headers.get("content-length", "")
    # A HEAD answer announces the size of the GET body it does not send.
    if method != "HEAD" and declared.isdigit() and int(declared) > limit:
        raise too_large(method, response.url, limit, f"it announced {size(int(declared))}")
    raw = response.raw
    chunks, received = [], 0
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise timeout_error(method, response.url, timeout_s,
                                    f"while reading the body ({size(received)} so far)")
            _limit_next_read(raw, remaining)
            # read1: what has arrived (one socket read), so a slow sender cannot hold us past the deadline.
            chunk = raw.read1(_CHUNK_BYTES, decode_content=True)
            if not chunk:
                break
            received += len(chunk)
            if received > limit:
                raise too_large(method, response.url, limit, "reading stopped there")
            chunks.append(chunk)
    except (urllib3.exceptions.HTTPError, requests.RequestException, OSError) as exc:
        raise transport_error(exc, method, response.url, timeout_s) from None
    # Read to the end, urllib3 has already given the connection back to the pool for the next request.
    return b"".join(chunks)


def _limit_next_read(raw, seconds):
    sock = getattr(getattr(raw, "connection", None), "sock", None)
    if sock is not None:
        sock.settimeout(max(seconds, 0.001))
