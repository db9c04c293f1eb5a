"""JsonLogic (jsonlogic.com) evaluator for `logic.if` / `logic.switch` conditions.

Plain Python, no dependencies. It implements the classic operator set (it passes the
whole jsonlogic.com test set) and the extensions the JsonLogic compatibility suites
define: `val`, `exists`, `??`, `throw`, `try`, `preserve`, chained and lazily
evaluated comparisons, arithmetic that fails instead of producing NaN, and scopes
(`{"val": [[2], "key"]}` reads from the context around a `map`, `filter`, … or `try`).

Semantics worth knowing (they follow the suites, which follow JavaScript):

- Truthiness: `null`, `false`, `0`, `""` and `[]` are falsy; every object, even `{}`,
  and every other string, even `"0"`, is truthy.
- Arithmetic converts `null`→0, booleans→0/1 and numeric strings (JavaScript's
  `Number()` syntax); anything else (a non-numeric string, an array, an object), a
  division by zero or a non-finite result fails with error type `NaN`. Results are
  JSON numbers: an integral float comes back as an `int`.
- `<`, `<=`, `>`, `>=`: two strings compare as strings (ISO dates order correctly);
  otherwise both sides become numbers, and a side that cannot (an array, an object, a
  non-numeric string) fails with `NaN`. With 3+ arguments they chain: `a < b < c`.
- `==`/`!=` compare two strings as strings, `null` equal only to `null`, `0` and
  `false` (it becomes 0 against a number or boolean), never to a string; otherwise
  numerically. `===`/`!==` compare JSON type and value, arrays and objects deeply.
- Comparisons, `if`, `and`, `or` and the iterators need a literal array of arguments
  (error type `Invalid Arguments` otherwise) and evaluate lazily, left to right.
- `var` reads a dotted path (`"a.b.0"`, and `length` of an array or string), with an
  optional default used when the value is missing or null. `val` takes the path as a
  list of keys (`["a", "b", 0]`), so keys may contain dots.
- Errors raised by the rule (`NaN`, `Invalid Arguments`, `throw`) are
  `EvaluationError`s carrying a JSON payload such as `{"type": "NaN"}`; `try` catches
  them. `RuleError` (malformed rule) and `LimitExceeded` (budget) are never caught.

Evaluation is bounded: every node evaluated, every array item copied and every 256
characters of string built cost one step (`max_steps`, default 100,000), and rules
nest at most `MAX_DEPTH` levels, so a hostile rule fails fast instead of hanging the
worker or filling its memory.

Not implemented: `log` (no console on a server) and the method-call extensions of
some evaluators (`method`, `startsWith`, …); `check()` reports them as unknown.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any, Callable

__all__ = [
    "DEFAULT_MAX_STEPS",
    "MAX_DEPTH",
    "OPERATORS",
    "EvaluationError",
    "JsonLogicError",
    "LimitExceeded",
    "RuleError",
    "apply",
    "check",
    "truthy",
    "var_paths",
]

DEFAULT_MAX_STEPS = 100_000
MAX_DEPTH = 128  # nested operators/arrays in one rule; keeps far below Python's recursion limit
_CHARS_PER_STEP = 256  # strings built (cat, substr, …) cost one step per this many characters
_EXACT_FLOAT_INT = 2**53  # integral floats up to here come back as ints
_MAX_INT = 2**63  # larger ints switch to floating point, as in JavaScript (and stay bounded)

_NAN = "NaN"
_INVALID = "Invalid Arguments"


class JsonLogicError(ValueError):
    """A rule could not be evaluated: it is malformed, it failed, or it ran out of budget."""

    def __init__(self, message: str, error: dict | None = None):
        super().__init__(message)
        self.message = message
        # The JSON payload a `try` fallback sees as its data, e.g. {"type": "NaN"}.
        self.error = error if error is not None else {"type": type(self).__name__}

    @property
    def type(self) -> Any:
        """The error's `type` ("NaN", "Invalid Arguments", what `throw` threw, …)."""
        return self.error.get("type") if isinstance(self.error, dict) else None


class RuleError(JsonLogicError):
    """The rule is malformed: an unknown operator, an object with several keys, a non-JSON value."""


class EvaluationError(JsonLogicError):
    """The rule failed while running (NaN, invalid arguments, `throw`); `try` can catch it."""


class LimitExceeded(JsonLogicError):
    """The rule needed more steps or nesting than allowed; `try` cannot catch it."""


def apply(rule: Any, data: Any = None, *, max_steps: int = DEFAULT_MAX_STEPS) -> Any:
    """Evaluate `rule` against `data` (JSON values; Mappings and Sequences are read lazily).

    Raises JsonLogicError (a ValueError) for a malformed rule, an error the rule raises
    and does not catch, or when evaluation needs more than `max_steps` steps."""
    if not isinstance(max_steps, int) or max_steps < 1:
        raise ValueError("max_steps must be a positive integer")
    return _Run(max_steps).eval(rule, _Scope(data, None))


def truthy(value: Any) -> bool:
    """JsonLogic truthiness: null, false, 0, NaN, "" and [] are falsy; objects are truthy."""
    if value is None or value is False:
        return False
    if value is True:
        return True
    kind = type(value)
    if kind is int or kind is float:
        return value != 0 and value == value
    if kind is str or kind is list or kind is tuple:
        return len(value) > 0
    if kind is dict or isinstance(value, Mapping):
        return True
    if isinstance(value, (int, float)):
        return value != 0 and value == value
    if isinstance(value, (str, Sequence)) and not isinstance(value, (bytes, bytearray)):
        return len(value) > 0
    return True


