"""The webhook door's hook lookup, kept in each web process, dropped whenever a webhook may have changed.

`find_hook` costs two queries and validating the published document (4 ms of the 18.7 ms
the accept path took in Django). The door (triggers.door) asks `lookup` instead, which
answers from this process's memory while the cache's generation key (in Redis, shared
by every web process) still holds the value the entry was made under. Whatever changes
what a production URL runs — saving a draft (its endpoints), publishing, unpublishing,
deleting a workflow — calls `services.hooks_changed()` in its transaction, and the key gets a new
random value once that commits: every process drops its entries on its next request.

A random value rather than a counter: a Redis that restarted empty and was bumped again
could otherwise come back to a value some process still holds entries under. Entries
also expire after NODEFLOW_WEBHOOK_HOOK_CACHE_S, which bounds how long a change whose
bump failed (Redis away at that moment) is missed."""

import threading
from dataclasses import dataclass

from cachetools import TTLCache
from django.conf import settings
from django.core.cache import cache

from nodes.validation import InvalidWorkflow, validate_document
from triggers.services import HOOK_GENERATION_KEY
from triggers.webhooks import Hook, Refused, find_hook


@dataclass
class DoorHook:
    """What the door needs of a production URL: the trigger, the version it runs, and whether that can run."""

    hook: Hook
    version_number: int
    input_schema: dict | None
    # Refused(409) when the published document does not validate: answered after the auth checks, as before.
    cannot_run: Refused | None


class _Entries:
    def __init__(self):
        self.lock = threading.Lock()  # lookups run in the door's threads
        self.generation = None
        self.by_token = self._new()
        self.loading = {}  # (generation, token) → the Event its one loader sets when done

    @staticmethod
    def _new():
        return TTLCache(maxsize=4096, ttl=settings.NODEFLOW["WEBHOOK_HOOK_CACHE_S"])


_entries = _Entries()


def lookup(token):
    """The DoorHook of a production URL, or Refused (404 or the like) as find_hook raises it."""
    generation = cache.get(HOOK_GENERATION_KEY)
    with _entries.lock:
        if generation != _entries.generation:
            _entries.by_token = _entries._new()
            _entries.generation = generation
        found = _entries.by_token.get(token)
    if found is None:
        found = _load_once(token, generation)
    if isinstance(found, Refused):
        raise found
    return found


# How long a lookup waits for another thread's load of the same token before loading it itself.
LOAD_WAIT_S = 5


def _load_once(token, generation):
    """Load the token's entry, one thread at a time: the requests that miss together (the first burst after a
    publish, or after any change dropped every entry) wait for the first one's load instead of each
    running the same queries and validation (twenty at once held a burst's first answers for 400 ms)."""
    key = (generation, token)
    with _entries.lock:
        loading = _entries.loading.get(key)
        if loading is None:
            loading = _entries.loading[key] = threading.Event()
            loader = True
        else:
            loader = False
    if not loader:
        loading.wait(LOAD_WAIT_S)
        with _entries.lock:
            found = _entries.by_token.get(token) if _entries.generation == generation else None
        return found if found is not None else _load(token)  # dropped meanwhile, or the load failed
    try:
        found = _load(token)
        with _entries.lock:
            if _entries.generation == generation:  # not dropped meanwhile
                _entries.by_token[token] = found
        return found
    finally:
        with _entries.lock:
            _entries.loading.pop(key, None)
        loading.set()


def _load(token):
    try:
        hook = find_hook(token, test=False)
    except Refused as refusal:
        return refusal
    published = hook.workflow.published_version
    errors = validate_document(published.definition)
    cannot_run = None
    if errors:
        cannot_run = Refused(409, "invalid_workflow",
                             f"the workflow's {hook.version} cannot run: {InvalidWorkflow(errors)}", errors)
    schema = published.definition.get("input_schema") if isinstance(published.definition, dict) else None
    return DoorHook(hook=hook, version_number=published.number, input_schema=schema or None, cannot_run=cannot_run)
