"""`{{ … }}` expressions inside string parameters, evaluated against the context.

Each `{{ … }}` holds one Jinja2 expression (no `{% %}` statements: no loops, no
assignments), evaluated in a sandbox against the context's `execution`, `input`,
`vars` and `nodes`. Rendering rules:

- A string that is exactly one expression (surrounding whitespace aside) keeps the
  JSON type of its value: `"{{ nodes.lookup.output.body }}"` is the object itself,
  `"{{ vars.count }}"` a number, `"{{ vars.unset_but_null }}"` None. Mappings and
  sequences come back as plain dicts and lists (a copy: the context is not shared).
- Mixed text renders every expression to text: strings as they are, numbers as JSON
  writes them, booleans as `true`/`false`, null as the empty string, and objects and
  arrays as compact JSON (`{"a":1}`). `~` joins values by the same rules.
- `.name` and `["name"]` on an object always read the key (never a Python method:
  `body.items` is the key "items"); `list.0` and `list[-1]` read items.
- A missing key fails the node with the expression and the missing path:
  `expression "{{ nodes.lookup.output.body.emal }}": nodes.lookup.output.body has no
  key "emal" (did you mean "email"?)`. Test for it with `is defined` or fall back with
  `| default(…)`, which here also replaces null.
- A literal `{{` in text is written `{{ "{{" }}`. Keys of objects are not rendered.

Filters: the Jinja built-ins that cannot blow up (`lower`, `upper`, `trim`, `length`,
`first`, `last`, `join`, `replace`, `default`, `int`, `float`, `round`, `sort`, `map`,
`select`, `selectattr`, `sum` (of numbers), `urlencode`, `truncate`, …) plus `tojson` (compact JSON,
`tojson(2)` indented) and `fromjson`. Left out, because their arguments can make them
allocate without bound: `center`, `indent`, `wordwrap`, `batch`, `slice`; and those with
no use here: `attr`, `xmlattr`, `pprint`, `urlize`, `random`, `safe`, `escape`. Globals:
`range` (at most 10,000 items) and `dict`.

Work is bounded: an expression is at most 4,000 characters, each string or list an
expression builds and the text one `render()` produces are at most 1,000,000
characters, `**` and `*` refuse results beyond 100,000 bits, `%`-formatting refuses
widths over 1,000. Compiled expressions are cached; a string without `{{` never
touches Jinja.

One `render()` (all the params of one node run) also has a budget that holds inside
every filter, not only between them: every operator, call and filter, and every item a
filter such as `map` or `select` yields, checks its time (MAX_RENDER_SECONDS) and
charges what it built to MAX_BUILT_CHARS (characters of new strings, items of new
lists); the values the expressions return may hold at most MAX_RESULT_CHARS characters,
a string counted each time it occurs (`[s] * 3000` holds s 3,000 times). Text filters
(`title`, `upper`, `truncate`…) given a list or object write it as JSON first, within
those budgets, instead of as Python's unbounded `str()`.
"""

from __future__ import annotations

import difflib
import functools
import json
import math
import re
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence, Set
from contextvars import ContextVar
from typing import Any, Callable

from jinja2 import nodes as jinja_nodes
from jinja2.compiler import CodeGenerator
from jinja2.defaults import DEFAULT_FILTERS
from jinja2.exceptions import SecurityError, TemplateError, TemplateSyntaxError, UndefinedError
from jinja2.filters import make_attrgetter
from jinja2.parser import Parser
from jinja2.runtime import ChainableUndefined, Undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import consume, pass_environment
from jinja2.utils import missing as _NO_OBJECT
from markupsafe import Markup

__all__ = [
    "MAX_BUILT_CHARS",
    "MAX_EXPRESSION_CHARS",
    "MAX_OUTPUT_CHARS",
    "MAX_RESULT_CHARS",
    "MAX_RANGE",
    "MAX_RENDER_SECONDS",
    "ExpressionError",
    "check",
    "find",
    "referenced_paths",
    "render",
]

MAX_EXPRESSION_CHARS = 4_000
MAX_RENDER_SECONDS = 1.0  # the time budget of one render() (all the params of one node run)
MAX_OUTPUT_CHARS = 1_000_000
MAX_BUILT_CHARS = 16_000_000  # characters and items the operations and filters of one render() build
MAX_RESULT_CHARS = 64_000_000  # characters the values of one render() hold, shared strings counted each time
MAX_RANGE = 10_000
MAX_INT_BITS = 100_000
MAX_FORMAT_WIDTH = 1_000
MAX_JSON_ITEMS = 2_000_000  # values converted to JSON (a 2M-item response body still passes)
_MAX_NESTING = 200  # of values converted to JSON and of parameters rendered
_CACHE_STRINGS_UP_TO = 4_096  # longer template strings are split each time, not cached


