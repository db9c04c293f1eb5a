"""Set / Edit Fields (v1–v2 typed value lists, v3 fields, v3.3+ assignments, raw JSON) → data.set.

The node's output is the set fields; when n8n also kept the input's other fields, the
output is `dict(<input>, **{fields})`, the input object with the fields written over it."""

import json

from importers.n8n import expressions
from importers.n8n.nodes import NotTranslated, Translation, option

N8N_TYPES = ("n8n-nodes-base.set",)
VERSIONS = (1, 3.4)

_TYPE_NAMES = {"stringValue": "string", "numberValue": "number", "booleanValue": "boolean",
               "arrayValue": "array", "objectValue": "object"}


def _literal(value, kind):
    if not isinstance(value, str):
        return value
    try:
        if kind == "number":
            number = float(value)
            return int(number) if number.is_integer() else number
        if kind == "boolean":
            return value.strip().lower() in ("true", "1", "yes", "on")
        if kind in ("array", "object"):
            return json.loads(value)
    except ValueError:
        return value
    return value


def _jinja(value, scope):
    """A Jinja expression for an n8n value (literal or `=…`); raises Untranslatable."""
    if not expressions.is_expression(value):
        return expressions.to_jinja(("lit", value))
    parts = []
    for is_code, text in expressions.split_template(value[1:]):
        parts.append(expressions.to_jinja(expressions.parse(text.strip(), scope)) if is_code else json.dumps(text))
    if len(parts) == 1:
        return parts[0]
    return " ~ ".join(f"({part})" for part in parts)


def _typed(expression, kind):
    """The Jinja expression converted as n8n converts a field of this type."""
    if kind == "string":
        return f"({expression}) ~ \"\""
    if kind == "number":
        return f"(({expression}) | float) if ({expression}) is string else ({expression})"
    if kind in ("array", "object"):
        return f"(({expression}) | fromjson) if ({expression}) is string else ({expression})"
    if kind == "boolean":
        return f"((({expression}) | lower) in [\"true\", \"1\"]) if ({expression}) is string else ({expression})"
    return expression


def _fields(node, ctx):
    """[(name, n8n value, kind)] and whether the input's other fields are kept."""
    params = node.get("parameters") or {}
    version = ctx.type_version
    if version < 3:
        fields = []
        for kind in ("string", "number", "boolean"):
            for entry in option(params, "values", kind, default=[]) or []:
                fields.append((entry.get("name", ""), entry.get("value", "" if kind == "string" else None), kind))
        return fields, not params.get("keepOnlySet", False)
    if params.get("mode", "manual") == "raw":
        raise NotTranslated("JSON output mode (a JSON text with expressions inside); rebuild it as fields")
    if version >= 3.3:
        fields = [(a.get("name", ""), a.get("value"), a.get("type", "string"))
                  for a in option(params, "assignments", "assignments", default=[]) or []]
        keep = params.get("includeOtherFields", False)
        if keep and params.get("include", "all") != "all":
            raise NotTranslated("keeping only some of the input's fields")
    else:
        fields = []
        for entry in option(params, "fields", "values", default=[]) or []:
            kind_key = entry.get("type", "stringValue")
            fields.append((entry.get("name", ""), entry.get(kind_key), _TYPE_NAMES.get(kind_key, "string")))
        include = params.get("include", "all")
        if include in ("selected", "except"):
            raise NotTranslated("keeping only some of the input's fields")
        keep = include == "all"
    return fields, keep


def translate(node, ctx):
    params = node.get("parameters") or {}
    fields, keep = _fields(node, ctx)
    dot_notation = (params.get("options") or {}).get("dotNotation", True)
    notes = []
    if keep and ctx.scope.current is not None:
        try:
            items = ", ".join(f"{json.dumps(name)}: {_typed(_jinja(value, ctx.scope), kind)}"
                              for name, value, kind in fields if name)
            if dot_notation and any("." in name for name, _, _ in fields):
                notes.append("dotted field names are written as flat keys over the input")
            return Translation("data.set", {"output": "{{ dict(" + ctx.scope.current + ", **{" + items + "}) }}"},
                               notes + ["the input's other fields are kept (as n8n does)"])
        except expressions.Untranslatable as exc:
            notes.append(f"the input's other fields are not kept ({exc}); only the set fields are output")
    elif keep:
        notes.append("the input's other fields are not kept (the node has no single input node)")
    output = {}
    for name, value, kind in fields:
        if not name:
            continue
        if expressions.is_expression(value):
            rewritten = ctx.value(value, f"field {name!r}")
            # A value that is one expression gets n8n's conversion to the field's type; mixed text is text.
            one_expression = (rewritten is not value and rewritten.startswith("{{") and rewritten.endswith("}}")
                              and rewritten.count("{{") == 1)
            if one_expression:
                rewritten = "{{ " + _typed(rewritten[2:-2].strip(), kind) + " }}"
        else:
            rewritten = ctx.value(_literal(value, kind), f"field {name!r}")
        target = output
        path = name.split(".") if dot_notation else [name]
        for part in path[:-1]:
            target = target.setdefault(part, {}) if isinstance(target.get(part, {}), dict) else target
        target[path[-1]] = rewritten
    return Translation("data.set", {"output": output}, notes)
