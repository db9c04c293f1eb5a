"""A circuit breaker per host for `http.request`: a failing downstream service is left alone for a while.

After `failures` consecutive transient failures (a connection error, a timeout, a 5xx, 408,
425 or 429) within `window_s`, the host's circuit opens: requests to it fail at once with
the error `circuit_open` instead of waiting on a service that is down (and adding to its
load). After `cooldown_s` the circuit is half-open: one request goes through as a probe
while the others still fail fast; its success closes the circuit, its failure opens it for
another cool-down. Any answer that is not a transient failure (a 2xx, a 404) counts as the
host working.

The host is the URL's host and port: two services on one machine are two circuits. The
state is shared by every worker (a Redis hash per host, updated in optimistic
transactions) or, in embedded mode, by the threads of the one process (a dict under a
lock). What happens is decided by the pure functions `admit` and `record`; the stores only
apply them atomically.

Parameters: the node's `circuit_breaker` param over settings.NODEFLOW["HTTP_BREAKER"];
`failures: 0` turns it off."""

import logging
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from engine.errors import TIMEOUT, TRANSIENT, NodeError

CLOSED, HALF_OPEN, OPEN = "closed", "half_open", "open"
STATE_VALUES = {CLOSED: 0, HALF_OPEN: 1, OPEN: 2}
CIRCUIT_OPEN = "circuit_open"
logger = logging.getLogger("nodeflow.http.breaker")
DEFAULTS = {"failures": 5, "window_s": 60.0, "cooldown_s": 30.0}

PARAMS_SCHEMA = {
    "type": "object",
    "title": "Circuit breaker",
    "description": "Per host: after this many consecutive transient failures within the window, requests to the "
                   "host fail at once (circuit_open) until the cool-down has passed and a probe succeeds. "
                   "Left out: the server's defaults.",
    "properties": {
        "failures": {"type": "integer", "minimum": 0, "maximum": 1000,
                     "description": "Consecutive transient failures that open the circuit; 0 turns it off."},
        "window_s": {"type": "number", "exclusiveMinimum": 0, "maximum": 86400,
                     "description": "The failures count when they all fall within this many seconds."},
        "cooldown_s": {"type": "number", "exclusiveMinimum": 0, "maximum": 86400,
                       "description": "Seconds the circuit stays open before a probe request is let through."},
    },
    "additionalProperties": False,
}


@dataclass(frozen=True)
class Settings:
    """A breaker's parameters."""

    failures: int
    window_s: float
    cooldown_s: float

    @property
    def enabled(self):
        return self.failures > 0


def settings_for(params):
    """The node's `circuit_breaker` param over the server's defaults."""
    merged = {**DEFAULTS, **server_defaults(), **(params or {})}
    return Settings(int(merged["failures"]), float(merged["window_s"]), float(merged["cooldown_s"]))


def server_defaults():
    try:
        from django.conf import settings
    except ImportError:
        return {}
    if not settings.configured:
        return {}
    return dict(getattr(settings, "NODEFLOW", {}).get("HTTP_BREAKER", {}))


def host_of(url):
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme.lower())
    return f"{host}:{port}"


# ---------------------------------------------------------------------------
# The rules, on a plain dict: {"state", "failures", "first_failure", "opened_at", "probe_at"}


def admit(state, now, breaker):
    """(whether a request may go now, the new state or None when unchanged, seconds until a probe may go)."""
    status = state.get("state", CLOSED)
    if status == CLOSED:
        return True, None, 0.0
    if status == OPEN:
        reopen_at = state.get("opened_at", 0.0) + breaker.cooldown_s
        if now < reopen_at:
            return False, None, reopen_at - now
        return True, {**state, "state": HALF_OPEN, "probe_at": now}, 0.0
    # Half-open: one probe at a time; a probe that never reports back (its worker died) frees the slot.
    probe_free_at = state.get("probe_at", 0.0) + breaker.cooldown_s
    if now < probe_free_at:
        return False, None, probe_free_at - now
    return True, {**state, "probe_at": now}, 0.0


def record(state, now, failed, breaker):
    """The state after a request's outcome, or None when unchanged."""
    status = state.get("state", CLOSED)
    if not failed:
        if status == CLOSED and not state.get("failures"):
            return None
        return {"state": CLOSED, "failures": 0}
    if status == HALF_OPEN:
        return {**state, "state": OPEN, "opened_at": now}
    if status == OPEN:
        return None  # a request let through before it opened
    failures, first = state.get("failures", 0), state.get("first_failure", now)
    if not failures or now - first > breaker.window_s:
        failures, first = 0, now
    failures += 1
    if failures >= breaker.failures:
        return {"state": OPEN, "failures": failures, "first_failure": first, "opened_at": now}
    return {"state": CLOSED, "failures": failures, "first_failure": first}