# --------------------------------------------------------------------------- values

_NULL, _BOOL, _NUMBER, _STRING, _ARRAY, _OBJECT, _OTHER = (
    "null", "boolean", "number", "string", "array", "object", "other"
)


def _kind(value: Any) -> str:
    """The JSON type of a value (Mappings are objects, non-string Sequences arrays)."""
    if value is None:
        return _NULL
    kind = type(value)
    if kind is str:
        return _STRING
    if kind is bool:
        return _BOOL
    if kind is int or kind is float:
        return _NUMBER
    if kind is dict:
        return _OBJECT
    if kind is list or kind is tuple:
        return _ARRAY
    if isinstance(value, bool):
        return _BOOL
    if isinstance(value, (int, float)):
        return _NUMBER
    if isinstance(value, str):
        return _STRING
    if isinstance(value, Mapping):
        return _OBJECT
    if isinstance(value, Sequence) and not isinstance(value, (bytes, bytearray)):
        return _ARRAY
    return _OTHER


def _is_array(value: Any) -> bool:
    return _kind(value) is _ARRAY


def _describe(value: Any) -> str:
    """A short description of a value for error messages (never dumps big data)."""
    kind = _kind(value)
    if kind is _STRING:
        text = json.dumps(value[:40], ensure_ascii=False)
        return text[:-1] + '…"' if len(value) > 40 else text
    if kind is _NUMBER:
        return _number_text(value)
    if kind is _BOOL:
        return "true" if value else "false"
    if kind is _NULL:
        return "null"
    if kind is _ARRAY:
        return "an array"
    if kind is _OBJECT:
        return "an object"
    return f"a {type(value).__name__}"


# JavaScript's Number(string): surrounding whitespace ignored, "" is 0, decimal with
# optional exponent, 0x/0o/0b integers, ±Infinity. Python's float() would also accept
# "nan", "inf", "1_000" and non-ASCII digits, which JavaScript does not.
_JS_SPACE = "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_INT_RE = re.compile(r"[+-]?[0-9]{1,18}\Z")
_DECIMAL_RE = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\Z")
_RADIX_RE = re.compile(r"0(?:[xX][0-9a-fA-F]{1,64}|[oO][0-7]{1,64}|[bB][01]{1,256})\Z")
_INFINITIES = {"Infinity": math.inf, "+Infinity": math.inf, "-Infinity": -math.inf}


def _parse_number(text: str) -> int | float | None:
    text = text.strip(_JS_SPACE)
    if not text:
        return 0
    if _INT_RE.match(text):
        return int(text)
    if _DECIMAL_RE.match(text):
        return float(text)
    if _RADIX_RE.match(text):
        return int(text, 0)
    return _INFINITIES.get(text)


def _to_number(value: Any, op: str) -> int | float:
    """JavaScript-style numeric conversion; fails with NaN where JavaScript would give NaN."""
    kind = type(value)
    if kind is int:
        return value
    if kind is float:
        if value != value:
            raise _nan(op, value)
        return value
    if value is None:
        return 0
    if kind is bool:
        return int(value)
    if kind is str:
        number = _parse_number(value)
        if number is None:
            raise _nan(op, value)
        return number
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float) and value == value:
        return float(value)
    if isinstance(value, str):
        return _to_number(str(value), op)
    raise _nan(op, value)


def _to_int(value: Any, op: str) -> int:
    number = _to_number(value, op)
    if isinstance(number, float):
        if math.isinf(number):
            return _MAX_INT if number > 0 else -_MAX_INT
        return int(number)
    return number


def _number_result(value: int | float, op: str) -> int | float:
    """A computed number as JSON can hold it: finite, integral floats as ints."""
    if isinstance(value, float):
        if not math.isfinite(value):
            raise EvaluationError(f"NaN: {op!r} produced a number too large to represent", {"type": _NAN})
        if value.is_integer() and -_EXACT_FLOAT_INT <= value <= _EXACT_FLOAT_INT:
            return int(value)
        return value
    if -_MAX_INT <= value <= _MAX_INT:
        return value
    return _number_result(_int_to_float(value, op), op)


def _int_to_float(value: int, op: str) -> float:
    try:
        return float(value)
    except OverflowError:
        raise EvaluationError(f"NaN: {op!r} produced a number too large to represent", {"type": _NAN}) from None


def _nan(op: str, value: Any) -> EvaluationError:
    return EvaluationError(f"NaN: {op!r} cannot use {_describe(value)} as a number", {"type": _NAN})


def _invalid(op: str, why: str) -> EvaluationError:
    return EvaluationError(f"Invalid Arguments: {op!r} {why}", {"type": _INVALID})