class ExpressionError(ValueError):
    """An expression in a parameter could not be evaluated (syntax, missing key, limit)."""

    def __init__(self, message: str, *, expression: str, path: str, missing: str | None = None):
        self.message = message
        self.expression = expression  # the source between the braces, as written
        self.path = path  # the parameter, e.g. "params.headers.Authorization"
        self.missing = missing  # the path that does not exist, e.g. "nodes.lookup.output.body.emal"
        shown = expression if len(expression) <= 300 else expression[:300] + "…"
        super().__init__(f'{path}: expression "{{{{ {shown} }}}}": {message}')


class _LimitReached(ValueError):
    """An expression tried to build something larger than the limits allow, or took too long."""


class _Meter:
    """The budget of one render(): its deadline, what its expressions may still build and return."""

    __slots__ = ("deadline", "built_left", "result_left")

    def __init__(self) -> None:
        self.deadline = time.monotonic() + MAX_RENDER_SECONDS
        self.built_left = MAX_BUILT_CHARS
        self.result_left = MAX_RESULT_CHARS


_meter: ContextVar[_Meter | None] = ContextVar("nodeflow_expression_meter", default=None)


def _check_time() -> None:
    """Every call, operator, filter and filtered item checks the render's time budget."""
    meter = _meter.get()
    if meter is not None and time.monotonic() > meter.deadline:
        raise _LimitReached(f"the expressions took longer than {MAX_RENDER_SECONDS:g} s to evaluate")


def _charge_built(value: Any, what: str) -> Any:
    """Count a value an operation or filter built against the render's budget; returns it."""
    meter = _meter.get()
    if meter is None:
        return value
    if isinstance(value, (str, list, tuple, dict)):
        meter.built_left -= len(value)
        if meter.built_left < 0:
            raise _LimitReached(f"{what}: the expressions built more than {MAX_BUILT_CHARS:,} characters "
                                "or items in all")
    if time.monotonic() > meter.deadline:
        raise _LimitReached(f"the expressions took longer than {MAX_RENDER_SECONDS:g} s to evaluate")
    return value


def _charge_result(chars: int) -> None:
    meter = _meter.get()
    if meter is None:
        return
    meter.result_left -= chars
    if meter.result_left < 0:
        raise _LimitReached(f"the values would hold more than {MAX_RESULT_CHARS:,} characters (a string "
                            "counts each time it occurs)")


# --------------------------------------------------------------------------- sandbox


class _MissingValue(UndefinedError):
    """An expression used a value that does not exist; carries where it looked."""

    def __init__(self, message: str, obj: Any, name: Any):
        super().__init__(message)
        self.obj = obj
        self.name = name


class _Missing(ChainableUndefined):
    """A missing value: `.x` and `[x]` on it chain, `is defined` and `default` work,
    anything else (printing, comparing, arithmetic, iterating) fails."""

    __slots__ = ()

    def _fail_with_undefined_error(self, *args: Any, **kwargs: Any) -> Any:
        if self._undefined_exception is SecurityError:
            raise SecurityError(self._undefined_message)
        raise _MissingValue(self._undefined_message, self._undefined_obj, self._undefined_name)


# Undefined wires its operators to the base class's function object directly, so each
# must be pointed at the override (ChainableUndefined keeps __getattr__/__getitem__).
for _dunder in (
    "__add__ __radd__ __sub__ __rsub__ __mul__ __rmul__ __div__ __rdiv__ __truediv__ __rtruediv__ "
    "__floordiv__ __rfloordiv__ __mod__ __rmod__ __pos__ __neg__ __call__ __lt__ __le__ __gt__ __ge__ "
    "__int__ __float__ __complex__ __pow__ __rpow__ __eq__ __ne__ __hash__ __str__ __len__ __iter__ "
    "__bool__ __contains__"
).split():
    setattr(_Missing, _dunder, _Missing._fail_with_undefined_error)


class _CodeGenerator(CodeGenerator):
    """Compiles `a ~ b` to a size-checked join (Jinja would call "".join directly)."""

    def visit_Concat(self, node: jinja_nodes.Concat, frame: Any) -> None:
        self.write("environment.checked_concat((")
        for argument in node.nodes:
            self.visit(argument, frame)
            self.write(", ")
        self.write("))")


_STR_METHODS = frozenset(
    "capitalize casefold count endswith find isalnum isalpha isdecimal isdigit islower isnumeric "
    "isspace istitle isupper lower lstrip partition removeprefix removesuffix rfind rpartition rsplit "
    "rstrip split splitlines startswith strip swapcase title upper".split()
)
_SEQUENCE_METHODS = frozenset({"count", "index"})
_JSON_SCALARS = (str, int, float, bool, type(None))


