"""Use cases of global variables: read a snapshot, write (from a node or through the API), delete,
prune the history. The rules of each operation are engine.globals'; this module holds the locks.

A write locks the rows of the keys it touches, in key order (two writers of the same keys cannot
deadlock), computes each new value from the value it finds there, and records the change in the
same transaction. A change that alters a value and that a trigger.variable watches is written
`pending`; after the commit, `changes_committed` tells whoever starts the executions (the
workflows app, which this module does not import)."""

import json
import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone

from engine import globals as g
from nodeflow.api import unstorable_json
from variables.models import Variable, VariableChange, VariableRun, VariableTrigger

logger = logging.getLogger("nodeflow.variables")

# Sent after the commit of writes whose changes wait for their trigger.variable executions:
# `change_ids` (VariableChange ids). workflows.variable_triggers listens.
changes_committed = Signal()

# A code node that reads `globals` as a whole gets at most this many keys (its owner's first, by key).
SNAPSHOT_ALL_LIMIT = 1000


class InvalidValue(ValueError):
    """A value the store does not take: not JSON, too large, or not storable; `field` names what."""

    def __init__(self, field, message):
        self.field = field
        super().__init__(message)


def check_key(key, field="key"):
    problem = g.key_problem(key)
    if problem:
        raise InvalidValue(field, problem)


def check_value(value, field="value"):
    """The value's JSON text, or InvalidValue: over NODEFLOW_VARIABLE_MAX_BYTES, or unstorable."""
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise InvalidValue(field, f"{field} is not JSON: {exc}") from None
    limit = settings.NODEFLOW["VARIABLE_MAX_BYTES"]
    size = len(text.encode())
    if size > limit:
        raise InvalidValue(field, f"{field} is {size:,} bytes of JSON, over the limit of {limit:,} "
                                  f"(NODEFLOW_VARIABLE_MAX_BYTES)")
    problem = unstorable_json(value)
    if problem:
        raise InvalidValue(field, f"{field}: {problem}")
    return text


# -- reading ----------------------------------------------------------------------------------


def snapshot(owner_id, keys=None):
    """{key: value} of the owner's variables named in `keys`, or of all of them (up to
    SNAPSHOT_ALL_LIMIT) when `keys` is None: one query, so a node sees them all as of one moment."""
    return {key: value for key, (value, _) in snapshot_with_versions(owner_id, keys).items()}


def snapshot_with_versions(owner_id, keys=None):
    """{key: (value, version)}, as snapshot() (what engine.globals.Snapshot loads)."""
    if keys is not None and not keys:
        return {}
    rows = Variable.objects.filter(owner_id=owner_id, version__gt=0)
    if keys is not None:
        rows = rows.filter(key__in=sorted(keys))
    else:
        rows = rows.order_by("key")[:SNAPSHOT_ALL_LIMIT]
    return {key: (value, version) for key, value, version in rows.values_list("key", "value", "version")}


# -- writing ----------------------------------------------------------------------------------


