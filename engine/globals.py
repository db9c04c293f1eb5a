"""Global variables (COMPOSITION.md "Variables beyond one run"): the rules, without a database.

A global variable is a JSON value under a key of its owner's store, with a version that every
write increments. Nodes read `globals.<key>` from a snapshot taken when they start, and write
through operations (`GlobalWrite`) that the runtime applies when the node completes, each under
the key's row lock: `incr`, `append` and `merge` are computed on the value as it is then, so
concurrent executions never lose an update; `compare_and_set` refuses a stale version.

What a key may be is decided here once, for the API, the validation of documents and the
runtime alike: an identifier, so that `globals.<key>` is a plain path in expressions and
JsonLogic (`globals.player_42.score`)."""

import re
from collections.abc import Mapping
from dataclasses import dataclass

KEY_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,127}$"
KEY = re.compile(KEY_PATTERN)
# trigger.variable's `key`: a key, or a prefix of keys followed by `*` ("order_*"; "*" alone is every key).
KEY_OR_PREFIX = re.compile(r"^(?:[A-Za-z_][A-Za-z0-9_]{0,127}|[A-Za-z_][A-Za-z0-9_]{0,127}\*|\*)$")
ROOT = "globals"

SET, INCR, APPEND, MERGE, COMPARE_AND_SET, DELETE = "set", "incr", "append", "merge", "compare_and_set", "delete"
OPS = (SET, INCR, APPEND, MERGE, COMPARE_AND_SET)  # what data.set's `op` may be; DELETE is a code node's `del`


class GlobalConflict(Exception):
    """A compare_and_set found another version than the one it expected."""

    def __init__(self, key, expected, actual):
        self.key, self.expected, self.actual = key, expected, actual
        super().__init__(f"global variable {key!r} is at version {actual}, not the expected version {expected}: "
                         f"another write came first; read it again and retry")


class GlobalOpError(ValueError):
    """An operation that cannot apply to the value it finds (incr on a string, append to an object…)."""

    def __init__(self, key, message):
        self.key = key
        super().__init__(f"global variable {key!r}: {message}")


@dataclass(frozen=True)
class GlobalWrite:
    """One operation on one key, as a node asks for it."""

    key: str
    op: str = SET
    value: object = None
    # compare_and_set: the version the key must be at (0: must not exist yet). A set with one is an
    # optimistic write (a code node's, of what it read): its conflict is worth a retry, which reads again.
    expected_version: int | None = None

    def as_dict(self):
        data = {"key": self.key, "op": self.op, "value": self.value}
        if self.op == COMPARE_AND_SET:
            data["expected_version"] = self.expected_version
        return data


def key_problem(key):
    """Why `key` cannot name a global variable, or None."""
    if not isinstance(key, str):
        return f"a key is a string, not {type(key).__name__}"
    if not KEY.match(key):
        return f"key {key[:140]!r} must match {KEY_PATTERN} (letters, digits and _, not starting with a digit)"
    return None


def matches(pattern, key):
    """Whether trigger.variable's `key` param (a key, `prefix*` or `*`) matches `key`."""
    return key.startswith(pattern[:-1]) if pattern.endswith("*") else key == pattern


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def apply(write, exists, current, version):
    """The value after `write`, given the key's current value and version (version 0: no such key).

    Raises GlobalConflict (compare_and_set on another version) or GlobalOpError."""
    key, op, value = write.key, write.op, write.value
    if op == SET and write.expected_version is None:
        return value
    if op in (SET, COMPARE_AND_SET):
        expected = write.expected_version
        if expected != version:
            raise GlobalConflict(key, expected, version)
        return value
    if op == INCR:
        step = 1 if value is None else value
        base = current if exists else 0
        if not _is_number(step):
            raise GlobalOpError(key, f"incr needs a number to add, not {type(step).__name__}")
        if not _is_number(base):
            raise GlobalOpError(key, f"incr needs a number, and the value is {_type_name(base)}")
        return base + step
    if op == APPEND:
        base = current if exists and current is not None else []
        if not isinstance(base, list):
            raise GlobalOpError(key, f"append needs a list, and the value is {_type_name(base)}")
        return [*base, value]
    if op == MERGE:
        base = current if exists and current is not None else {}
        if not isinstance(value, dict):
            raise GlobalOpError(key, f"merge needs an object to merge, not {_type_name(value)}")
        if not isinstance(base, dict):
            raise GlobalOpError(key, f"merge needs an object, and the value is {_type_name(base)}")
        return {**base, **value}
    raise GlobalOpError(key, f"unknown op {op!r} (one of {', '.join(OPS)})")


def _type_name(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if _is_number(value):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"


def keys_read(paths):
    """The global keys that context paths read (["globals.a.b", "vars.x"] → {"a"}), or None when a
    path reads `globals` as a whole or by a computed key (then every key must be there)."""
    keys = set()
    for path in paths:
        parts = path.split(".")
        if parts[0] != ROOT:
            continue
        if len(parts) < 2:
            return None
        keys.add(parts[1])
    return keys


class Snapshot(Mapping):
    """`context.globals`: the values a node run reads, as of when it started.

    The keys a node reads are known from its params (`keys_read`): those are loaded at once, in
    one query, when the node starts. A node whose reads cannot be told (code, a computed key) gets
    every key, loaded on first use, also in one query. `load(keys or None)` returns
    {key: (value, version)}."""

    def __init__(self, keys, load):
        self._load = load
        self._all = keys is None
        self._entries = None if keys is None else (load(keys) if keys else {})
        self._values = None if self._entries is None else {key: entry[0] for key, entry in self._entries.items()}

    def _loaded(self):
        if self._values is None:
            self._entries = self._load(None)
            self._values = {key: entry[0] for key, entry in self._entries.items()}
        return self._values

    def versions(self):
        """{key: version} of the keys loaded (after materialise: of every key)."""
        self._loaded()
        return {key: entry[1] for key, entry in self._entries.items()}

    def __getitem__(self, key):
        return self._loaded()[key]

    def __iter__(self):
        return iter(self._loaded())

    def __len__(self):
        return len(self._loaded())

    def materialise(self):
        """Every key the node may read, as a plain dict (a copy)."""
        if not self._all and self._values is not None:
            # A node whose params name its keys, asking for the whole: it gets every key, once.
            self._values, self._all = None, True
        return dict(self._loaded())
