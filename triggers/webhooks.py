"""Receiving a webhook: find its trigger, apply the limits and the auth check, start the execution once.

`accept()` does everything up to the execution's commit and answers either a refusal
(an HttpResponse in the error envelope) or `Accepted`; the view then answers 202 or, in
sync mode, waits for the result. The order of the checks: token (404), method (405),
rate limit (429), body size (413), auth (401), body (400), Idempotency-Key."""

import hashlib
import hmac
import json
import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import parse_qs

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone

from engine.states import EXECUTION_FINAL
from executions.executing import start_here
from executions.starting import InvalidInput, run_workflow
from executions.tasks import dispatcher
from nodeflow.api import error_response, unstorable_json
from nodeflow.cache import count as counter
from nodes.validation import InvalidWorkflow
from triggers import services
from triggers.models import IdempotencyKey, WebhookEndpoint

logger = logging.getLogger("nodeflow.triggers")

GENERIC_SIGNATURE = "X-NodeFlow-Signature"
GITHUB_SIGNATURE = "X-Hub-Signature-256"
GITHUB_DELIVERY = "X-GitHub-Delivery"
STRIPE_SIGNATURE = "Stripe-Signature"
# Never copied into the execution's input: signatures, and credentials meant for the server.
DROPPED_HEADERS = frozenset({"x-nodeflow-signature", "x-hub-signature", "x-hub-signature-256", "stripe-signature",
                             "authorization", "proxy-authorization", "cookie"})
IDEMPOTENCY_HEADER = "Idempotency-Key"
MAX_IDEMPOTENCY_KEY = IdempotencyKey._meta.get_field("key").max_length
RATE_WINDOW_S = 60
# A signature's time may be this far ahead of ours (clock skew), no further: a request
# signed for the future would stay valid longer than the marker that refuses its replay.
MAX_FUTURE_SKEW_S = 30


class Refused(Exception):
    """A request the webhook will not run: rendered as {"error": {code, message, details}} with `status`."""

    def __init__(self, status, code, message, details=None, headers=None):
        super().__init__(message)
        self.status, self.code, self.message, self.details, self.headers = status, code, message, details, headers

    def response(self):
        return error_response(self.status, self.code, self.message, self.details, self.headers)


@dataclass
class Hook:
    """The trigger a request reached: its endpoint, workflow, node params and which version runs."""

    endpoint: WebhookEndpoint
    params: dict
    version: str  # "published" (the production URL) or "draft" (the test URL)

    @property
    def workflow(self):
        return self.endpoint.workflow


@dataclass(frozen=True)
class ReplayMark:
    """What marks a signed request as seen: a key from what the signature covers, kept as
    long as the signature could still be accepted."""

    key: str
    ttl_s: int


@dataclass
class Accepted:
    """The execution a request started (or, for a repeated Idempotency-Key, the one it started first)."""

    execution_id: str
    hook: Hook
    replayed: bool = False
    # (status, result, error) when the execution ended in the request (a sync hook's instant nodes).
    ended: tuple | None = None


# ---------------------------------------------------------------------------
# The whole acceptance, in order


def accept(request, token, test=False, find=None):
    """Accepted, or a refusal HttpResponse. Runs synchronously (the ORM and the cache).

    Counts the request for /metrics unless the answer waits for a sync-mode result (the view counts that)."""
    outcome = _accept(request, token, test, find or find_hook)
    if not isinstance(outcome, Accepted):
        count_request(outcome.status_code)
    elif outcome.hook.params["response"] != "sync":
        count_request(202)
    return outcome


def count_request(status, count=1):
    from nodeflow.metrics import count_webhook_request

    try:
        count_webhook_request(status, count)
    except Exception:  # noqa: BLE001 - a metric must never turn an accepted webhook into an error
        logger.warning("webhook request not counted for /metrics", exc_info=True)


def _accept(request, token, test, find):
    try:
        hook = find(token, test)
        check_method(hook, request.method)
        check_rate(hook)
        body = read_body(request, hook.params["max_body_kb"] * 1024)
        replay_key = check_auth(hook, request.headers, body)
        payload = parse_body(body, (request.content_type or "").lower(), hook.params["require_json"])
        input_data = execution_input(hook, request, payload)
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if key is not None and not 0 < len(key) <= MAX_IDEMPOTENCY_KEY:
            raise Refused(400, "invalid_idempotency_key",
                          f"{IDEMPOTENCY_HEADER} must have 1 to {MAX_IDEMPOTENCY_KEY} characters")
        return start_once(hook, key, input_data, replay_key)
    except Refused as refusal:
        return refusal.response()


