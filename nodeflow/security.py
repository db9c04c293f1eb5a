"""Rate limits and login-failure limits, and the ASGI request-body cap.

- `AuthThrottle`, `RunThrottle`: DRF scoped throttles with their rates read from
  settings.NODEFLOW["THROTTLE_RATES"] at request time (NODEFLOW_THROTTLE_AUTH,
  NODEFLOW_THROTTLE_RUN): `auth` on the token endpoint, `run` on the endpoints that
  start work (run, retry).
- `RateLimitedModelBackend`: the authentication backend of every login (API token,
  web sign-in, admin). After NODEFLOW_LOGIN_FAILURE_LIMIT failures for one user name
  from one client address within NODEFLOW_LOGIN_FAILURE_WINDOW_S, or ten times that
  many from one address for any names, logins from there are refused until the window
  has passed, even with the right password.
  The token endpoint (nodeflow.auth) answers 429 while locked.
- `BodySizeLimit`: an ASGI wrapper answering 413 for request bodies over the limit,
  counted as they arrive, before Django spools them to disk. A webhook URL whose token
  no trigger has gets UNKNOWN_HOOK_BODY_BYTES, not the webhooks' largest limit.
"""

import hashlib
import json
import logging

from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from rest_framework import throttling
from rest_framework.settings import api_settings

from nodeflow.api import ApiError, error_body
from nodeflow.cache import count as counter
from nodeflow.outages import unavailable_service

logger = logging.getLogger("nodeflow.security")


def client_address(request):
    """The client's IP address: REMOTE_ADDR, or the address NODEFLOW_NUM_PROXIES proxies in front
    put into X-Forwarded-For (never a client-chosen one). Same rule as DRF's throttles."""
    meta = request.META
    proxies = api_settings.NUM_PROXIES or 0
    forwarded = meta.get("HTTP_X_FORWARDED_FOR")
    if proxies and forwarded:
        addresses = [a.strip() for a in forwarded.split(",") if a.strip()]
        if addresses:
            return addresses[-min(proxies, len(addresses))]
    return meta.get("REMOTE_ADDR") or "unknown"


# ---------------------------------------------------------------------------
# Throttles


class ScopedRateThrottle(throttling.ScopedRateThrottle):
    """Throttles a view at settings.NODEFLOW["THROTTLE_RATES"][scope], the scope being the class's
    `fixed_scope` or the view's `throttle_scope`. Rates are read per request (DRF's own class
    reads them once, at import, so settings overrides would not reach it)."""

    fixed_scope = None
    # The counters live in the cache (Redis). When it cannot be reached: True lets the request
    # through uncounted (fail open), False raises, and the request is answered 503.
    fail_open = False

    def get_rate(self):
        return settings.NODEFLOW.get("THROTTLE_RATES", {}).get(self.scope)

    def allow_request(self, request, view):
        self.scope = self.fixed_scope or getattr(view, self.scope_attr, None)
        if not self.scope or not self.get_rate():
            return True
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        try:
            return throttling.SimpleRateThrottle.allow_request(self, request, view)
        except Exception as exc:  # noqa: BLE001 — which errors a cache raises depends on its backend
            if not self.fail_open or unavailable_service(exc) is None:
                raise
            logger.warning("%s throttle not applied: the cache is unreachable (%s)", self.scope, type(exc).__name__)
            return True


class AuthThrottle(ScopedRateThrottle):
    """The token endpoint, per client address (NODEFLOW_THROTTLE_AUTH). Fails closed: without its
    counters (and the login lockout's), password guessing would go unchecked."""

    fixed_scope = "auth"


class RunThrottle(ScopedRateThrottle):
    """Endpoints that start work (run, retry), per user (NODEFLOW_THROTTLE_RUN). Fails open: the
    run is written to the database and recovery sends it once the broker is back, so a user's
    work is accepted rather than refused while Redis restarts."""

    fixed_scope = "run"
    fail_open = True


# ---------------------------------------------------------------------------
# Login failures


def _failure_keys(username, address):
    name = hashlib.sha256((username or "").strip().lower().encode()).hexdigest()[:32]
    return f"nodeflow:login-failures:{name}:{address}", f"nodeflow:login-failures:*:{address}"