class _Environment(ImmutableSandboxedEnvironment):
    """The sandbox: JSON data by key and index only, a few safe string methods, and
    operators that refuse to build huge values."""

    code_generator_class = _CodeGenerator
    intercepted_binops = frozenset({"+", "*", "**", "%"})

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict:  # the common case, without ABC checks
            return obj[attribute] if attribute in obj else self.undefined(obj=obj, name=attribute)
        if isinstance(obj, Undefined):
            return obj
        if isinstance(obj, Mapping):
            return self._key(obj, attribute)
        if attribute.startswith("_"):
            return self.unsafe_undefined(obj, attribute)
        if (isinstance(obj, str) and attribute in _STR_METHODS) or (
            isinstance(obj, (list, tuple)) and attribute in _SEQUENCE_METHODS
        ):
            return super().getattr(obj, attribute)
        if isinstance(obj, _JSON_SCALARS) or _is_sequence(obj):
            return self.undefined(obj=obj, name=attribute)
        return self.unsafe_undefined(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        if isinstance(obj, Undefined):
            return obj
        if isinstance(obj, Mapping):
            return self._key(obj, argument)
        if isinstance(obj, str) or _is_sequence(obj):
            if isinstance(argument, str) and argument.isdigit() and argument.isascii():
                argument = int(argument)
            if (isinstance(argument, int) and not isinstance(argument, bool)) or isinstance(argument, slice):
                try:
                    return obj[argument]
                except (IndexError, TypeError, ValueError):
                    pass
        return self.undefined(obj=obj, name=argument)

    def _key(self, obj: Mapping, key: Any) -> Any:
        try:
            return obj[key]
        except KeyError:
            if isinstance(key, int) and not isinstance(key, bool):
                try:
                    return obj[str(key)]
                except KeyError:
                    pass
        except TypeError:  # an unhashable key such as a list
            pass
        return self.undefined(obj=obj, name=key)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805 (Jinja's signature)
        _check_time()
        return _charge_built(super().call(__context, __obj, *args, **kwargs), "a call")

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        _check_time()
        if operator == "+":
            if isinstance(left, (str, list, tuple)) and isinstance(right, (str, list, tuple)):
                _check_size(len(left) + len(right), "'+'")
        elif operator == "*":
            _check_repeat(left, right)
        elif operator == "**":
            _check_power(left, right)
        elif operator == "%" and isinstance(left, str):
            _check_format_string(left)
            # Python would write a list or object argument with its own unbounded str().
            if isinstance(right, tuple):
                right = tuple(map(_format_argument, right))
            elif isinstance(right, Mapping):
                right = {key: _format_argument(item) for key, item in right.items()}
            else:
                right = _format_argument(right)
        return _charge_built(self.binop_table[operator](left, right), f"'{operator}'")

    def checked_concat(self, parts: tuple) -> str:
        """`a ~ b ~ …`: each part as text (see _to_text), at most MAX_OUTPUT_CHARS."""
        texts, size = [], 0
        for part in parts:
            text = _to_text(part)
            size += len(text)
            _check_size(size, "'~'")
            texts.append(text)
        return _charge_built("".join(texts), "'~'")


def _is_sequence(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes, bytearray))


def _check_size(size: int, what: str) -> None:
    if size > MAX_OUTPUT_CHARS:
        raise _LimitReached(f"{what} would build a value of {size:,} characters or items (limit {MAX_OUTPUT_CHARS:,})")


def _check_repeat(left: Any, right: Any) -> None:
    for sequence, count in ((left, right), (right, left)):
        if isinstance(sequence, (str, list, tuple)) and isinstance(count, int) and not isinstance(count, bool):
            # Repeating a list repeats references: [[0] * 10**6] * 10**6 is cheap to build
            # but 10**12 items to compare or convert, so count nested items too.
            size = len(sequence) if isinstance(sequence, str) else _deep_size(sequence, MAX_OUTPUT_CHARS)
            _check_size(size * max(count, 0), "'*'")
            return
    if isinstance(left, int) and isinstance(right, int):
        if abs(left).bit_length() + abs(right).bit_length() > MAX_INT_BITS:
            raise _LimitReached(f"'*' would build a number of more than {MAX_INT_BITS:,} bits")


def _deep_size(value: Any, limit: int) -> int:
    """Items in a nested list/dict structure plus the characters of its strings, counting
    shared ones each time; stops past `limit`."""
    size, pending = 0, [value]
    while pending and size <= limit:
        item = pending.pop()
        size += len(item) if isinstance(item, str) and item else 1
        if isinstance(item, (list, tuple)):
            pending.extend(item)
        elif isinstance(item, dict):
            pending.extend(item.values())
    return size


def _check_power(base: Any, exponent: Any) -> None:
    if isinstance(base, int) and isinstance(exponent, int) and not isinstance(exponent, bool):
        if exponent > 0 and abs(base) > 1 and abs(base).bit_length() * exponent > MAX_INT_BITS:
            raise _LimitReached(f"'**' would build a number of more than {MAX_INT_BITS:,} bits")


_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?[a-zA-Z%]")


def _check_format_string(template: str) -> None:
    for match in _PERCENT_SPEC.finditer(template):
        for field in match.groups():
            if field == "*" or (field is not None and int(field) > MAX_FORMAT_WIDTH):
                raise _LimitReached(f"format width or precision above {MAX_FORMAT_WIDTH} in {match.group(0)[:20]!r}")


def _range(*args: Any) -> range:
    try:
        numbers = range(*args)
        size = len(numbers)
    except OverflowError:
        size = MAX_RANGE + 1
    if size > MAX_RANGE:
        raise _LimitReached(f"range() of more than {MAX_RANGE:,} items")
    return numbers


# --------------------------------------------------------------------------- values


def _to_text(value: Any) -> str:
    """A value inside mixed text: JSON-style scalars, null as "", objects/arrays as JSON."""
    if isinstance(value, str):
        return str(value)
    if value is None:
        return ""
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value!r} is not a JSON number")
        return repr(value)
    if isinstance(value, Undefined):
        return str(value)  # fails with the missing path
    text = json.dumps(_to_plain(value), ensure_ascii=False, separators=(",", ":"))
    _check_size(len(text), "the JSON text")
    return text


