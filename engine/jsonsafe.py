"""Values made storable as JSON on PostgreSQL (jsonb) and SQLite (JSON_VALID).

Node outputs, inputs and errors come from HTTP answers, code nodes and webhook callers;
Python's json reads and writes things those databases refuse. The rules, chosen so that
a node either stores exactly what it produced or fails with a clear error:

- NaN, Infinity and -Infinity are refused: `NotStorable`, naming where the number is.
  They are not JSON; turning them into strings or null would hand downstream nodes a
  different type than the one they were written for, and silently. The caller fails the
  node with the message, so `on_error` (retry, continue, route) applies.
- U+0000 and lone surrogates (U+D800–U+DFFF, which JSON text may escape but UTF-8
  cannot encode) in a string or an object key are replaced by U+FFFD (the replacement
  character). jsonb cannot hold either; they mostly arrive in text decoded from binary
  data, where refusing the whole answer would be harsher than marking the character. A
  key that then collides with another key of the same object is refused.
- A value that needs cleaning and is nested deeper than `MAX_DEPTH` levels is refused
  (the walk recurses; json's own encoder refuses much deeper values anyway).
- Anything else passes through untouched; the value is returned as it is (the same
  object) when nothing needed changing, so the common case costs one C-speed encoding.

Pure Python: no Django import.
"""

import json
import math

__all__ = ["NotStorable", "storable", "MAX_DEPTH"]

MAX_DEPTH = 500
NUL = "\x00"
REPLACEMENT = "\ufffd"


class NotStorable(ValueError):
    """A value JSON or the database cannot hold; `path` says where (`$.a[2]`)."""

    def __init__(self, message, path="$"):
        super().__init__(message)
        self.path = path


def storable(value, what="the value"):
    """`value` made storable (see the module docstring), or NotStorable.

    `what` names the value in messages: "the output", "the error"…
    """
    try:
        text = json.dumps(value, allow_nan=False, ensure_ascii=False)
        text.encode("utf-8")  # refuses lone surrogates
    except (ValueError, TypeError, RecursionError):
        pass  # a bad number or character, something json cannot encode, or deep nesting: walk it
    else:
        if "\\u0000" not in text:
            return value
    return _clean(value, "$", 0, what)


def _clean_text(text):
    if NUL in text:
        text = text.replace(NUL, REPLACEMENT)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = "".join(REPLACEMENT if "\ud800" <= char <= "\udfff" else char for char in text)
    return text


def _clean(value, path, depth, what):
    if isinstance(value, str):
        cleaned = _clean_text(value)
        return value if cleaned == value else cleaned
    if isinstance(value, float):
        if not math.isfinite(value):
            shown = "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
            raise NotStorable(f"{what} holds {shown} at {path}: JSON has no NaN or Infinity", path)
        return value
    if depth >= MAX_DEPTH:
        if isinstance(value, (dict, list, tuple)):
            raise NotStorable(f"{what} is nested deeper than {MAX_DEPTH} levels at {path}", path)
        return value
    if isinstance(value, dict):
        cleaned = {}
        changed = False
        for key, item in value.items():
            new_key = key
            if isinstance(key, str) and _clean_text(key) != key:
                new_key = _clean_text(key)
            new_item = _clean(item, _child(path, key), depth + 1, what)
            if new_key is not key:
                if new_key in value or new_key in cleaned:
                    raise NotStorable(f"{what} has the key {new_key!r} twice at {path} once U+0000 "
                                      "or a lone surrogate is replaced (databases cannot store them)", path)
                changed = True
            changed = changed or new_item is not item
            cleaned[new_key] = new_item
        return cleaned if changed else value
    if isinstance(value, (list, tuple)):
        cleaned = [_clean(item, f"{path}[{index}]", depth + 1, what) for index, item in enumerate(value)]
        if isinstance(value, list) and all(new is old for new, old in zip(cleaned, value)):
            return value
        return cleaned
    return value


def _child(path, key):
    if isinstance(key, str) and key.isidentifier():
        return f"{path}.{key}"
    return f"{path}[{json.dumps(key) if isinstance(key, str) else key}]"
