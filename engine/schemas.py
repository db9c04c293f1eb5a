"""User JSON Schemas checked with a linear-time regular-expression engine.

Workflow documents carry JSON Schemas written by their users (a run's `input_schema`,
a `flow.wait` node's input schema), and the instances checked against them come from
anyone who can start a run, including anonymous webhook callers. jsonschema evaluates
`pattern` and `patternProperties` with Python's backtracking `re`, so a pattern such as
`^(a+)+$` and a 30-character input hold a process for minutes. Here those keywords run
on RE2 (google-re2), whose matching time is linear in the input.

RE2 refuses what needs backtracking: backreferences (`\\1`), lookahead and lookbehind
(`(?=`, `(?!`, `(?<=`, `(?<!`), possessive and atomic groups, `\\Z`, and patterns whose
compiled program exceeds its memory budget. `check_patterns` names such patterns when a
document is saved; at run time a refused pattern fails validation with a message rather
than being run on another engine. `\\d`, `\\w` and `\\s` match ASCII only, as in the
ECMA-262 dialect JSON Schema specifies.

jsonschema also matches property names against `patternProperties` with `re` inside its
`unevaluatedProperties` evaluation, so that combination in one schema is refused too.

Pure Python: no Django import.
"""

import functools

import jsonschema
import re2
from jsonschema import Draft202012Validator, ValidationError

__all__ = ["schema_errors", "check_patterns", "PatternRefused"]

# RE2's default program budget (8 MiB) compiles any sensible pattern; a bigger one is a
# mistake or an attack, and its compile time grows with this budget.
_MAX_PROGRAM_BYTES = 8 << 20
_MAX_CACHED_PATTERNS = 512


class PatternRefused(ValueError):
    """A schema pattern that RE2 does not accept (the message says why)."""


def _options():
    options = re2.Options()
    options.log_errors = False  # RE2 would print every refused pattern to stderr
    options.max_mem = _MAX_PROGRAM_BYTES
    return options


@functools.lru_cache(maxsize=_MAX_CACHED_PATTERNS)
def _compiled(pattern):
    """The RE2 program for `pattern`, or PatternRefused."""
    if not isinstance(pattern, str):
        raise PatternRefused("a pattern must be a string")
    try:
        return re2.compile(pattern, _options())
    except re2.error as exc:
        reason = exc.args[0] if exc.args else "not supported"
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise PatternRefused(f"pattern {pattern!r} is not supported: {reason}") from None


def _search(pattern, text):
    """Whether `pattern` matches somewhere in `text` (JSON Schema patterns are not anchored)."""
    program = _compiled(pattern)
    try:
        return program.search(text) is not None
    except UnicodeEncodeError:
        # A lone surrogate (valid in JSON text, not in UTF-8) cannot reach RE2; it
        # matches what a replacement character would.
        return program.search(text.encode("utf-8", "replace").decode("utf-8")) is not None


def _pattern(validator, pattern, instance, schema):
    if not validator.is_type(instance, "string"):
        return
    try:
        matched = _search(pattern, instance)
    except PatternRefused as exc:
        yield ValidationError(str(exc))
        return
    if not matched:
        yield ValidationError(f"{_short(instance)} does not match {pattern!r}")


def _pattern_properties(validator, pattern_properties, instance, schema):
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in pattern_properties.items():
        try:
            _compiled(pattern)
        except PatternRefused as exc:
            yield ValidationError(str(exc))
            continue
        for key, value in instance.items():
            if _search(pattern, key):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


def _additional_properties(validator, additional, instance, schema):
    if not validator.is_type(instance, "object"):
        return
    properties = schema.get("properties", {})
    patterns = list(schema.get("patternProperties", {}))
    try:
        for pattern in patterns:
            _compiled(pattern)
    except PatternRefused:
        return  # patternProperties reports it
    extras = sorted((key for key in instance
                     if key not in properties and not any(_search(p, key) for p in patterns)), key=str)
    if validator.is_type(additional, "object"):
        for extra in extras:
            yield from validator.descend(instance[extra], additional, path=extra)
    elif not additional and extras:
        listed = ", ".join(repr(extra) for extra in extras)
        if patterns:
            yield ValidationError(f"{listed} {'does' if len(extras) == 1 else 'do'} not match any of "
                                  f"the regexes: {', '.join(repr(p) for p in sorted(patterns))}")
        else:
            yield ValidationError(f"Additional properties are not allowed ({listed} "
                                  f"{'was' if len(extras) == 1 else 'were'} unexpected)")


def _short(value, limit=80):
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


_Validator = jsonschema.validators.extend(
    Draft202012Validator,
    {"pattern": _pattern, "patternProperties": _pattern_properties,
     "additionalProperties": _additional_properties},
)


def _walk(node, path):
    """Every (path, subschema dict) in a schema, following every keyword's subschemas."""
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            if key in ("enum", "const", "default", "examples"):
                continue  # instances, not schemas
            yield from _walk(value, [*path, key])
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, [*path, index])


def _json_path(parts):
    text = "$"
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def check_patterns(schema):
    """[(json-path, message)] for every pattern in `schema` that is refused.

    Covers `pattern` values, `patternProperties` keys, and `patternProperties` anywhere in
    a schema that also uses `unevaluatedProperties` (jsonschema would match those with
    Python's backtracking engine). Paths are like `$.properties.name.pattern`.
    """
    problems = []
    uses_unevaluated = False
    has_pattern_properties = []
    for path, node in _walk(schema, []):
        pattern = node.get("pattern")
        if "pattern" in node and not isinstance(pattern, (dict, list)):
            try:
                _compiled(pattern)
            except PatternRefused as exc:
                problems.append((_json_path([*path, "pattern"]), str(exc)))
        properties = node.get("patternProperties")
        if isinstance(properties, dict):
            has_pattern_properties.append(path)
            for key in properties:
                try:
                    _compiled(key)
                except PatternRefused as exc:
                    problems.append((_json_path([*path, "patternProperties", key]), str(exc)))
        if "unevaluatedProperties" in node:
            uses_unevaluated = True
    if uses_unevaluated:
        for path in has_pattern_properties:
            problems.append((_json_path([*path, "patternProperties"]),
                             "patternProperties cannot be combined with unevaluatedProperties"))
    return problems


def schema_errors(schema, instance):
    """The ValidationErrors of `instance` against the user schema `schema`, sorted by path.

    Draft 2020-12, with `pattern`, `patternProperties` and `additionalProperties` matched
    by RE2. A schema with a refused pattern (see `check_patterns`) yields one error per
    refused pattern, at the instance's root, whatever the instance: it is never evaluated
    with `re`, and it does not pass some instances and not others.
    """
    refused = check_patterns(schema)
    if refused:
        return [ValidationError(message, validator="pattern", validator_value=None, instance=instance)
                for _, message in refused]
    errors = _Validator(schema).iter_errors(instance)
    return sorted(errors, key=lambda error: [str(part) if not isinstance(part, int) else f"{part:020d}"
                                             for part in error.path])