def _limits():
    config = settings.NODEFLOW
    limit = config.get("LOGIN_FAILURE_LIMIT", 10)
    return limit, limit * 10, config.get("LOGIN_FAILURE_WINDOW_S", 900)


def login_locked(username, address):
    """Whether logins of `username` from `address` are refused for now."""
    limit, address_limit, _window = _limits()
    if not limit:
        return False
    name_key, address_key = _failure_keys(username, address)
    counts = cache.get_many([name_key, address_key])
    return counts.get(name_key, 0) >= limit or counts.get(address_key, 0) >= address_limit


def record_login_failure(username, address):
    limit, _address_limit, window = _limits()
    if not limit:
        return
    for key in _failure_keys(username, address):
        counter(key, timeout=window)  # the first failure starts the window; the others keep its expiry


def clear_login_failures(username, address):
    cache.delete(_failure_keys(username, address)[0])


class LoginLocked(PermissionDenied):
    """Too many failed logins for this user name from this address: refused without checking the password."""


class RateLimitedModelBackend(ModelBackend):
    """Django's user-and-password backend, refusing (PermissionDenied: no other backend is asked)
    while the name or the address has too many recent failures, and counting failures."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(self._username_field())
        address = client_address(request) if request is not None else "unknown"
        if login_locked(username, address):
            raise LoginLocked("too many failed logins; try again later")
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            record_login_failure(username, address)
        else:
            clear_login_failures(username, address)
        return user

    @staticmethod
    def _username_field():
        from django.contrib.auth import get_user_model

        return get_user_model().USERNAME_FIELD


def locked_error():
    """The API answer while logins are locked: 429 too_many_login_failures."""
    window = _limits()[2]
    return ApiError("too_many_login_failures", f"too many failed logins; try again in up to {window} s",
                    status_code=429)


# ---------------------------------------------------------------------------
# Request bodies


class BodySizeLimit:
    """ASGI middleware: HTTP request bodies larger than `limit_for(path)` bytes answer 413.

    Django's ASGI handler reads the whole body (spooling it to disk) before any view can
    refuse it, so the count happens here, on the way in: a declared Content-Length over
    the limit is refused before reading, a chunked body as soon as it passes the limit."""

    def __init__(self, app, limit_for=None, webhook_exists=None):
        """`webhook_exists(token)` (sync, may query the database) tells a webhook URL some
        trigger has from one nobody has; without it every /hooks/ URL gets the webhooks' limit."""
        self.app = app
        self.limit_for = limit_for or default_body_limit
        self.webhook_exists = database_sync_to_async(webhook_exists) if webhook_exists else None

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        limit = self.limit_for(path)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if path.startswith("/hooks/") and self.webhook_exists and limit > UNKNOWN_HOOK_BODY_BYTES:
            small = declared is not None and declared.isdigit() and int(declared) <= UNKNOWN_HOOK_BODY_BYTES
            if not small and not await self.webhook_exists(path.rstrip("/").rsplit("/", 1)[-1]):
                limit = UNKNOWN_HOOK_BODY_BYTES  # the view answers 404 without reading; nobody needs more
        if declared is not None and declared.isdigit() and int(declared) > limit:
            return await _too_large(send, limit)
        received, refused = 0, False

        async def counting_receive():
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit and not refused:
                    refused = True
                    await _too_large(send, limit)
                    return {"type": "http.disconnect"}  # Django stops reading and answers nothing more
            return message

        async def guarded_send(message):
            if not refused:
                await send(message)

        return await self.app(scope, counting_receive, guarded_send)


# What a request to a webhook URL with an unknown token may send: enough for the 404 to
# be answered normally, too little to make the server read (and spool) an upload first.
UNKNOWN_HOOK_BODY_BYTES = 64 * 1024


def default_body_limit(path):
    """Webhooks take up to the largest max_body_kb a trigger may set; everything else the API's limit."""
    if path.startswith("/hooks/"):
        return settings.NODEFLOW.get("WEBHOOK_MAX_BODY_BYTES", 100 * 1024 * 1024) + 64 * 1024
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


async def _too_large(send, limit):
    body = json.dumps(error_body("payload_too_large", f"the request body is larger than {limit} bytes"))
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body.encode()})