def write(owner_id, writes, *, execution_id=None, node_id="", user=None):
    """Apply `writes` (engine.globals.GlobalWrite, and DELETE) in one transaction; returns the
    VariableChange rows written. Raises GlobalConflict, GlobalOpError or InvalidValue, and then
    writes nothing (the caller's savepoint, or this transaction, rolls back)."""
    if not writes:
        return []
    for write_ in writes:
        check_key(write_.key)
    with transaction.atomic():
        keys = sorted({write_.key for write_ in writes})
        # Rows for the keys that do not exist yet, so that every writer locks the same rows: a
        # concurrent first write of a key then waits here instead of failing on the unique key.
        rows, missing = _locked_rows(owner_id, keys)
        watched = _watched(owner_id)
        changes, touched = [], {}
        for write_ in writes:
            row = rows[write_.key]
            old, old_version = row.value, row.version
            exists = old_version > 0
            if write_.op == g.DELETE:
                if not exists:
                    continue
                new, new_version = None, 0
            else:
                new = g.apply(write_, exists, old, old_version)
                check_value(new, f"the value of {write_.key}")
                new_version = old_version + 1
            row.value, row.version = new, new_version
            touched[row.key] = row
            altered = (not exists and new_version) or (exists and not new_version) or (new != old)
            pending = altered and any(g.matches(pattern, write_.key) for pattern in watched)
            changes.append(VariableChange(
                owner_id=owner_id, key=write_.key, op=write_.op, old=old if exists else None, new=new,
                old_version=old_version, new_version=new_version, execution_id=execution_id, node_id=node_id,
                user=user, triggers=VariableChange.PENDING if pending else VariableChange.NONE,
            ))
        now = timezone.now()
        for row in touched.values():
            row.updated_at = now
        deleted = [key for key, row in touched.items() if row.version == 0]
        kept = [row for row in touched.values() if row.version]
        if kept:
            Variable.objects.bulk_update(kept, ["value", "version", "updated_at"])
        if deleted:
            Variable.objects.filter(owner_id=owner_id, key__in=deleted).delete()
        # Rows made for keys that stayed absent (a delete of a missing key) go again.
        Variable.objects.filter(owner_id=owner_id, key__in=missing, version=0).delete()
        written = VariableChange.objects.bulk_create(changes)
        pending_ids = [change.pk for change in written if change.triggers == VariableChange.PENDING]
        if pending_ids:
            transaction.on_commit(lambda: _announce(pending_ids))
    return written


def _locked_rows(owner_id, keys):
    """({key: Variable} locked, the keys whose rows were made here), every key with a row."""
    made = set()
    for _ in range(3):
        rows = {row.key: row for row in Variable.objects.select_for_update().filter(owner_id=owner_id, key__in=keys)
                .order_by("key")}
        absent = [key for key in keys if key not in rows]
        if not absent:
            return rows, made
        # A first write of a key: its row is made (a concurrent maker waits on the unique key, then
        # finds it), and every key is locked again in order.
        Variable.objects.bulk_create([Variable(owner_id=owner_id, key=key, value=None, version=0) for key in absent],
                                     ignore_conflicts=True)
        made.update(absent)
    raise RuntimeError(f"the rows of global variables {absent} kept disappearing")


def _watched(owner_id):
    return list(VariableTrigger.objects.filter(owner_id=owner_id).values_list("pattern", flat=True).distinct())


def _announce(change_ids):
    try:
        changes_committed.send(sender=VariableChange, change_ids=change_ids)
    except Exception:  # the changes stay pending: beat's sweep starts them
        logger.exception("could not start the trigger.variable executions of changes %s now", change_ids)


def put(owner, key, value, *, expected_version=None):
    """The API's PUT: set the value (compare_and_set when `expected_version` is given)."""
    check_key(key)
    check_value(value)
    op = g.SET if expected_version is None else g.COMPARE_AND_SET
    write(owner.pk, [g.GlobalWrite(key, op, value, expected_version)], user=owner)
    return Variable.objects.get(owner=owner, key=key)


def delete(owner, key):
    """The API's DELETE; False when there was no such key."""
    return bool(write(owner.pk, [g.GlobalWrite(key, g.DELETE)], user=owner))


# -- history ----------------------------------------------------------------------------------


def prune_history(now=None):
    """Changes older than NODEFLOW_VARIABLE_HISTORY_DAYS go (not those still waiting to start
    their executions), with the chain records of executions started as long ago. Returns how many."""
    days = settings.NODEFLOW["VARIABLE_HISTORY_DAYS"]
    if not days:
        return 0
    cutoff = (now or timezone.now()) - timedelta(days=days)
    old = VariableChange.objects.filter(at__lt=cutoff).exclude(triggers=VariableChange.PENDING)
    VariableRun.objects.filter(change__in=old).delete()
    count, _ = old.delete()
    return count