def _to_plain(value: Any, depth: int = 0, budget: list | None = None) -> Any:
    """A JSON copy of a value: Mappings as dicts, sequences and iterators as lists.

    At most MAX_JSON_ITEMS containers and items are copied, so that values built from
    shared references cannot make the copy explode."""
    if budget is None:
        budget = [MAX_JSON_ITEMS]
    budget[0] -= 1
    if budget[0] < 0:
        raise _LimitReached(f"value has more than {MAX_JSON_ITEMS:,} items")
    if not budget[0] % 4096:
        _check_time()
    if isinstance(value, str):
        _charge_result(len(value))
        return str(value) if isinstance(value, Markup) else value
    if isinstance(value, (bool, int, type(None))):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value!r} is not a JSON number")
        return value
    if isinstance(value, Undefined):
        str(value)  # fails with the missing path
    if depth > _MAX_NESTING:
        raise _LimitReached(f"value nested deeper than {_MAX_NESTING} levels")
    if isinstance(value, Mapping):
        return {_key_text(key): _to_plain(item, depth + 1, budget) for key, item in value.items()}
    if isinstance(value, (Sequence, Set, Iterator, range)) and not isinstance(value, (bytes, bytearray)):
        return [_to_plain(item, depth + 1, budget) for item in value]
    kind = type(value).__name__
    hint = " (a method needs parentheses)" if callable(value) else ""
    raise TypeError(f"the expression produced a {kind}, which is not a JSON value{hint}")


def _key_text(key: Any) -> str:
    if isinstance(key, str):
        return key
    return _to_text(key) if isinstance(key, _JSON_SCALARS) else str(key)


# --------------------------------------------------------------------------- filters


def _default(value: Any, default_value: Any = "", boolean: bool = False) -> Any:
    """`x | default(y)`: y when x is missing or null (or, with boolean=true, falsy)."""
    if isinstance(value, Undefined) or value is None or (boolean and not value):
        return default_value
    return value


@pass_environment
def _join(environment: _Environment, value: Any, separator: Any = "", attribute: Any = None) -> str:
    if attribute is not None:
        value = map(make_attrgetter(environment, attribute), value)
    separator = _to_text(separator)
    texts, size = [], 0
    for item in value:
        text = _to_text(item)
        size += len(text) + len(separator)
        _check_size(size, "join")
        texts.append(text)
    return separator.join(texts)


def _replace(value: Any, old: Any, new: Any, count: Any = None) -> str:
    text, old, new = _to_text(value), _to_text(old), _to_text(new)
    occurrences = len(text) + 1 if old == "" else text.count(old)
    limit = -1 if count is None else int(count)
    if limit >= 0:
        occurrences = min(occurrences, limit)
    _check_size(len(text) + occurrences * (len(new) - len(old)), "replace")
    return text.replace(old, new, limit)


def _format(value: Any, *args: Any, **kwargs: Any) -> str:
    if args and kwargs:
        raise TypeError("format takes positional or keyword arguments, not both")
    template = _to_text(value)
    _check_format_string(template)
    # Values that are not numbers or strings are written as in mixed text (JSON-style).
    if kwargs:
        return template % {key: _format_argument(item) for key, item in kwargs.items()}
    return template % tuple(_format_argument(item) for item in args)