def find_hook(token, test):
    """The trigger behind a token: the published version's node (production URL) or the draft's (test URL)."""
    endpoints = WebhookEndpoint.objects.select_related("workflow__published_version")
    if not test:
        endpoints = endpoints.defer("workflow__definition")
    endpoint = endpoints.filter(token=token).first() if len(token) <= 64 else None
    if endpoint is None:
        raise Refused(404, "not_found", "no webhook at this URL")
    workflow = endpoint.workflow
    if test:
        if not endpoint.listening():
            raise Refused(404, "not_listening", "this test URL is live only while the workflow listens for test "
                          "events: POST /api/v1/workflows/{id}/listen/ first")
        document, version = workflow.definition, "draft"
    else:
        if workflow.published_version_id is None:
            raise Refused(404, "not_published", "the workflow of this webhook is not published")
        document, version = workflow.published_version.definition, "published"
    params = services.trigger_node(document, services.WEBHOOK, endpoint.node_id)
    if params is None:
        where = "draft" if test else "published version"
        raise Refused(404, "not_published", f"the workflow's {where} has no webhook node {endpoint.node_id!r}")
    return Hook(endpoint=endpoint, params=params, version=version)


def webhook_exists(token):
    """Whether some trigger has this token (for the body limit at the ASGI door, nodeflow.asgi)."""
    return 0 < len(token) <= 64 and WebhookEndpoint.objects.filter(token=token).exists()


def check_method(hook, method):
    allowed = hook.params["methods"]
    if method not in allowed:
        raise Refused(405, "method_not_allowed", f"this webhook accepts {', '.join(allowed)}, not {method}",
                      headers={"Allow": ", ".join(allowed)})


def rate_limit(hook):
    """Requests per minute allowed to this URL: the trigger's own limit under the server's (0 = no limit)."""
    server = settings.NODEFLOW["WEBHOOK_RATE_LIMIT_PER_MIN"]
    own = hook.params.get("rate_limit_per_min")
    if own and server:
        return min(own, server)
    return own or server


def check_rate(hook):
    """A fixed window per token, opened by its first request and counted in the cache (shared through Redis)."""
    limit = rate_limit(hook)
    if not limit:
        return
    if counter(f"hook-rate:{hook.endpoint.token}", timeout=RATE_WINDOW_S) > limit:
        raise Refused(429, "rate_limited", f"more than {limit} requests in a minute to this webhook",
                      {"limit_per_min": limit}, headers={"Retry-After": str(RATE_WINDOW_S)})


