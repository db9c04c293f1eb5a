"""The webhook door: production webhook URLs (`/hooks/<token>`) served by a lean ASGI app in front of Django.

Through Django a webhook paid its request machinery on a sync thread, two queries to find
its trigger, and the whole start of its execution (7 ms of the 18.7 ms a request took) before
the 202. Here a request pays a cached lookup (triggers.hookcache), the checks, and one
row in a batched insert (triggers.doorstore): the 202 is answered once that row is
committed, and a worker turns it into the execution with the id the 202 gave
(triggers.accepted). Every check is triggers.webhooks' own, in the same order — token
(404), method (405), rate limit (429), size (413), auth (401), body (400), replay. The
first three run in a thread since they use the cache and, on a miss, the ORM; the others
too when the hook has auth (its secret, the signed request's replay mark), and on the
event loop when it has none (nothing there but CPU: a trip to a thread and back cost more).

A plain ASGI callable rather than Starlette: the door has one route and one answer
shape; what it needs of a framework — headers and the query string as the checks read
them — django.http has already (HttpHeaders, QueryDict), and Starlette would add a
dependency and a second request type for the same checks to read.

What the door hands to Django's view (triggers.views) untouched: test URLs (the draft,
while listening), sync-mode triggers (the request waits for the result, which needs
the execution at once) and requests with an Idempotency-Key (answered with the first
execution, which the key's row names). It is mounted only on PostgreSQL (nodeflow.asgi):
embedded mode's SQLite has no async pool, and its single process serves webhooks
through the view as before."""

import asyncio
import io
import json
import logging
import re
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import close_old_connections, connections
from django.http.request import HttpHeaders, QueryDict
from django.utils.http import parse_header_parameters
from psycopg import IntegrityError
from psycopg import OperationalError as DatabaseUnreachable
from psycopg_pool import PoolTimeout

from executions.starting import input_problems
from nodeflow.api import error_response
from nodeflow.outages import RETRY_AFTER_S, unavailable_service
from triggers import hookcache, webhooks
from triggers.doorstore import store_for_loop
from triggers.tasks import send_start

logger = logging.getLogger("nodeflow.triggers")

PRODUCTION_URL = re.compile(r"^/hooks/(?P<token>[^/]+)/?$")
_SECURITY_HEADERS = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin")]


class WebhookDoor:
    """ASGI: production webhook URLs here, everything else (and what the door hands on) to `app`."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            match = PRODUCTION_URL.match(scope.get("path", ""))
            if match is not None and match["token"] != "test":
                return await self._serve(match["token"], scope, receive, send)
        return await self.app(scope, receive, send)

    async def _serve(self, token, scope, receive, send):
        meta = request_meta(scope)
        headers = HttpHeaders(meta)
        try:
            entry = await _in_thread(_admit, token, scope["method"], webhooks.IDEMPOTENCY_HEADER in headers)
            if entry is None:
                return await self.app(scope, receive, send)
            limit = entry.hook.params["max_body_kb"] * 1024
            body = await read_body(receive, limit, meta.get("CONTENT_LENGTH"))
            if body is None:
                return None  # the client went away
            request = DoorRequest(scope["method"], meta, headers, body)
            if entry.hook.params["auth"] == "none":  # nothing but CPU: not worth a trip to a thread and back
                input_data, mark = _prepare(entry, request)
            else:  # the secret, and the signed request's replay mark, are in the database and the cache
                input_data, mark = await _in_thread(_prepare, entry, request)
            execution_id = uuid.uuid4()
            try:
                store = store_for_loop(_after_commit)
                await store.store(execution_id, entry.hook.endpoint.pk, entry.version_number, input_data)
            except BaseException:
                await _in_thread(webhooks.forget_signed, entry.hook, mark)  # the sender may send it again
                raise
        except webhooks.Refused as refusal:
            return await _answer(send, refusal.response(), count=True)
        except IntegrityError:  # the trigger was deleted between its lookup and the insert
            refusal = webhooks.Refused(404, "not_found", "no webhook at this URL")
            return await _answer(send, refusal.response(), count=True)
        except Exception as exc:  # noqa: BLE001 — an outage answers 503 as Django's handler would, a bug 500
            return await _answer(send, _failure(exc), count=True)
        body = json.dumps({"execution_id": str(execution_id)}).encode()
        await send({"type": "http.response.start", "status": 202,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode()), *_SECURITY_HEADERS]})
        await send({"type": "http.response.body", "body": body})
        return None


def _admit(token, method, has_idempotency_key):
    """Token, method and rate limit; the DoorHook, or None when Django's view serves this request."""
    entry = hookcache.lookup(token)
    webhooks.check_method(entry.hook, method)
    if entry.hook.params["response"] == "sync" or has_idempotency_key:
        return None
    webhooks.check_rate(entry.hook)
    return entry