def _format_argument(value: Any) -> Any:
    if isinstance(value, (int, float, str)) and not isinstance(value, bool):
        return value
    return _to_text(value)


@pass_environment
def _sum(environment: _Environment, iterable: Any, attribute: Any = None, start: Any = 0) -> Any:
    """Jinja's sum, for numbers only (summing lists or strings would build them without bound)."""
    if attribute is not None:
        iterable = map(make_attrgetter(environment, attribute), iterable)
    total = start
    for count, value in enumerate(iterable):
        if not count % 1024:
            _check_time()
        if isinstance(value, Undefined):
            str(value)  # fails with the missing path
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"sum adds numbers, got {_json_type(value)}")
        total = total + value
    if isinstance(total, bool) or not isinstance(total, (int, float)):
        raise TypeError(f"sum adds numbers, got a start of {_json_type(total)}")
    return total


def _tojson(value: Any, indent: Any = None) -> str:
    if indent is not None and not (isinstance(indent, int) and 0 <= indent <= 8):
        raise ValueError("tojson indent must be a whole number from 0 to 8")
    separators = (",", ":") if indent is None else None
    text = json.dumps(_to_plain(value), ensure_ascii=False, separators=separators, indent=indent)
    _check_size(len(text), "tojson")
    return text


def _fromjson(value: Any) -> Any:
    if not isinstance(value, str):
        raise TypeError(f"fromjson needs a string, got {type(value).__name__}")
    return json.loads(value)


_BUILTIN_FILTERS = (
    "abs capitalize count dictsort filesizeformat first float groupby int items last length list lower "
    "map max min reject rejectattr reverse round select selectattr sort striptags title trim truncate "
    "unique upper urlencode wordcount"
).split()


# Filters that write their first argument as text with Python's str(): given a list or
# object, they get its JSON text instead (built within the budgets).
_TEXT_FILTERS = frozenset("capitalize lower upper title trim striptags truncate wordcount".split())
# Filters whose results are parts of their input: the strings they return or yield are
# not new, so only the lists they build are charged.
_SELECTING_FILTERS = frozenset(
    "first last default d max min select reject selectattr rejectattr unique reverse sort dictsort groupby "
    "items list".split()
)


def _metered(name: str, function: Callable) -> Callable:
    """`function` as a filter within the render's budget: time checked before it runs and
    on every item it yields, what it builds charged (a value it passes through is not)."""

    @functools.wraps(function)  # keeps jinja_pass_arg (pass_context / pass_environment)
    def filter_(*args: Any, **kwargs: Any) -> Any:
        _check_time()
        if name in _TEXT_FILTERS:
            at = 1 if getattr(function, "jinja_pass_arg", None) is not None else 0
            if len(args) > at and not isinstance(args[at], (str, int, float, Undefined)):
                args = (*args[:at], _to_text(args[at]), *args[at + 1:])
        result = function(*args, **kwargs)
        selecting = name in _SELECTING_FILTERS
        if isinstance(result, Iterator) and not isinstance(result, (str, bytes)):
            return _metered_items(result, name, selecting)
        if (selecting and isinstance(result, str)) or any(result is argument for argument in args):
            _check_time()
            return result
        return _charge_built(result, name)

    return filter_


def _metered_items(items: Iterator, name: str, selecting: bool) -> Iterator:
    for item in items:
        if selecting:
            _check_time()
            yield item
        else:
            yield _charge_built(item, name)


def _make_environment() -> _Environment:
    environment = _Environment(autoescape=False, undefined=_Missing, optimized=False)
    filters = {name: DEFAULT_FILTERS[name] for name in _BUILTIN_FILTERS}
    filters.update(
        default=_default, d=_default, join=_join, replace=_replace, format=_format,
        string=_to_text, sum=_sum, tojson=_tojson, fromjson=_fromjson,
    )
    environment.filters = {name: _metered(name, function) for name, function in filters.items()}
    environment.globals = {"range": _range, "dict": dict}
    return environment


_ENV = _make_environment()


# --------------------------------------------------------------------------- templates


class _Unterminated(ValueError):
    """A `{{` without its `}}`."""

    def __init__(self, tail: str):
        super().__init__("'{{' is not closed by '}}'")
        self.tail = tail


def _closing_braces(text: str, start: int) -> int:
    """Index of the `}}` closing an expression that starts at `start`, or -1.

    Skips `}}` inside string literals and nested brackets, as Jinja's lexer does, so
    `{{ {"a": {"b": 1}} }}` and `{{ "}}" }}` work."""
    depth, quote, i, end = 0, "", start, len(text)
    while i < end:
        char = text[i]
        if quote:
            if char == "\\":
                i += 1
            elif char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char in "([{":
            depth += 1
        elif char == "}" and depth == 0 and text.startswith("}}", i):
            return i
        elif char in ")]}":
            depth = max(depth - 1, 0)
        i += 1
    return -1