def _number_text(value: int | float) -> str:
    """A number as JavaScript's String() writes it (1.0 → "1", 1e-7 → "1e-7")."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        if -10**21 < value < 10**21:
            return str(value)
        try:
            value = float(value)
        except OverflowError:
            return "Infinity" if value > 0 else "-Infinity"
    if value != value:
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    mantissa, _, exponent = repr(abs(value)).partition("e")
    whole, _, fraction = mantissa.partition(".")
    raw = whole + fraction
    digits = raw.lstrip("0")
    point = len(whole) + (int(exponent) if exponent else 0) - (len(raw) - len(digits))
    digits = digits.rstrip("0")
    count = len(digits)
    if count <= point <= 21:
        return sign + digits + "0" * (point - count)
    if 0 < point <= 21:
        return sign + digits[:point] + "." + digits[point:]
    if -6 < point <= 0:
        return sign + "0." + "0" * -point + digits
    power = point - 1
    power_text = ("+" if power >= 0 else "-") + str(abs(power))
    if count == 1:
        return sign + digits + "e" + power_text
    return sign + digits[0] + "." + digits[1:] + "e" + power_text


def _key_text(key: Any) -> str | None:
    """A path key as JavaScript would spell the property name (None: no such name)."""
    kind = _kind(key)
    if kind is _STRING:
        return key
    if kind is _NUMBER or kind is _BOOL:
        return _number_text(key)
    if kind is _NULL:
        return "null"
    return None


_INDEX_RE = re.compile(r"(?:0|[1-9][0-9]{0,17})\Z")


def _index(key: Any) -> int | None:
    kind = _kind(key)
    if kind is _NUMBER:
        if isinstance(key, float):
            if not key.is_integer():
                return None
            key = int(key)
        return key if key >= 0 else None
    if kind is _STRING and _INDEX_RE.match(key):
        return int(key)
    return None


def _get(container: Any, key: Any, *, var_style: bool) -> tuple[bool, Any]:
    """(found, value) of one path step. `var_style` adds JavaScript's `.length`."""
    if type(container) is dict and type(key) is str:  # the common case, without ABC checks
        if key in container:
            return True, container[key]
        return False, None
    if isinstance(container, Mapping):
        name = _key_text(key)
        if name is None:
            return False, None
        try:
            return True, container[name]
        except KeyError:
            return False, None
    kind = _kind(container)
    if kind is _ARRAY:
        index = _index(key)
        if index is not None and index < len(container):
            return True, container[index]
        if var_style and key == "length":
            return True, len(container)
        return False, None
    if kind is _STRING and var_style and key == "length":
        return True, len(container)
    return False, None


def _to_text(run: _Run, value: Any, depth: int = 0) -> str:
    """A value as `cat` writes it: JavaScript's String() for scalars and arrays, JSON for objects."""
    kind = _kind(value)
    if kind is _STRING:
        return value
    if kind is _NULL:
        return ""
    if kind is _NUMBER or kind is _BOOL:
        return _number_text(value)
    if depth > 32:
        raise LimitExceeded("value nested deeper than 32 levels", {"type": "Limit Exceeded"})
    if kind is _ARRAY:
        run.charge(len(value))
        return ",".join(_to_text(run, item, depth + 1) for item in value)
    if kind is _OBJECT:
        text = json.dumps(_plain(run, value), ensure_ascii=False, separators=(",", ":"), default=str)
        run.charge_text(len(text))
        return text
    return str(value)


def _plain(run: _Run, value: Any, depth: int = 0) -> Any:
    """A deep copy with Mappings as dicts and Sequences as lists, charged per item."""
    if depth > MAX_DEPTH:
        raise LimitExceeded(f"value nested deeper than {MAX_DEPTH} levels", {"type": "Limit Exceeded"})
    kind = _kind(value)
    if kind is _OBJECT:
        run.charge(len(value))
        return {str(k): _plain(run, v, depth + 1) for k, v in value.items()}
    if kind is _ARRAY:
        run.charge(len(value))
        return [_plain(run, item, depth + 1) for item in value]
    return value


def _strict_equal(run: _Run, left: Any, right: Any) -> bool:
    """`===`: same JSON type and value; arrays and objects compared deeply."""
    pending = [(left, right)]
    while pending:
        a, b = pending.pop()
        run.charge()
        kind = _kind(a)
        if kind is not _kind(b):
            return False
        if kind is _ARRAY:
            if len(a) != len(b):
                return False
            pending.extend(zip(a, b))
        elif kind is _OBJECT:
            if len(a) != len(b):
                return False
            for key, value in a.items():
                found, other = _get(b, key, var_style=False)
                if not found:
                    return False
                pending.append((value, other))
        elif kind is _OTHER:
            if a is not b:
                return False
        elif a != b:
            return False
    return True


def _loose_equal(op: str, a: Any, b: Any) -> bool:
    """`==`: strings as strings, null equal to null and (as 0) to numbers and booleans."""
    ka, kb = _kind(a), _kind(b)
    if ka is _STRING and kb is _STRING:
        return a == b
    if ka is _NULL and kb is _NULL:
        return True
    for kind, value in ((ka, a), (kb, b)):
        if kind is _ARRAY or kind is _OBJECT or kind is _OTHER:
            raise _nan(op, value)
    if (ka is _NULL and kb is _STRING) or (ka is _STRING and kb is _NULL):
        return False
    return _to_number(a, op) == _to_number(b, op)


def _ordered(op: str, a: Any, b: Any, compare: Callable[[Any, Any], bool]) -> bool:
    ka, kb = _kind(a), _kind(b)
    if ka is _STRING and kb is _STRING:
        return compare(a, b)
    for kind, value in ((ka, a), (kb, b)):
        if kind is _ARRAY or kind is _OBJECT or kind is _OTHER:
            raise _nan(op, value)
    return compare(_to_number(a, op), _to_number(b, op))


# --------------------------------------------------------------------------- evaluation


class _Scope:
    """The data a rule reads, and the scope around it (for `val` climbing)."""

    __slots__ = ("data", "parent")

    def __init__(self, data: Any, parent: _Scope | None):
        self.data = data
        self.parent = parent