def is_breaker_failure(error):
    """Whether a node error says the host is failing (rather than the request being wrong)."""
    return isinstance(error, NodeError) and error.error_class in (TRANSIENT, TIMEOUT) and error.code != CIRCUIT_OPEN


# ---------------------------------------------------------------------------
# Where the state lives


class MemoryStore:
    """The state in this process (embedded mode: every worker thread shares it)."""

    def __init__(self):
        self._states = {}
        self._lock = threading.Lock()

    def update(self, host, change):
        """Apply `change(state) -> (result, new state or None)` atomically; returns result."""
        with self._lock:
            result, new = change(dict(self._states.get(host, {})))
            if new is not None:
                self._states[host] = new
            return result

    def states(self):
        with self._lock:
            return {host: dict(state) for host, state in self._states.items()}

    def clear(self):
        with self._lock:
            self._states.clear()


class RedisStore:
    """The state in Redis, shared by every worker: a hash per host and a set of the hosts."""

    _FLOATS = ("first_failure", "opened_at", "probe_at")

    def __init__(self, url, prefix=""):
        import redis

        self._redis = redis
        self.client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self.prefix = f"{prefix}nodeflow:breaker:"

    def _key(self, host):
        return f"{self.prefix}host:{host}"

    def update(self, host, change):
        try:
            return self._update(host, change)
        except self._redis.RedisError as exc:
            raise ConnectionError(f"redis: {exc}") from exc

    def _update(self, host, change):
        key = self._key(host)
        # Most calls change nothing (a closed circuit, a success): one read, no transaction.
        result, new = change(self._decode(self.client.hgetall(key)))
        if new is None:
            return result
        while True:
            with self.client.pipeline() as pipe:
                try:
                    pipe.watch(key)
                    result, new = change(self._decode(pipe.hgetall(key)))
                    if new is None:
                        pipe.unwatch()
                        return result
                    pipe.multi()
                    pipe.delete(key)
                    pipe.hset(key, mapping={name: str(value) for name, value in new.items()})
                    pipe.expire(key, 7 * 24 * 3600)  # a host nobody calls any more is forgotten
                    pipe.sadd(f"{self.prefix}hosts", host)
                    pipe.execute()
                    return result
                except self._redis.WatchError:
                    continue  # another worker changed it: decide again on what it wrote

    def states(self):
        hosts = [h.decode() for h in self.client.smembers(f"{self.prefix}hosts")]
        found = {}
        for host in hosts:
            raw = self.client.hgetall(self._key(host))
            if raw:
                found[host] = self._decode(raw)
            else:
                self.client.srem(f"{self.prefix}hosts", host)
        return found

    def clear(self):
        for host in self.client.smembers(f"{self.prefix}hosts"):
            self.client.delete(self._key(host.decode()))
        self.client.delete(f"{self.prefix}hosts")

    def _decode(self, raw):
        state = {k.decode(): v.decode() for k, v in raw.items()}
        if "failures" in state:
            state["failures"] = int(state["failures"])
        for name in self._FLOATS:
            if name in state:
                state[name] = float(state[name])
        return state


_store = None
_store_lock = threading.Lock()


def store():
    """Redis when the server has it (REDIS_URL), else this process's memory."""
    global _store
    with _store_lock:
        if _store is None:
            from django.conf import settings

            if settings.REDIS_URL:
                prefix = (getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", None) or {}).get("global_keyprefix", "")
                _store = RedisStore(settings.REDIS_URL, prefix)
            else:
                _store = MemoryStore()
        return _store


# ---------------------------------------------------------------------------
# What the node calls


def before_request(url, breaker, method):
    """Raise `circuit_open` when the host's circuit does not let this request through."""
    if not breaker.enabled:
        return
    host = host_of(url)

    def change(state):
        allowed, new, wait = admit(state, time.time(), breaker)
        return (allowed, wait), new

    try:
        allowed, wait = store().update(host, change)
    except OSError as exc:  # redis.RedisError too: a breaker that cannot be read lets requests through
        logger.warning("circuit breaker state unreadable (%s); %s let through", exc, host)
        return
    if not allowed:
        raise NodeError(
            f"{method} {host}: the circuit is open after {breaker.failures} consecutive failures of this host; "
            f"requests fail at once for {wait:.0f} s more, then one probe is let through",
            TRANSIENT, code=CIRCUIT_OPEN, details={"host": host, "retry_after_s": round(wait, 3)},
        )


def after_request(url, breaker, failed):
    if not breaker.enabled:
        return
    now = time.time()
    try:
        store().update(host_of(url), lambda state: (None, record(state, now, failed, breaker)))
    except OSError as exc:
        logger.warning("circuit breaker state not written (%s)", exc)


def states():
    """{host: state dict} of the hosts the breaker knows, for /metrics."""
    return store().states()