def _split(text: str) -> tuple[tuple[bool, str], ...]:
    """The template as (is_expression, text) parts; expression parts are stripped sources."""
    parts: list[tuple[bool, str]] = []
    position = 0
    while True:
        opening = text.find("{{", position)
        if opening < 0:
            if position < len(text):
                parts.append((False, text[position:]))
            return tuple(parts)
        if opening > position:
            parts.append((False, text[position:opening]))
        closing = _closing_braces(text, opening + 2)
        if closing < 0:
            raise _Unterminated(text[opening:])
        parts.append((True, text[opening + 2 : closing].strip()))
        position = closing + 2


_split_cached = functools.lru_cache(maxsize=4096)(_split)


def _parts(text: str) -> tuple[tuple[bool, str], ...]:
    return _split_cached(text) if len(text) <= _CACHE_STRINGS_UP_TO else _split(text)


@functools.lru_cache(maxsize=2048)
def _compile(source: str) -> Any:
    if len(source) > MAX_EXPRESSION_CHARS:
        raise TemplateSyntaxError(f"expression longer than {MAX_EXPRESSION_CHARS:,} characters", 1)
    try:
        # Python warns about code Jinja generates for e.g. `1.5[0]`; the expression
        # fails at run time with a clear message instead, so keep worker logs clean.
        # (catch_warnings is process-global, but compiling is rare: results are cached.)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)
            return _ENV.compile_expression(source, undefined_to_none=False)
    except RecursionError:
        raise TemplateSyntaxError("expression nested too deeply", 1) from None
    except (SyntaxError, MemoryError):  # Python refused the code Jinja generated ("too many nested parentheses")
        raise TemplateSyntaxError("expression nested too deeply", 1) from None


def _syntax_message(exc: TemplateSyntaxError) -> str:
    message = exc.message or "invalid expression"
    # Jinja names the end of an expression after the `{{ }}` print statement.
    message = message.replace("'end of print statement'", "end of expression").replace(
        "chunk after expression", "unexpected text after the expression"
    )
    return f"syntax error: {message}"


class _Pass:
    """One render() call: the context, the text still allowed, and a reusable Jinja context."""

    __slots__ = ("context", "chars_left", "jinja_context")

    def __init__(self, context: Mapping):
        self.context = context
        self.chars_left = MAX_OUTPUT_CHARS
        self.jinja_context: Any = None

    def run(self, compiled: Any) -> Any:
        # TemplateExpression.__call__ builds a new Jinja context for every call, which is
        # three quarters of the cost of a small expression; all expressions of one
        # render() read the same context, so build it once and run the compiled function
        # directly. Falls back to the public call if Jinja's internals ever change.
        template = getattr(compiled, "_template", None)
        render_function = getattr(template, "root_render_func", None)
        if render_function is None:
            return compiled(self.context)
        if self.jinja_context is None:
            self.jinja_context = template.new_context(dict(self.context))
        variables = self.jinja_context.vars
        try:
            consume(render_function(self.jinja_context))
            return variables["result"]
        finally:
            variables.pop("result", None)


# What evaluating or converting a user's expression may raise; anything else (a failing
# database behind a lazy context, say) is not the expression's fault and propagates.
_EXPRESSION_FAILURES = (TemplateError, ArithmeticError, LookupError, TypeError, ValueError, AttributeError, RecursionError)


def _value(source: str, state: _Pass, path: str, convert: Callable[[Any], Any]) -> Any:
    """`convert(value of the expression)`, or ExpressionError naming it and the parameter."""
    try:
        compiled = _compile(source)
    except TemplateSyntaxError as exc:
        raise ExpressionError(_syntax_message(exc), expression=source, path=path) from None
    try:
        # Converting to JSON or text is where missing or unsafe values inside a list or
        # object the expression built are found, so it shares the error handling.
        return convert(state.run(compiled))
    except _EXPRESSION_FAILURES as exc:
        raise _failure(exc, source, state.context, path) from None


def _failure(exc: BaseException, source: str, context: Mapping, path: str) -> ExpressionError:
    if isinstance(exc, _MissingValue):
        message, missing = _describe_missing(source, context, exc.obj, exc.name)
        return ExpressionError(message, expression=source, path=path, missing=missing)
    if isinstance(exc, SecurityError):
        return ExpressionError(f"not allowed: {exc}", expression=source, path=path)
    if isinstance(exc, _LimitReached):
        return ExpressionError(f"too large: {exc}", expression=source, path=path)
    if isinstance(exc, RecursionError):
        return ExpressionError("nested too deeply", expression=source, path=path)
    return ExpressionError(_error_text(exc), expression=source, path=path)