def _inner_scope(data: Any, meta: Any, parent: _Scope) -> _Scope:
    # Two levels per iteration, like the reference engine: [[1]] reads the iteration
    # (its "index"), [[2]] the data the iterator itself was evaluated against.
    return _Scope(data, _Scope(meta, parent))


class _Run:
    """One evaluation: its remaining step budget and current nesting depth."""

    __slots__ = ("steps_left", "depth")

    def __init__(self, max_steps: int):
        self.steps_left = max_steps
        self.depth = 0

    def charge(self, steps: int = 1) -> None:
        self.steps_left -= steps
        if self.steps_left < 0:
            raise LimitExceeded(
                "rule needs more evaluation steps than allowed (max_steps)", {"type": "Limit Exceeded"}
            )

    def charge_text(self, length: int) -> None:
        self.charge(length // _CHARS_PER_STEP + 1)

    def eval(self, rule: Any, scope: _Scope) -> Any:
        self.steps_left -= 1
        if self.steps_left < 0:
            self.charge(0)
        kind = type(rule)
        if kind is dict:
            if len(rule) == 1:
                ((op, args),) = rule.items()
                operator = OPERATORS.get(op) if isinstance(op, str) else None
                if operator is None:
                    raise RuleError(f"unknown operator {op!r}", {"type": "Unknown Operator", "operator": str(op)})
                return self._nested(operator, args, scope)
            if not rule:
                return {}
            raise RuleError(_several_keys(rule), {"type": "Invalid Rule"})
        if kind is list or kind is tuple:
            return self._nested(_eval_array, rule, scope)
        if kind is str or kind is int or kind is float or kind is bool or rule is None:
            return rule
        if isinstance(rule, (str, int, float)):
            return rule
        if isinstance(rule, Mapping):
            return self.eval(dict(rule), scope)
        raise RuleError(f"a rule cannot contain a {type(rule).__name__}", {"type": "Invalid Rule"})

    def _nested(self, operator: Callable, args: Any, scope: _Scope) -> Any:
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise LimitExceeded(f"rule nested deeper than {MAX_DEPTH} levels", {"type": "Limit Exceeded"})
            return operator(self, args, scope)
        finally:
            self.depth -= 1


def _several_keys(rule: Mapping) -> str:
    keys = ", ".join(repr(k) for k in list(rule)[:5])
    return f"an object with {len(rule)} keys ({keys}) is not an operator: an operator object has exactly one key"


def _eval_array(run: _Run, items: Sequence, scope: _Scope) -> list:
    return [run.eval(item, scope) for item in items]


def _is_operator(value: Any) -> bool:
    return type(value) is dict and len(value) == 1


def _eval_args(run: _Run, args: Any, scope: _Scope) -> list:
    """The evaluated arguments of an eager operator.

    A literal array is evaluated item by item; an operator whose value is an array
    supplies the whole argument list (`{"max": {"val": "scores"}}`); anything else is
    the single argument."""
    if type(args) is list or type(args) is tuple:
        return [run.eval(item, scope) for item in args]
    value = run.eval(args, scope)
    if _is_operator(args) and _is_array(value):
        run.charge(len(value))
        return list(value)
    return [value]


def _literal_args(op: str, args: Any) -> Sequence:
    """The unevaluated argument array of a lazy operator, which must be written literally."""
    if type(args) is list or type(args) is tuple:
        return args
    raise _invalid(op, "takes a literal array of arguments")


# --------------------------------------------------------------------------- operators


def _op_var(run: _Run, args: Any, scope: _Scope) -> Any:
    values = _eval_args(run, args, scope)
    path = values[0] if values else None
    default = values[1] if len(values) > 1 else None
    found, value = _var_lookup(run, scope.data, path)
    return value if found and value is not None else default


def _var_lookup(run: _Run, data: Any, path: Any) -> tuple[bool, Any]:
    if path is None or path == "":
        return True, data
    kind = _kind(path)
    if kind is _STRING:
        parts = path.split(".")
    elif kind is _NUMBER:
        parts = _number_text(path).split(".")
    else:
        return False, None
    run.charge(len(parts))
    for part in parts:
        found, data = _get(data, part, var_style=True)
        if not found:
            return False, None
    return True, data


def _val_lookup(run: _Run, values: list, scope: _Scope) -> tuple[bool, Any]:
    data = scope.data
    keys = values
    if values and _is_array(values[0]) and len(values[0]) == 1:
        climb = abs(_to_int(values[0][0], "val"))
        target: _Scope | None = scope
        for _ in range(climb):
            target = target.parent
            if target is None:
                return False, None
        data = target.data
        keys = values[1:]
    run.charge(len(keys))
    for key in keys:
        if key is None:
            continue
        found, data = _get(data, key, var_style=False)
        if not found:
            return False, None
    return True, data


def _op_val(run: _Run, args: Any, scope: _Scope) -> Any:
    found, value = _val_lookup(run, _eval_args(run, args, scope), scope)
    return value if found else None


def _op_exists(run: _Run, args: Any, scope: _Scope) -> bool:
    found, _ = _val_lookup(run, _eval_args(run, args, scope), scope)
    return found


def _missing_keys(run: _Run, keys: Sequence, data: Any) -> list:
    missing = []
    for key in keys:
        found, value = _var_lookup(run, data, key)
        if not found or value is None or (type(value) is str and value == ""):
            missing.append(key)
    return missing


def _op_missing(run: _Run, args: Any, scope: _Scope) -> list:
    values = _eval_args(run, args, scope)
    keys = values[0] if values and _is_array(values[0]) else values
    return _missing_keys(run, keys, scope.data)


def _op_missing_some(run: _Run, args: Any, scope: _Scope) -> list:
    values = _eval_args(run, args, scope)
    if len(values) < 2 or not _is_array(values[1]):
        raise _invalid("missing_some", "takes [minimum, [keys…]]")
    need, keys = _to_number(values[0], "missing_some"), values[1]
    missing = _missing_keys(run, keys, scope.data)
    return [] if len(keys) - len(missing) >= need else missing


def _op_if(run: _Run, args: Any, scope: _Scope) -> Any:
    args = _literal_args("if", args)
    count = len(args)
    if count == 0:
        return None
    if count == 1:
        return run.eval(args[0], scope)
    i = 0
    while i + 1 < count:
        if truthy(run.eval(args[i], scope)):
            return run.eval(args[i + 1], scope)
        i += 2
    return run.eval(args[i], scope) if i < count else None


def _op_and(run: _Run, args: Any, scope: _Scope) -> Any:
    value: Any = False
    for item in _literal_args("and", args):
        value = run.eval(item, scope)
        if not truthy(value):
            return value
    return value


def _op_or(run: _Run, args: Any, scope: _Scope) -> Any:
    value: Any = False
    for item in _literal_args("or", args):
        value = run.eval(item, scope)
        if truthy(value):
            return value
    return value


def _single_value(run: _Run, args: Any, scope: _Scope) -> Any:
    """The operand of a unary operator: first item of a literal array, else the value itself."""
    if type(args) is list or type(args) is tuple:
        return run.eval(args[0], scope) if args else None
    return run.eval(args, scope)


def _op_not(run: _Run, args: Any, scope: _Scope) -> bool:
    return not truthy(_single_value(run, args, scope))


def _op_double_not(run: _Run, args: Any, scope: _Scope) -> bool:
    return truthy(_single_value(run, args, scope))


def _op_coalesce(run: _Run, args: Any, scope: _Scope) -> Any:
    if type(args) is list or type(args) is tuple:
        for item in args:
            value = run.eval(item, scope)
            if value is not None:
                return value
        return None
    value = run.eval(args, scope)
    if _is_operator(args) and _is_array(value):
        return next((item for item in value if item is not None), None)
    return value


def _op_throw(run: _Run, args: Any, scope: _Scope) -> Any:
    values = _eval_args(run, args, scope)
    payload = values[0] if values else None
    error = _plain(run, payload) if _kind(payload) is _OBJECT else {"type": payload}
    shown = error.get("type", error) if isinstance(error.get("type"), str) else json.dumps(error, default=str)
    raise EvaluationError(f"thrown: {shown}", error)


def _op_try(run: _Run, args: Any, scope: _Scope) -> Any:
    items = args if type(args) is list or type(args) is tuple else [args]
    failure: EvaluationError | None = None
    for item in items:
        # After a failure the next alternative reads the error ({"type": …}) as its data;
        # [[2]] climbs back to the data the `try` was evaluated against.
        here = scope if failure is None else _inner_scope(dict(failure.error), None, scope)
        try:
            return run.eval(item, here)
        except EvaluationError as exc:
            failure = exc
    if failure is not None:
        raise failure
    return None


def _op_preserve(run: _Run, args: Any, scope: _Scope) -> Any:
    return _plain(run, args)


def _op_plus(run: _Run, args: Any, scope: _Scope) -> int | float:
    total: int | float = 0
    for value in _eval_args(run, args, scope):
        total += _to_number(value, "+")
    return _number_result(total, "+")


def _op_multiply(run: _Run, args: Any, scope: _Scope) -> int | float:
    product: int | float = 1
    for value in _eval_args(run, args, scope):
        product *= _to_number(value, "*")
        if type(product) is int and not -_MAX_INT <= product <= _MAX_INT:
            product = _int_to_float(product, "*")
    return _number_result(product, "*")


def _op_minus(run: _Run, args: Any, scope: _Scope) -> int | float:
    values = _eval_args(run, args, scope)
    if not values:
        raise _invalid("-", "needs at least one argument")
    if len(values) == 1:
        return _number_result(-_to_number(values[0], "-"), "-")
    result = _to_number(values[0], "-")
    for value in values[1:]:
        result -= _to_number(value, "-")
    return _number_result(result, "-")


def _divide(a: int | float, b: int | float) -> int | float:
    if b == 0:
        raise EvaluationError("NaN: '/' division by zero", {"type": _NAN})
    try:
        return a / b
    except OverflowError:
        raise EvaluationError("NaN: '/' produced a number too large to represent", {"type": _NAN}) from None


def _op_divide(run: _Run, args: Any, scope: _Scope) -> int | float:
    values = _eval_args(run, args, scope)
    if not values:
        raise _invalid("/", "needs at least one argument")
    if len(values) == 1:
        return _number_result(_divide(1, _to_number(values[0], "/")), "/")
    result = _to_number(values[0], "/")
    for value in values[1:]:
        result = _divide(result, _to_number(value, "/"))
    return _number_result(result, "/")


def _remainder(a: int | float, b: int | float) -> int | float:
    """JavaScript's %: the sign follows the dividend."""
    if b == 0:
        raise EvaluationError("NaN: '%' division by zero", {"type": _NAN})
    if type(a) is int and type(b) is int:
        result = abs(a) % abs(b)
        return -result if a < 0 else result
    try:
        return math.fmod(a, b)
    except ValueError:
        raise EvaluationError("NaN: '%' of an infinite number", {"type": _NAN}) from None


def _op_modulo(run: _Run, args: Any, scope: _Scope) -> int | float:
    values = _eval_args(run, args, scope)
    if len(values) < 2:
        raise _invalid("%", "needs at least two arguments")
    result = _to_number(values[0], "%")
    for value in values[1:]:
        result = _remainder(result, _to_number(value, "%"))
    return _number_result(result, "%")


def _extreme(op: str, pick: Callable) -> Callable:
    def run_extreme(run: _Run, args: Any, scope: _Scope) -> int | float | None:
        numbers = [_to_number(value, op) for value in _eval_args(run, args, scope)]
        return _number_result(pick(numbers), op) if numbers else None

    return run_extreme


def _comparison(op: str, holds: Callable[[Any, Any], bool]) -> Callable:
    """A chained, lazily evaluated comparison: every adjacent pair must hold."""

    def run_comparison(run: _Run, args: Any, scope: _Scope) -> bool:
        args = _literal_args(op, args)
        if len(args) < 2:
            raise _invalid(op, "needs at least two arguments")
        previous = run.eval(args[0], scope)
        for item in args[1:]:
            current = run.eval(item, scope)
            if not holds(run, previous, current):
                return False
            previous = current
        return True

    return run_comparison


def _op_in(run: _Run, args: Any, scope: _Scope) -> bool:
    values = _eval_args(run, args, scope)
    item = values[0] if values else None
    container = values[1] if len(values) > 1 else None
    kind = _kind(container)
    if kind is _STRING:
        item_kind = _kind(item)
        if item_kind is _STRING:
            run.charge_text(len(container))
            return item in container
        if item_kind is _NUMBER or item_kind is _BOOL:
            return _number_text(item) in container
        return False
    if kind is _ARRAY:
        return any(_strict_equal(run, item, element) for element in container)
    return False


def _op_cat(run: _Run, args: Any, scope: _Scope) -> str:
    parts = [_to_text(run, value) for value in _eval_args(run, args, scope) if value is not None]
    text = "".join(parts)
    run.charge_text(len(text))
    return text


def _op_substr(run: _Run, args: Any, scope: _Scope) -> str:
    values = _eval_args(run, args, scope)
    text = _to_text(run, values[0]) if values else ""
    size = len(text)
    start = _to_int(values[1], "substr") if len(values) > 1 else 0
    if start < 0:
        start = max(size + start, 0)
    start = min(start, size)
    end = size
    if len(values) > 2 and values[2] is not None:
        length = _to_int(values[2], "substr")
        end = size + length if length < 0 else start + length
    result = text[start:end] if end > start else ""
    run.charge_text(len(result))
    return result


def _op_merge(run: _Run, args: Any, scope: _Scope) -> list:
    merged: list = []
    for value in _eval_args(run, args, scope):
        if _is_array(value):
            run.charge(len(value))
            merged.extend(value)
        else:
            merged.append(value)
    return merged


def _iteration(op: str, args: Any, run: _Run, scope: _Scope, *, null_is_empty: bool) -> tuple[Any, Any]:
    """The (items, rule) of an iterator after checking its arguments."""
    args = _literal_args(op, args)
    if len(args) < 2:
        raise _invalid(op, "takes [array, rule]")
    if args[0] is None:
        raise _invalid(op, "needs an array to iterate over, got null")
    items = run.eval(args[0], scope)
    if items is None and null_is_empty:
        return [], args[1]
    if not _is_array(items):
        raise _invalid(op, f"needs an array to iterate over, got {_describe(items)}")
    return items, args[1]


def _op_map(run: _Run, args: Any, scope: _Scope) -> list:
    if type(args) is list and len(args) > 1 and args[1] is None:
        raise _invalid("map", "needs a rule to apply to each item, got null")
    items, rule = _iteration("map", args, run, scope, null_is_empty=True)
    return [run.eval(rule, _inner_scope(item, {"index": i}, scope)) for i, item in enumerate(items)]


def _op_filter(run: _Run, args: Any, scope: _Scope) -> list:
    if type(args) is list and len(args) > 1 and args[1] is None:
        raise _invalid("filter", "needs a rule to test each item, got null")
    items, rule = _iteration("filter", args, run, scope, null_is_empty=True)
    return [item for i, item in enumerate(items) if truthy(run.eval(rule, _inner_scope(item, {"index": i}, scope)))]


def _op_all(run: _Run, args: Any, scope: _Scope) -> bool:
    items, rule = _iteration("all", args, run, scope, null_is_empty=False)
    if not len(items):
        return False
    return all(truthy(run.eval(rule, _inner_scope(item, {"index": i}, scope))) for i, item in enumerate(items))


def _op_some(run: _Run, args: Any, scope: _Scope) -> bool:
    items, rule = _iteration("some", args, run, scope, null_is_empty=False)
    return any(truthy(run.eval(rule, _inner_scope(item, {"index": i}, scope))) for i, item in enumerate(items))


def _op_none(run: _Run, args: Any, scope: _Scope) -> bool:
    items, rule = _iteration("none", args, run, scope, null_is_empty=False)
    return not any(truthy(run.eval(rule, _inner_scope(item, {"index": i}, scope))) for i, item in enumerate(items))


def _op_reduce(run: _Run, args: Any, scope: _Scope) -> Any:
    if type(args) is list and len(args) > 1 and args[1] is None:
        raise _invalid("reduce", "needs a rule to combine the items, got null")
    literal = _literal_args("reduce", args)
    items, rule = _iteration("reduce", args, run, scope, null_is_empty=True)
    has_initial = len(literal) > 2
    accumulator = run.eval(literal[2], scope) if has_initial else None
    iterator = iter(items)
    start = 0
    if not has_initial:
        accumulator = next(iterator, None)
        start = 1
    for i, item in enumerate(iterator, start):
        data = {"current": item, "accumulator": accumulator}
        accumulator = run.eval(rule, _inner_scope(data, {"index": i}, scope))
    return accumulator


OPERATORS: dict[str, Callable[[_Run, Any, _Scope], Any]] = {
    "var": _op_var,
    "val": _op_val,
    "exists": _op_exists,
    "missing": _op_missing,
    "missing_some": _op_missing_some,
    "if": _op_if,
    "?:": _op_if,
    "and": _op_and,
    "or": _op_or,
    "!": _op_not,
    "!!": _op_double_not,
    "??": _op_coalesce,
    "throw": _op_throw,
    "try": _op_try,
    "preserve": _op_preserve,
    "==": _comparison("==", lambda run, a, b: _loose_equal("==", a, b)),
    "!=": _comparison("!=", lambda run, a, b: not _loose_equal("!=", a, b)),
    "===": _comparison("===", _strict_equal),
    "!==": _comparison("!==", lambda run, a, b: not _strict_equal(run, a, b)),
    "<": _comparison("<", lambda run, a, b: _ordered("<", a, b, lambda x, y: x < y)),
    "<=": _comparison("<=", lambda run, a, b: _ordered("<=", a, b, lambda x, y: x <= y)),
    ">": _comparison(">", lambda run, a, b: _ordered(">", a, b, lambda x, y: x > y)),
    ">=": _comparison(">=", lambda run, a, b: _ordered(">=", a, b, lambda x, y: x >= y)),
    "+": _op_plus,
    "-": _op_minus,
    "*": _op_multiply,
    "/": _op_divide,
    "%": _op_modulo,
    "max": _extreme("max", max),
    "min": _extreme("min", min),
    "in": _op_in,
    "cat": _op_cat,
    "substr": _op_substr,
    "merge": _op_merge,
    "map": _op_map,
    "filter": _op_filter,
    "reduce": _op_reduce,
    "all": _op_all,
    "some": _op_some,
    "none": _op_none,
}

# --------------------------------------------------------------------------- static checks

_ANY = None
# operator: (fewest arguments, most arguments or None, arguments must be a literal array)
_ARITY: dict[str, tuple[int, int | None, bool]] = {
    "var": (0, 2, False),
    "val": (0, _ANY, False),
    "exists": (0, _ANY, False),
    "missing": (0, _ANY, False),
    "missing_some": (2, 2, False),
    "if": (0, _ANY, True),
    "?:": (3, 3, True),
    "and": (0, _ANY, True),
    "or": (0, _ANY, True),
    "!": (0, 1, False),
    "!!": (0, 1, False),
    "??": (0, _ANY, False),
    "throw": (1, 1, False),
    "try": (0, _ANY, False),
    "preserve": (0, _ANY, False),
    "==": (2, _ANY, True),
    "!=": (2, _ANY, True),
    "===": (2, _ANY, True),
    "!==": (2, _ANY, True),
    "<": (2, _ANY, True),
    "<=": (2, _ANY, True),
    ">": (2, _ANY, True),
    ">=": (2, _ANY, True),
    "+": (0, _ANY, False),
    "-": (1, _ANY, False),
    "*": (0, _ANY, False),
    "/": (1, _ANY, False),
    "%": (2, _ANY, False),
    "max": (1, _ANY, False),
    "min": (1, _ANY, False),
    "in": (2, 2, False),
    "cat": (0, _ANY, False),
    "substr": (1, 3, False),
    "merge": (0, _ANY, False),
    "map": (2, 2, True),
    "filter": (2, 2, True),
    "reduce": (2, 3, True),
    "all": (2, 2, True),
    "some": (2, 2, True),
    "none": (2, 2, True),
}
assert set(_ARITY) == set(OPERATORS)

_ITERATORS = frozenset({"map", "filter", "reduce", "all", "some", "none"})
_SCALARS = (str, int, float, bool, type(None))


def _plural(count: int) -> str:
    return f"{count} argument" + ("" if count == 1 else "s")


def _arity_problems(op: str, args: Any, where: str) -> list[str]:
    fewest, most, literal_only = _ARITY[op]
    if type(args) is list or type(args) is tuple:
        count = len(args)
    elif literal_only:
        return [f"{op!r} at {where} takes a literal array of arguments"]
    elif _is_operator(args):
        return []  # the argument list is computed at run time
    else:
        count = 1
    problems = []
    if count < fewest or (most is not None and count > most):
        if fewest == most:
            expected = f"exactly {_plural(fewest)}"
        elif most is None:
            expected = f"at least {_plural(fewest)}"
        elif fewest == 0:
            expected = f"at most {_plural(most)}"
        else:
            expected = f"{fewest} to {most} arguments"
        problems.append(f"{op!r} at {where} takes {expected}, got {count}")
    if op in _ITERATORS and type(args) is list:
        if args and args[0] is None:
            problems.append(f"{op!r} at {where} needs an array to iterate over, got null")
        if op in ("map", "filter", "reduce") and len(args) > 1 and args[1] is None:
            problems.append(f"{op!r} at {where} needs a rule for each item, got null")
    return problems


def _did_you_mean(op: Any) -> str:
    close = difflib.get_close_matches(str(op), list(OPERATORS), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def check(rule: Any, *, path: str = "condition") -> list[str]:
    """Static problems of a rule (unknown operators, objects with several keys, wrong
    argument counts, rules nested too deeply), each naming where, e.g.
    "unknown operator 'foo' at condition.and[1]"; [] when the rule is well formed.
    `path` names the rule's root in the messages."""
    problems: list[str] = []
    pending = [(rule, path, 0)]
    while pending:
        node, where, depth = pending.pop()
        if depth > MAX_DEPTH:
            problems.append(f"rule nested deeper than {MAX_DEPTH} levels at {where}")
            continue
        children: list[tuple[Any, str]] = []
        if isinstance(node, Mapping):
            if len(node) == 0:
                continue
            if len(node) > 1:
                problems.append(f"{_several_keys(node)} at {where}")
                continue
            ((op, args),) = node.items()
            if not isinstance(op, str) or op not in OPERATORS:
                problems.append(f"unknown operator {op!r} at {where}{_did_you_mean(op)}")
                continue
            problems.extend(_arity_problems(op, args, where))
            if op == "preserve":
                continue  # its argument is data, not a rule
            here = f"{where}.{op}"
            if type(args) is list or type(args) is tuple:
                children = [(arg, f"{here}[{i}]") for i, arg in enumerate(args)]
            else:
                children = [(args, here)]
        elif type(node) is list or type(node) is tuple:
            children = [(item, f"{where}[{i}]") for i, item in enumerate(node)]
        elif not isinstance(node, _SCALARS):
            problems.append(f"a rule cannot contain a {type(node).__name__} (at {where})")
        elif isinstance(node, float) and not math.isfinite(node):
            problems.append(f"a rule cannot contain {node!r} (at {where})")
        pending.extend((child, child_where, depth + 1) for child, child_where in reversed(children))
    return problems


# --------------------------------------------------------------------------- paths read


def var_paths(rule: Any) -> list[str]:
    """Every literal path the rule reads from the data it is applied to, in order, once.

    `{"var": "nodes.lookup.output.body.count"}` gives "nodes.lookup.output.body.count";
    `{"val": ["nodes", "lookup"]}` gives "nodes.lookup"; `missing`/`missing_some` keys
    and `exists` paths count too. Paths read inside `map`/`filter`/`reduce`/`all`/
    `some`/`none` (relative to each item) or a `try` fallback (relative to the error)
    are not paths of the data, unless a `val` climbs back to it (`[[2], …]`). Paths
    computed at run time (`{"var": {"cat": …}}`) cannot be listed; reading the whole
    data (`{"var": ""}`) is not listed either."""
    found: dict[str, None] = {}
    pending: list[tuple[Any, int]] = [(rule, 0)]  # (rule, scope levels above the data)
    steps = 0
    while pending:
        node, level = pending.pop()
        steps += 1
        if steps > 1_000_000:
            break
        if type(node) is list or type(node) is tuple:
            pending.extend((item, level) for item in reversed(node))
            continue
        if not (isinstance(node, Mapping) and len(node) == 1):
            continue
        ((op, args),) = node.items()
        if op == "preserve":
            continue
        arg_list = list(args) if type(args) is list or type(args) is tuple else [args]
        if op == "var" and level == 0:
            _add_path(found, _literal_var_path(arg_list[0] if arg_list else None))
        elif op in ("val", "exists"):
            _add_path(found, _literal_val_path(arg_list, level))
        elif op == "missing" and level == 0:
            keys = arg_list[0] if arg_list and type(arg_list[0]) is list else arg_list
            for key in keys:
                _add_path(found, _literal_var_path(key))
        elif op == "missing_some" and level == 0 and len(arg_list) > 1 and type(arg_list[1]) is list:
            for key in arg_list[1]:
                _add_path(found, _literal_var_path(key))
        children: list[tuple[Any, int]]
        if op in _ITERATORS and type(args) is list:
            # args[1] runs once per item, two scope levels down; the rest at this level.
            children = [(arg, level + 2 if i == 1 else level) for i, arg in enumerate(args)]
        elif op == "try" and type(args) is list:
            children = [(arg, level if i == 0 else level + 2) for i, arg in enumerate(args)]
        else:
            children = [(arg, level) for arg in arg_list]
        pending.extend(reversed(children))
    return list(found)


def _add_path(found: dict[str, None], path: str | None) -> None:
    if path:
        found.setdefault(path, None)


def _literal_var_path(path: Any) -> str | None:
    kind = _kind(path)
    if kind is _STRING:
        return path
    if kind is _NUMBER:
        return _number_text(path)
    return None


def _literal_val_path(keys: list, level: int) -> str | None:
    if keys and type(keys[0]) is list and len(keys[0]) == 1:
        climb = keys[0][0]
        if _kind(climb) is not _NUMBER or isinstance(climb, float) and not math.isfinite(climb):
            return None
        level -= abs(int(climb))
        keys = keys[1:]
    if level != 0:
        return None
    parts = []
    for key in keys:
        if key is None:
            continue
        text = _key_text(key) if _kind(key) in (_STRING, _NUMBER) else None
        if text is None:
            return None
        parts.append(text)
    return ".".join(parts) or None