def read_body(request, limit):
    """The raw body, at most `limit` bytes (413 beyond); read from the stream, so Django's own
    DATA_UPLOAD_MAX_MEMORY_SIZE does not apply."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise Refused(400, "malformed_request", "Content-Length is not a number") from None
    too_large = Refused(413, "payload_too_large", f"the body is larger than this webhook's limit of {limit} bytes",
                        {"limit_bytes": limit})
    if declared > limit:
        raise too_large
    body = request.read(limit + 1)
    if len(body) > limit:
        raise too_large
    return body


# ---------------------------------------------------------------------------
# Auth


def check_auth(hook, headers, body, now=None):
    """Raise Refused (401) unless the request carries the trigger's secret or a valid signature.

    Returns the ReplayMark of this signed request (replay protection), or None."""
    auth = hook.params["auth"]
    if auth == "none":
        return None
    secret = services.reveal_secret(hook.endpoint.workflow_id, hook.params.get("secret"))
    if secret is None:
        raise Refused(401, "secret_unavailable", "this webhook's secret is not set (or cannot be decrypted); "
                      "set it in the workflow")
    if auth == "header":
        name = hook.params["header_name"]
        given = headers.get(name)
        if given is None:
            raise Refused(401, "secret_missing", f"the {name} header is missing")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            raise Refused(401, "secret_invalid", f"the {name} header does not hold the secret")
        return None
    return verify_signature(hook.params["hmac_preset"], secret, headers, body, hook.params["replay_window_s"],
                            now=now)


def sign(secret, payload):
    return hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()


def verify_signature(preset, secret, headers, body, window_s, now=None):
    """Check an HMAC-SHA256 signature of the raw body in the format of `preset`; returns its ReplayMark.

    generic: X-NodeFlow-Signature: t=<unix time>,v1=<hex HMAC of "<t>.<body>">
    stripe:  Stripe-Signature: t=<unix time>,v1=<hex HMAC of "<t>.<body>"> (several v1 allowed)
    github:  X-Hub-Signature-256: sha256=<hex HMAC of the body>, with X-GitHub-Delivery

    The replay key comes from what the signature covers, never from an unsigned header:
    the time and the body's hash (generic, stripe), the body's hash alone (github, which
    signs no time, so its X-GitHub-Delivery id could be changed at will). A timed
    signature is accepted from `window_s` before now to MAX_FUTURE_SKEW_S after, and its
    mark lasts until it expires; a GitHub body is accepted once per
    max(window, NODEFLOW_WEBHOOK_IDEMPOTENCY_TTL_S)."""
    now = time.time() if now is None else now
    if preset == "github":
        given = headers.get(GITHUB_SIGNATURE)
        if not given:
            raise Refused(401, "signature_missing", f"the {GITHUB_SIGNATURE} header is missing")
        scheme, _, digest = given.partition("=")
        if scheme != "sha256" or not hmac.compare_digest(digest.encode(), sign(secret, body).encode()):
            raise Refused(401, "signature_invalid", f"the {GITHUB_SIGNATURE} signature does not match the body")
        delivery = headers.get(GITHUB_DELIVERY)
        if not delivery:
            raise Refused(401, "signature_missing", f"the {GITHUB_DELIVERY} header is missing")
        ttl = max(int(window_s), int(settings.NODEFLOW["WEBHOOK_IDEMPOTENCY_TTL_S"]))
        return ReplayMark(f"github:{hashlib.sha256(body).hexdigest()}", ttl)
    header = STRIPE_SIGNATURE if preset == "stripe" else GENERIC_SIGNATURE
    given = headers.get(header)
    if not given:
        raise Refused(401, "signature_missing", f"the {header} header is missing")
    stamp, signatures = None, []
    for part in given.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t":
            stamp = value
        elif name == "v1":
            signatures.append(value)
    if stamp is None or not stamp.isdigit() or not signatures:
        raise Refused(401, "signature_invalid", f"the {header} header must be t=<unix time>,v1=<hex signature>")
    expected = sign(secret, stamp.encode() + b"." + body).encode()
    if not any(hmac.compare_digest(signature.encode(), expected) for signature in signatures):
        raise Refused(401, "signature_invalid", f"the {header} signature does not match the body")
    signed_at = int(stamp)
    if now - signed_at > window_s:
        raise Refused(401, "signature_expired", f"the signature's time is more than {window_s} s ago; "
                      "a signed request is accepted only within its replay window")
    if signed_at - now > MAX_FUTURE_SKEW_S:
        raise Refused(401, "signature_expired", f"the signature's time is more than {MAX_FUTURE_SKEW_S} s "
                      "ahead of the server's clock")
    ttl = int(signed_at + window_s - now) + 1  # until the signature expires
    return ReplayMark(f"{preset}:{signed_at}:{hashlib.sha256(body).hexdigest()}", max(ttl, 1))


def _remember(hook, mark):
    """Mark a signed request as seen for as long as its signature is valid; False when it was seen already."""
    return cache.add(_seen_key(hook, mark), 1, timeout=mark.ttl_s)


def _forget(hook, mark):
    cache.delete(_seen_key(hook, mark))


def _seen_key(hook, mark):
    return f"hook-seen:{hook.endpoint.token}:{hashlib.sha256(mark.key.encode()).hexdigest()}"


# ---------------------------------------------------------------------------
# What lands in the execution's input


def parse_body(body, content_type, require_json):
    """The body as the execution's input carries it: JSON parsed, a form as an object, else text."""
    is_json = content_type == "application/json" or content_type.endswith("+json")
    if not body:
        if require_json:
            raise Refused(400, "invalid_json", "this webhook needs a JSON body; the body is empty")
        return None
    if is_json or require_json:
        try:
            payload = json.loads(body, parse_constant=_refuse_constant)
        except (ValueError, RecursionError) as exc:
            raise Refused(400, "invalid_json", f"the body is not valid JSON: {str(exc)[:200]}") from None
    elif content_type == "application/x-www-form-urlencoded":
        try:
            fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=1000, errors="strict")
        except (UnicodeDecodeError, ValueError) as exc:
            raise Refused(400, "invalid_body", f"the form body cannot be read: {exc}") from None
        payload = {name: values[0] if len(values) == 1 else values for name, values in fields.items()}
    else:
        try:
            payload = body.decode("utf-8")
        except UnicodeDecodeError:
            raise Refused(400, "invalid_body", "the body is neither JSON nor UTF-8 text") from None
    problem = unstorable_json(payload)
    if problem:
        raise Refused(400, "invalid_body", f"the body cannot be stored: {problem}")
    return payload