def _error_text(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    if isinstance(exc, ZeroDivisionError):
        return "division by zero"
    return text


# --------------------------------------------------------------------------- missing paths


def _parse(source: str) -> jinja_nodes.Expr:
    parser = Parser(_ENV, source, state="variable")
    expression = parser.parse_expression()
    if not parser.stream.eos:
        raise TemplateSyntaxError("chunk after expression", parser.stream.current.lineno)
    return expression


def _chain(node: jinja_nodes.Node) -> tuple[str, list] | None:
    """(root name, keys) when `node` is a name followed by `.key` / `[constant]` steps."""
    keys: list = []
    while True:
        if isinstance(node, jinja_nodes.Getattr):
            keys.append(node.attr)
            node = node.node
        elif (
            isinstance(node, jinja_nodes.Getitem)
            and isinstance(node.arg, jinja_nodes.Const)
            and isinstance(node.arg.value, (str, int))
            and not isinstance(node.arg.value, bool)
        ):
            keys.append(node.arg.value)
            node = node.node
        elif isinstance(node, jinja_nodes.Name):
            return node.name, keys[::-1]
        else:
            return None


@functools.lru_cache(maxsize=1024)
def _chains(source: str) -> tuple[tuple[str, tuple], ...]:
    """Every maximal name.key[…] chain the expression reads, in source order."""
    found: list[tuple[str, tuple]] = []
    pending: list[jinja_nodes.Node] = [_parse(source)]
    while pending:
        node = pending.pop()
        if isinstance(node, (jinja_nodes.Name, jinja_nodes.Getattr, jinja_nodes.Getitem)):
            chain = _chain(node)
            if chain is not None:
                if chain[0] not in _ENV.globals:
                    found.append((chain[0], tuple(chain[1])))
                continue
        pending.extend(reversed(list(node.iter_child_nodes())))
    return tuple(found)


def _path_text(root: str, keys: Sequence) -> str:
    return ".".join([root, *(str(key) for key in keys)])


def _step(value: Any, key: Any) -> tuple[bool, Any]:
    """One lookup the way the sandbox does it, without creating Undefined objects."""
    found = _ENV.getitem(value, key)
    return (False, None) if isinstance(found, Undefined) else (True, found)


def _describe_missing(source: str, context: Mapping, obj: Any, name: Any) -> tuple[str, str | None]:
    """(message, missing path) for a key or name the expression could not find."""
    if obj is _NO_OBJECT:
        roots = ", ".join(sorted(str(key) for key in context))
        return f'"{name}" is not defined (the context has {roots})', str(name)
    try:
        chains = _chains(source)
    except (TemplateSyntaxError, RecursionError):
        chains = ()
    fallback = None
    for root, keys in chains:
        found, value = _step(context, root)
        for i, key in enumerate(keys):
            if not found:
                break
            if value is obj and key == name:
                return _no_such_key(_path_text(root, keys[:i]), obj, name), _path_text(root, keys[: i + 1])
            found, value = _step(value, key)
            if not found and key == name and fallback is None:
                fallback = _path_text(root, keys[:i])
    if fallback is not None:
        return _no_such_key(fallback, obj, name), f"{fallback}.{name}"
    return _no_such_key("the value", obj, name), None


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "object"
    if _is_sequence(value):
        return "array"
    return type(value).__name__


def _no_such_key(where: str, obj: Any, name: Any) -> str:
    shown = json.dumps(name, ensure_ascii=False) if isinstance(name, str) else str(name)
    if isinstance(obj, Mapping):
        return f"{where} has no key {shown}{_key_hint(obj, name)}"
    if _is_sequence(obj):
        return f"{where} has no item {shown} (it has {len(obj)} items)"
    kind = _json_type(obj)
    article = "an" if kind[0] in "aeiou" else "a"
    if obj is None:
        return f"{where} is null, so it has no key {shown}"
    return f"{where} is {article} {kind}, not an object: it has no key {shown}"


def _key_hint(obj: Mapping, name: Any) -> str:
    try:
        keys = [key for key in obj if isinstance(key, str)]
    except Exception:  # a Mapping that cannot list its keys: no hint rather than no message
        return ""
    if isinstance(name, str) and len(keys) <= 1000:
        close = difflib.get_close_matches(name, keys, n=1, cutoff=0.6)
        if close:
            return f' (did you mean "{close[0]}"?)'
    if 0 < len(keys) <= 10:
        return " (it has " + ", ".join(json.dumps(key, ensure_ascii=False) for key in keys) + ")"
    return ""


# --------------------------------------------------------------------------- public API


def render(value: Any, context: Mapping, *, path: str = "params") -> Any:
    """`value` with every `{{ … }}` in its strings evaluated against `context`.

    Dicts and lists are rebuilt (keys untouched), other values returned as they are.
    Raises ExpressionError naming the parameter path, the expression and the problem,
    also when the whole render takes longer than MAX_RENDER_SECONDS."""
    token = _meter.set(_Meter())
    try:
        return _render(value, _Pass(context), path, 0)
    finally:
        _meter.reset(token)


def _render(value: Any, state: _Pass, path: str, depth: int) -> Any:
    if isinstance(value, str):
        return _render_string(value, state, path) if "{{" in value else value
    if depth > _MAX_NESTING:
        raise ExpressionError(f"parameters nested deeper than {_MAX_NESTING} levels", expression="", path=path)
    if isinstance(value, dict):
        return {key: _render(item, state, f"{path}.{key}", depth + 1) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_render(item, state, f"{path}[{i}]", depth + 1) for i, item in enumerate(value)]
    return value


def _render_string(text: str, state: _Pass, path: str) -> Any:
    try:
        parts = _parts(text)
    except _Unterminated as exc:
        raise ExpressionError(str(exc), expression=exc.tail[2:].strip(), path=path) from None
    expressions = [source for is_expression, source in parts if is_expression]
    if len(expressions) == 1 and all(is_expression or not piece.strip() for is_expression, piece in parts):
        return _value(expressions[0], state, path, _to_plain)
    pieces = []
    for is_expression, piece in parts:
        if is_expression:
            piece = _value(piece, state, path, _to_text)
        state.chars_left -= len(piece)
        if state.chars_left < 0:
            raise ExpressionError(
                f"too large: the rendered parameters exceed {MAX_OUTPUT_CHARS:,} characters",
                expression=expressions[0], path=path,
            )
        pieces.append(piece)
    return "".join(pieces)


def find(value: Any, *, path: str = "params") -> list[tuple[str, str]]:
    """(parameter path, expression source) for every `{{ … }}` in the structure, in order.

    An unterminated `{{` is listed with its raw text from `{{` on, so that check()
    reports it."""
    found: list[tuple[str, str]] = []
    pending: list[tuple[Any, str]] = [(value, path)]
    while pending:
        item, where = pending.pop()
        if isinstance(item, str):
            if "{{" not in item:
                continue
            try:
                found.extend((where, source) for is_expression, source in _parts(item) if is_expression)
            except _Unterminated as exc:
                found.append((where, exc.tail))
        elif isinstance(item, dict):
            pending.extend(reversed([(child, f"{where}.{key}") for key, child in item.items()]))
        elif isinstance(item, (list, tuple)):
            pending.extend(reversed([(child, f"{where}[{i}]") for i, child in enumerate(item)]))
    return found


def _sources(expression_source: str) -> list[str]:
    """The expression(s) in either a bare expression or a whole `{{ … }}` template string.

    A string is a template when it starts with `{{`, or contains `{{` and is not a valid
    expression by itself (`"{{" ~ x` is an expression, `https://x/{{ id }}` a template)."""
    is_template = expression_source.lstrip().startswith("{{")
    if not is_template and "{{" in expression_source:
        try:
            _compile(expression_source)
        except TemplateSyntaxError:
            is_template = True
    if is_template:
        return [source for is_expression, source in _parts(expression_source) if is_expression]
    return [expression_source]


def check(expression_source: str) -> str | None:
    """The syntax error of an expression (bare, or a string with `{{ … }}`), or None."""
    try:
        sources = _sources(expression_source)
    except _Unterminated as exc:
        return f"syntax error: {exc}"
    for source in sources:
        try:
            _compile(source)
        except TemplateSyntaxError as exc:
            return _syntax_message(exc)
    return None


def referenced_paths(expression_source: str) -> list[str]:
    """The context paths an expression reads, e.g. ["nodes.lookup.output.body.email",
    "vars.x"], in order, once. Subscripts with constants are normalised
    (`nodes['x']['a b']` → "nodes.x.a b"); a computed subscript ends the path
    (`nodes[vars.k].output` → "nodes" and "vars.k"). Accepts a bare expression or a
    string with `{{ … }}`; an expression with a syntax error reads nothing."""
    paths: dict[str, None] = {}
    try:
        sources = _sources(expression_source)
    except _Unterminated:
        return []
    for source in sources:
        try:
            chains = _chains(source)
        except (TemplateSyntaxError, RecursionError):
            continue
        for root, keys in chains:
            paths.setdefault(_path_text(root, keys), None)
    return list(paths)