def _prepare(entry, request):
    """Size, auth, body and the replay mark: the execution's input and the mark (forgotten if not stored)."""
    hook = entry.hook
    body = webhooks.read_body(request, hook.params["max_body_kb"] * 1024)
    mark = webhooks.check_auth(hook, request.headers, body)
    payload = webhooks.parse_body(body, (request.content_type or "").lower(), hook.params["require_json"])
    input_data = webhooks.execution_input(hook, request, payload)
    webhooks.remember_signed(hook, mark)
    try:
        if entry.cannot_run is not None:
            raise entry.cannot_run
        problems = input_problems(entry.input_schema, payload) if entry.input_schema else ""
        if problems:
            raise webhooks.Refused(400, "invalid_input", problems)
    except webhooks.Refused:
        webhooks.forget_signed(hook, mark)
        raise
    return input_data, mark


_threads = None  # the door's own threads: each keeps its Django connection (or takes one from the pool)


async def _in_thread(function, *args):
    global _threads
    if _threads is None:
        _threads = ThreadPoolExecutor(settings.NODEFLOW["WEBHOOK_DOOR_THREADS"], thread_name_prefix="webhook-door")
    # In the thread's own context, not a copy of the request's: Django's caches are kept per context
    # (asgiref's Local), so a copy per request made a new cache client, and a new Redis connection,
    # for every request. Each thread keeps its own instead.
    return await asyncio.get_running_loop().run_in_executor(_threads, _with_connection_hygiene, function, *args)


def stop_threads():
    """Let the door's threads end, and their database connections with them (tests; a server simply exits)."""
    global _threads
    threads, _threads = _threads, None
    if threads is not None:
        # One job per thread (each waits for all the others), so that every thread closes its own connection.
        count = threads._max_workers
        barrier = threading.Barrier(count)

        def close():
            barrier.wait(timeout=10)
            connections.close_all()

        for job in [threads.submit(close) for _ in range(count)]:
            job.result()
        threads.shutdown(wait=True)


def _with_connection_hygiene(function, *args):
    """What Django does around a request: a broken or too old connection of this thread is dropped
    (returned to the pool, with DATABASE_POOL_SIZE)."""
    close_old_connections()
    try:
        return function(*args)
    finally:
        close_old_connections()


def _after_commit(ids):
    """In a thread, after the door's insert committed: a worker starts the executions (unless a start is pending
    already, which takes these too: triggers.accepted); /metrics counts the 202s."""
    try:
        send_start(ids)
    finally:
        webhooks.count_request(202, len(ids))  # once per batch: once per request took a quarter of the door's threads


def _failure(exc):
    if isinstance(exc, (DatabaseUnreachable, PoolTimeout)):
        service = "the database"
    else:
        service = unavailable_service(exc)
    if service is None:
        logger.error("webhook request failed", exc_info=exc)
        return error_response(500, "server_error", "the server failed to answer this request; the error is in its log")
    return error_response(503, "service_unavailable", f"{service} is unreachable right now; try again in a few seconds",
                          {"service": service}, headers={"Retry-After": str(RETRY_AFTER_S)})


async def _answer(send, response, count=False):
    """Send a Django HttpResponse (a refusal in the error envelope) over ASGI."""
    headers = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in response.items()
               if name.lower() != "content-length"]
    content = response.content
    await send({"type": "http.response.start", "status": response.status_code,
                "headers": [*headers, (b"content-length", str(len(content)).encode()), *_SECURITY_HEADERS]})
    await send({"type": "http.response.body", "body": content})
    if count:
        await _in_thread(webhooks.count_request, response.status_code)


# ---------------------------------------------------------------------------
# The request, as the checks read it


def request_meta(scope):
    """The WSGI-style META of an ASGI request's headers, as Django's ASGIRequest builds it."""
    meta = {"REQUEST_METHOD": scope["method"],
            "QUERY_STRING": (scope.get("query_string") or b"").decode("utf-8", errors="replace")}
    for raw_name, raw_value in scope.get("headers") or []:
        name = raw_name.decode("latin-1")
        if name == "content-length":
            key = "CONTENT_LENGTH"
        elif name == "content-type":
            key = "CONTENT_TYPE"
        else:
            key = "HTTP_" + name.upper().replace("-", "_")
        value = raw_value.decode("latin-1")
        meta[key] = f"{meta[key]},{value}" if key in meta else value
    client = scope.get("client")
    if client:
        meta["REMOTE_ADDR"] = client[0]
    return meta


class DoorRequest:
    """What triggers.webhooks' checks read of a request: method, META, headers, content_type, GET, read()."""

    def __init__(self, method, meta, headers, body):
        self.method = method
        self.META = meta
        self.headers = headers
        self.content_type = parse_header_parameters(meta.get("CONTENT_TYPE", ""))[0]
        self.GET = QueryDict(meta["QUERY_STRING"])
        self._body = io.BytesIO(body)

    def read(self, size=-1):
        return self._body.read(size)


async def read_body(receive, limit, declared):
    """The body, read up to `limit` + 1 bytes (enough for read_body's 413); None when the client left.

    A declared Content-Length over the limit is not read at all: read_body refuses it from META."""
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return b""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if size > limit or not message.get("more_body", False):
            return b"".join(chunks)