def _refuse_constant(name):
    raise ValueError(f"{name} is not JSON")


def input_headers(hook, headers):
    """The request's headers (lower-case names) without the secret, signatures and credentials."""
    dropped = DROPPED_HEADERS | {hook.params["header_name"].lower()} if hook.params["auth"] == "header" \
        else DROPPED_HEADERS
    return {name.lower(): value for name, value in headers.items() if name.lower() not in dropped}


def execution_input(hook, request, payload):
    """The execution's input: the parsed body, the request's headers (less credentials), query and method."""
    return {"body": payload, "headers": input_headers(hook, request.headers), "query": _query(request),
            "method": request.method}


def _query(request):
    return {name: values[0] if len(values) == 1 else values for name, values in request.GET.lists()}


# ---------------------------------------------------------------------------
# Starting the execution, once


def start_once(hook, key, input_data, replay_key):
    """Start the execution; with an Idempotency-Key seen within its time to live, answer the first one instead.

    Two concurrent requests with one key: the second blocks on the key's unique index
    until the first commits, then finds its execution; its own work is rolled back."""
    if key is not None:
        first = _first_execution(hook, key)
        if first is not None:
            return Accepted(first, hook, replayed=True)
    remember_signed(hook, replay_key)
    try:
        return _start(hook, key, input_data)
    except BaseException:
        forget_signed(hook, replay_key)  # not run after all: the sender may try the same request again
        raise


def remember_signed(hook, mark):
    """Mark a signed request (its ReplayMark, or None when unsigned) as seen; Refused (401) when it was already."""
    if mark is not None and not _remember(hook, mark):
        raise Refused(401, "replayed", "this signed request was received before; a signature is accepted once")


def forget_signed(hook, mark):
    if mark is not None:
        _forget(hook, mark)


def _start(hook, key, input_data):
    def run(run_here=None):
        return run_workflow(hook.workflow, dispatcher=dispatcher, input_data=input_data, version=hook.version,
                            trigger="webhook", trigger_node=hook.endpoint.node_id, run_here=run_here)

    try:
        if hook.params["response"] == "sync" and key is None:
            # Its instant nodes run in this request, in the transaction that creates it
            # (executing.start_here): a workflow of instant nodes has its result when that commits.
            execution = start_here(run, dispatcher)
            if execution.status in EXECUTION_FINAL:
                return Accepted(str(execution.pk), hook, ended=(execution.status, execution.result, execution.error))
        elif key is None:
            execution = run()  # one transaction of its own (no savepoint round trips)
        else:
            with transaction.atomic():
                IdempotencyKey.objects.filter(endpoint=hook.endpoint, key=key, created_at__lt=_key_cutoff()).delete()
                execution = run()
                IdempotencyKey.objects.create(endpoint=hook.endpoint, key=key, execution=execution)
    except IntegrityError:
        first = _first_execution(hook, key) if key is not None else None
        if first is None:
            raise
        return Accepted(first, hook, replayed=True)
    except InvalidInput as exc:
        raise Refused(400, "invalid_input", str(exc)) from None
    except InvalidWorkflow as exc:
        raise Refused(409, "invalid_workflow", f"the workflow's {hook.version} cannot run: {exc}", exc.errors) from None
    return Accepted(str(execution.pk), hook)


def _key_cutoff():
    return timezone.now() - timedelta(seconds=settings.NODEFLOW["WEBHOOK_IDEMPOTENCY_TTL_S"])


def _first_execution(hook, key):
    found = (IdempotencyKey.objects.filter(endpoint=hook.endpoint, key=key, created_at__gte=_key_cutoff())
             .values_list("execution_id", flat=True).first())
    return str(found) if found is not None else None
