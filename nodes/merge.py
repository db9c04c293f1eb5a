"""flow.merge: an n-way join with combine options (it doubles as an "edit fields" node).

The engine decides when the merge runs (join mode `all` or `first`, see
engine.scheduling); this module only shapes what the taken branches produced."""

import json

from engine.errors import PERMANENT, NodeError
from engine.scheduling import JOIN_ALL, JOIN_FIRST
from nodes.registry import register_node

SHAPES = ("object", "append", "merge_by_key")


def _join_mode(params):
    return JOIN_FIRST if params.get("mode") == "first" else JOIN_ALL


@register_node(
    "flow.merge",
    instant=True,
    title="Merge",
    category="flow",
    join_mode=_join_mode,
    defaults={"mode": "all", "shape": "object"},
    description=(
        "Joins any number of branches: `all` waits for every taken branch, `first` goes on with the "
        "first to finish and cancels the rest. Output shapes: `object` (each branch's output keyed by its "
        "node id), `append` (one list: list outputs are concatenated, other outputs added as one item, "
        "null outputs left out), `merge_by_key` (lists of objects joined on `key`; for the same key the "
        "fields of later branches, in edge order, win). `fields` ({output name: dotted source path}) "
        "then picks and renames fields of the merged object, or of each item of a list."
    ),
    params_schema={
        "type": "object",
        "properties": {
            "mode": {"type": "string", "enum": ["all", "first"], "default": "all"},
            "shape": {"type": "string", "enum": list(SHAPES), "default": "object"},
            "key": {"type": "string", "minLength": 1, "title": "Key (merge_by_key)",
                    "description": "Field the items are joined on; a dotted path reaches into nested objects."},
            "fields": {
                "type": "object",
                "title": "Pick and rename fields",
                "description": "{output name: source path}, e.g. {\"email\": \"lookup.body.email\"}; "
                               "a missing source gives null.",
                "additionalProperties": {"type": "string"},
            },
        },
        "additionalProperties": False,
        "if": {"properties": {"shape": {"const": "merge_by_key"}}, "required": ["shape"]},
        "then": {"required": ["key"]},
    },
)
def merge(call):
    params = call.params
    # In mode "first" the engine passes only the branch that finished first.
    outputs = call.upstream_outputs()
    shape = params.get("shape", "object")
    if shape == "object":
        merged = outputs
    elif shape == "append":
        merged = _append(outputs)
    elif shape == "merge_by_key":
        merged = _merge_by_key(outputs, params.get("key"))
    else:
        raise NodeError(f"shape {shape!r} is not one of {', '.join(SHAPES)}", PERMANENT, code="merge.invalid_params")
    fields = params.get("fields")
    if fields:
        merged = pick_fields(merged, fields)
    call.log(f"merged {len(outputs)} branch(es) ({', '.join(outputs) or 'none'}) as {shape}")
    return merged


def _append(outputs):
    items = []
    for output in outputs.values():
        if isinstance(output, list):
            items.extend(output)
        elif output is not None:
            items.append(output)
    return items


def _merge_by_key(outputs, key):
    if not key:
        raise NodeError("shape merge_by_key needs `key`: the field the items are joined on", PERMANENT,
                        code="merge.invalid_params")
    joined = {}  # the key value as canonical JSON -> the merged item
    for source, output in outputs.items():
        if output is None:
            continue
        items = output if isinstance(output, list) else [output]
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                raise NodeError(
                    f"merge_by_key joins lists of objects, but item {index} from {source!r} is {_kind(item)}",
                    PERMANENT, code="merge.not_objects",
                )
            found, value = read_path(item, key)
            if not found:
                raise NodeError(f"item {index} from {source!r} has no {key!r} to join on", PERMANENT,
                                code="merge.missing_key", details={"source": source, "index": index})
            marker = json.dumps(value, sort_keys=True)
            if marker in joined:
                joined[marker].update(item)
            else:
                joined[marker] = dict(item)
    return list(joined.values())


def pick_fields(value, fields):
    """{name: value at path} for an object; the same for each item of a list."""
    if isinstance(value, list):
        return [_pick(item, fields, f"item {index}") for index, item in enumerate(value)]
    return _pick(value, fields, "the merged value")


def _pick(item, fields, what):
    if not isinstance(item, dict):
        raise NodeError(f"fields pick from objects, but {what} is {_kind(item)}", PERMANENT, code="merge.not_objects")
    return {name: read_path(item, path)[1] for name, path in fields.items()}


def read_path(value, path):
    """(found, value) at a dotted path such as "body.items.0.id"; (False, None) when it is missing."""
    for part in path.split(".") if path else ():
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return False, None
    return True, value


def _kind(value):
    if value is None:
        return "null"
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "a list"}.get(
        type(value), type(value).__name__)
