"""engine.expressions: `{{ … }}` in node parameters."""

import copy
import json
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import expressions
from engine.expressions import ExpressionError, check, find, referenced_paths, render
from tests.support.mappings import RecordingMapping


def make_context():
    nodes = RecordingMapping(
        {
            "lookup": {
                "output": {
                    "status": 200,
                    "body": {"email": "ann@example.com", "count": 3, "items": [10, 20], "keys": "k", "name": None},
                },
                "status": "completed",
            },
            "other": {"output": "text", "status": "completed"},
        }
    )
    return {
        "execution": {"id": "e-1", "trigger": "manual"},
        "input": {"body": {"email": "ann@example.com", "tags": ["a", "b"]}},
        "vars": {"score": 7, "ratio": 0.5, "flag": True, "off": False, "nothing": None, "obj": {"a": 1, "b": [1, 2]}},
        "nodes": nodes,
    }


def render_error(value, **kwargs):
    with pytest.raises(ExpressionError) as caught:
        render(value, make_context(), **kwargs)
    return caught.value


# ----------------------------------------------------------------------------- typed values


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ vars.score }}", 7),
        ("{{ vars.ratio }}", 0.5),
        ("{{ vars.flag }}", True),
        ("{{ vars.nothing }}", None),
        ("{{ vars.obj }}", {"a": 1, "b": [1, 2]}),
        ("{{ input.body.tags }}", ["a", "b"]),
        ("{{ vars.score * 2 + 1 }}", 15),
        ("  {{ vars.score }}\n", 7),
        ("{{ range(3) }}", [0, 1, 2]),
        ("{{ input.body.tags | map('upper') }}", ["A", "B"]),
        ("{{ {'n': vars.score} }}", {"n": 7}),
    ],
)
def test_a_lone_expression_keeps_its_json_type(template, expected):
    result = render(template, make_context())
    assert result == expected and type(result) is type(expected)


def test_objects_come_back_as_plain_copies_not_the_context_itself():
    ctx = make_context()
    result = render("{{ nodes.lookup.output }}", ctx)
    assert type(result) is dict
    result["body"]["email"] = "changed"
    assert ctx["nodes"]["lookup"]["output"]["body"]["email"] == "ann@example.com"


# ----------------------------------------------------------------------------- mixed text


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("score={{ vars.score }}", "score=7"),
        ("{{ vars.ratio }}x", "0.5x"),
        ("[{{ vars.flag }}|{{ vars.off }}]", "[true|false]"),
        ("[{{ vars.nothing }}]", "[]"),
        ("obj={{ vars.obj }}", 'obj={"a":1,"b":[1,2]}'),
        ("tags={{ input.body.tags }}", 'tags=["a","b"]'),
        ("{{ vars.score }}{{ vars.score }}", "77"),
        ("{{ 'a' ~ vars.flag ~ vars.nothing ~ vars.obj }}", 'atrue{"a":1,"b":[1,2]}'),
        ("{{ vars.obj | string }}", '{"a":1,"b":[1,2]}'),
        ('{{ "{{" }} literal', "{{ literal"),
        ("{{ '}}' }}!", "}}!"),
        ("{{ {'a': {'b': 1}} }}.", '{"a":{"b":1}}.'),
    ],
)
def test_mixed_text_renders_values_json_style(template, expected):
    assert render(template, make_context()) == expected


def test_render_walks_dicts_and_lists_and_leaves_keys_and_other_values_alone():
    params = {
        "url": "https://api.example.com/u?email={{ input.body.email }}",
        "headers": {"X-Score": "{{ vars.score }}", "{{ not.rendered }}": "plain"},
        "body": ["{{ vars.flag }}", 3, None, {"deep": "{{ vars.obj.b }}"}],
        "timeout_s": 10,
    }
    before = copy.deepcopy(params)
    assert render(params, make_context()) == {
        "url": "https://api.example.com/u?email=ann@example.com",
        "headers": {"X-Score": 7, "{{ not.rendered }}": "plain"},
        "body": [True, 3, None, {"deep": [1, 2]}],
        "timeout_s": 10,
    }
    assert params == before


def test_strings_without_braces_never_reach_jinja(monkeypatch):
    def no_compiling(source):
        raise AssertionError(f"compiled {source!r}")

    monkeypatch.setattr(expressions, "_compile", no_compiling)
    value = "just text with { braces } and }}"
    assert render(value, make_context()) is value
    assert render({"a": [value, 1]}, make_context()) == {"a": [value, 1]}


def test_compiled_expressions_are_cached():
    expressions._compile.cache_clear()
    for _ in range(5):
        render("{{ vars.score + 1 }} and {{ vars.score + 1 }}", make_context())
    info = expressions._compile.cache_info()
    assert info.misses == 1 and info.hits == 9


# ----------------------------------------------------------------------------- reading the context


def test_attribute_access_reads_keys_of_lazy_mappings_and_loads_only_those():
    ctx = make_context()
    assert render("{{ nodes.lookup.output.body.count }}", ctx) == 3
    assert ctx["nodes"].loaded == ["lookup"]


def test_keys_named_like_python_methods_are_keys():
    assert render("{{ nodes.lookup.output.body.keys }}", make_context()) == "k"
    error = render_error("{{ vars.obj.items }}")
    assert 'vars.obj has no key "items"' in error.message


def test_items_by_index_and_subscripts():
    ctx = make_context()
    assert render("{{ nodes.lookup.output.body.items.0 }}", ctx) == 10
    assert render("{{ nodes.lookup.output.body.items[-1] }}", ctx) == 20
    assert render("{{ nodes['lookup']['output'].body['count'] }}", ctx) == 3


def test_a_missing_key_names_the_expression_and_the_missing_path():
    error = render_error({"url": "https://x/?e={{ nodes.lookup.output.body.emal }}"})
    assert str(error).startswith(
        'params.url: expression "{{ nodes.lookup.output.body.emal }}": nodes.lookup.output.body has no key "emal"'
    )
    assert "did you mean \"email\"" in str(error)
    assert error.path == "params.url"
    assert error.expression == "nodes.lookup.output.body.emal"
    assert error.missing == "nodes.lookup.output.body.emal"
    assert isinstance(error, ValueError)


@pytest.mark.parametrize(
    ("template", "message", "missing"),
    [
        ("{{ nodes.absent.output }}", 'nodes has no key "absent" (it has "lookup", "other")', "nodes.absent"),
        ("{{ nodes.lookup.output.body.items[5] }}", "nodes.lookup.output.body.items has no item 5 (it has 2 items)",
         "nodes.lookup.output.body.items.5"),
        ("{{ nodes.lookup.output.body.name.first }}", 'nodes.lookup.output.body.name is null, so it has no key "first"',
         "nodes.lookup.output.body.name.first"),
        ("{{ nodes.other.output.body }}", 'nodes.other.output is a string, not an object: it has no key "body"',
         "nodes.other.output.body"),
        ("{{ vars.score.value }}", 'vars.score is a number, not an object: it has no key "value"', "vars.score.value"),
        ("{{ secrets.token }}", '"secrets" is not defined (the context has execution, input, nodes, vars)', "secrets"),
        ("{{ vars.missing == 1 }}", 'vars has no key "missing"', "vars.missing"),
        ("x{{ vars.missing.deeper }}", 'vars has no key "missing"', "vars.missing"),
    ],
)
def test_missing_values_fail_loudly_with_the_path(template, message, missing):
    error = render_error(template)
    assert message in error.message
    assert error.missing == missing


def test_default_and_is_defined_handle_missing_and_null_values():
    ctx = make_context()
    assert render("{{ vars.missing | default('n/a') }}", ctx) == "n/a"
    assert render("{{ vars.missing.deeper.still | default(0) }}", ctx) == 0
    assert render("{{ vars.nothing | default('n/a') }}", ctx) == "n/a"
    assert render("{{ vars.off | default('n/a') }}", ctx) is False
    assert render("{{ vars.off | default('n/a', true) }}", ctx) == "n/a"
    assert render("{{ vars.missing is defined }}", ctx) is False
    assert render("{{ 'yes' if vars.score is defined else 'no' }}", ctx) == "yes"


# ----------------------------------------------------------------------------- filters


def test_useful_filters():
    ctx = make_context()
    assert render("{{ vars.obj | tojson }}", ctx) == '{"a":1,"b":[1,2]}'
    assert render("{{ vars.obj | tojson(2) }}", ctx) == '{\n  "a": 1,\n  "b": [\n    1,\n    2\n  ]\n}'
    assert render("{{ '{\"a\": [1]}' | fromjson }}", ctx) == {"a": [1]}
    assert render("{{ input.body.tags | join(', ') }}", ctx) == "a, b"
    assert render("{{ [1, none, true] | join('-') }}", ctx) == "1--true"
    assert render("{{ input.body.email | replace('@', ' at ') | upper }}", ctx) == "ANN AT EXAMPLE.COM"
    assert render("{{ input.body.email.split('@')[1] }}", ctx) == "example.com"
    assert render("{{ nodes.lookup.output.body.items | sum }}", ctx) == 30
    assert render("{{ input.body.tags | length }}", ctx) == 2
    assert render("{{ 'a b&c' | urlencode }}", ctx) == "a%20b%26c"
    assert render("{{ '%s=%05.1f' | format(vars.flag, vars.ratio) }}", ctx) == "true=000.5"


@pytest.mark.parametrize("template", ["{{ 'x' | center(9) }}", "{{ 'x' | indent(9) }}", "{{ [1] | batch(9) }}", "{{ 1 | attr('real') }}"])
def test_filters_that_could_blow_up_or_reach_python_are_absent(template):
    assert "No filter named" in render_error(template).message


# ----------------------------------------------------------------------------- sandbox and limits


@pytest.mark.parametrize(
    "template",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ (1).__class__ }}",
        "{{ range.__globals__ }}",
        "{{ dict.__subclasses__() }}",
        "{{ dict.fromkeys }}",
        "{{ 'x'.format }}",
        "{{ '{0.__class__}'.format(1) }}",
        "{{ input.body.tags | map(attribute='__class__') | list }}",
        "{{ self._TemplateReference__context }}",
        "{{ lipsum(10) }}",
        "{{ cycler }}",
    ],
)
def test_the_sandbox_refuses_python_internals(template):
    render_error(template)


@pytest.mark.parametrize("template", ["{{ [''.__class__] }}", "x{{ {'a': (1).__class__} }}"])
def test_unsafe_values_inside_built_lists_are_refused_too(template):
    assert render_error(template).message.startswith("not allowed")


def test_missing_values_inside_built_lists_name_the_path():
    error = render_error("{{ [vars.score, vars.nope] }}")
    assert error.missing == "vars.nope" and 'vars has no key "nope"' in error.message


def test_expressions_of_one_render_do_not_see_each_other():
    # all expressions of a render() share one Jinja context; the result slot must not leak
    error = render_error({"a": "{{ vars.score }}", "b": "{{ result }}"})
    assert error.path == "params.b" and error.missing == "result"


def test_expressions_cannot_modify_the_context():
    ctx = make_context()
    for template in ["{{ input.body.tags.append('x') }}", "{{ vars.obj.update({'c': 3}) }}", "{{ vars.obj.pop('a') }}"]:
        with pytest.raises(ExpressionError):
            render(template, ctx)
    assert ctx["input"]["body"]["tags"] == ["a", "b"] and ctx["vars"]["obj"] == {"a": 1, "b": [1, 2]}


@pytest.mark.parametrize(
    "template",
    [
        "{{ 'a' * 10000000 }}",
        "{{ [0] * 10000000 }}",
        "{{ [[0] * 1000000] * 1000000 }}",
        "{{ [[0] * 1000000] * 1000000 == [[0] * 1000000] * 1000000 }}",
        "{{ 2 ** 10000000 }}",
        "{{ range(10 ** 12) }}",
        "{{ range(100000) | list }}",
        "{{ '%99999999d' % 1 }}",
        "{{ '%*d' % (99999999, 1) }}",
        "{{ '%99999999d' | format(1) }}",
        "{{ ('a' * 900000) ~ ('b' * 900000) }}",
        "{{ ('a' * 900000) + ('b' * 900000) }}",
        "{{ range(10000) | join('x' * 1000) }}",
        "{{ ('a' * 500000) | replace('', 'bb') | length }}",
        "{{ [[1], [2]] | sum(start=[]) }}",
        "{{ 'x' * " + "9" * 5000 + " }}",
    ],
)
def test_expressions_cannot_build_huge_values(template):
    error = render_error(template)
    assert error.message


def test_one_render_produces_at_most_a_megabyte_of_text():
    ctx = {"vars": {"big": "x" * 400_000}}
    assert len(render({"a": "<{{ vars.big }}>", "b": "<{{ vars.big }}>"}, ctx)["b"]) == 400_002
    with pytest.raises(ExpressionError, match="exceed 1,000,000 characters"):
        render({"a": "<{{ vars.big }}>", "b": "<{{ vars.big }}>", "c": "<{{ vars.big }}>"}, ctx)
    # a lone expression passes a big value through: it is not new text
    assert len(render(["{{ vars.big }}"] * 3, ctx)[2]) == 400_000


def test_values_that_are_not_json_are_refused():
    for template in ["{{ range }}", "{{ 'x'.upper }}", "{{ 1e308 * 10 }}", "{{ 'nan' | float }}", "x{{ 1e308 * 10 }}"]:
        render_error(template)


def test_syntax_errors_are_expression_errors():
    error = render_error({"url": "x {{ nodes..x }}"})
    assert error.message.startswith("syntax error") and error.path == "params.url"
    assert "not closed" in render_error("prefix {{ vars.score").message


# ----------------------------------------------------------------------------- find, check, referenced_paths


def test_find_lists_every_expression_with_its_parameter_path():
    params = {
        "url": "https://x/{{ input.body.email }}?s={{vars.score}}",
        "headers": {"Authorization": "Bearer {{ vars.token }}"},
        "cases": [{"value": "{{ nodes.a.output }}"}, "no expression", 5],
        "broken": "{{ oops",
    }
    assert find(params) == [
        ("params.url", "input.body.email"),
        ("params.url", "vars.score"),
        ("params.headers.Authorization", "vars.token"),
        ("params.cases[0].value", "nodes.a.output"),
        ("params.broken", "{{ oops"),
    ]
    assert find("{{ a }}", path="result") == [("result", "a")]


def test_check_reports_syntax_errors_or_none():
    assert check("nodes.lookup.output.body.email | lower") is None
    assert check("{{ a }} and {{ b }}") is None
    assert check("nodes..x").startswith("syntax error")
    assert check("a b") == "syntax error: unexpected text after the expression"
    assert "No filter named 'nofilter'" in check("a | nofilter")
    assert "not closed" in check("{{ oops")
    assert "longer than" in check("a" * 5000)
    assert check("") is not None


def test_every_source_find_returns_can_be_checked():
    sources = [source for _, source in find({"a": "{{ x.y }}", "b": "{{ bad", "c": "{{ 1 + }}"})]
    assert [check(source) is None for source in sources] == [True, False, False]


def test_referenced_paths_normalises_subscripts_and_skips_globals():
    source = (
        "nodes.lookup.output.body.email ~ vars.x ~ nodes['x']['a b'] ~ input.items[0] ~ "
        "nodes[vars.which].output ~ range(3) | join ~ execution.id | default('') ~ undefined_name"
    )
    assert referenced_paths(source) == [
        "nodes.lookup.output.body.email",
        "vars.x",
        "nodes.x.a b",
        "input.items.0",
        "nodes",
        "vars.which",
        "execution.id",
        "undefined_name",
    ]


def test_referenced_paths_accepts_template_strings_and_ignores_broken_ones():
    assert referenced_paths("https://x/{{ input.a }}/{{ nodes.n.output.id }}") == ["input.a", "nodes.n.output.id"]
    assert referenced_paths("{{ input.a") == []
    assert referenced_paths('"{{" ~ input.b') == ["input.b"]
    assert check("https://x/{{ input.a }}/{{ nodes..x }}").startswith("syntax error")
    assert referenced_paths("input.a +") == []


# ----------------------------------------------------------------------------- properties

_json = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(min_value=-(2**60), max_value=2**60),
        st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=10),
    ),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=5), inner, max_size=4)),
    max_leaves=15,
)

_tokens = st.sampled_from(
    [
        "vars", "input", "nodes", "execution", "x", ".", ".a", ".0", "[0]", "['a']", "[", "]", "(", ")", "{", "}",
        "'s'", '"t"', "1", "2.5", "-", "+", "*", "**", "/", "//", "%", "~", "==", "<", "and", "or", "not", "in",
        "is", "defined", "none", "true", "if", "else", "|", "default", "tojson", "join", "length", "upper",
        "replace('a','b')", "range(3)", "__class__", ",", ":", "'%5d'", "lower()", "split(',')", " ",
    ]
)
_expression = st.lists(_tokens, max_size=12).map("".join)
_template = st.lists(
    st.one_of(st.text(max_size=6), _expression.map(lambda source: "{{ " + source + " }}"), st.sampled_from(["{{", "}}"])),
    max_size=5,
).map("".join)


# Well-formed expressions, so that evaluation (not just parsing) is exercised.
_atoms = st.one_of(
    st.sampled_from(
        ["vars", "vars.a", "vars.x.a", "input", "input[0]", "nodes.a.output", "nodes.a.output.b", "execution", "none",
         "true", "range(5)", "range(100000)", "dict(a=1)", "vars.missing", "x"]
    ),
    st.integers(min_value=-(10**6), max_value=10**6).map(str),
    st.floats(allow_nan=False, allow_infinity=False, width=32).map(repr),
    st.text(alphabet="ab{}%s'\\ ,", max_size=6).map(repr),
)
_filters = st.sampled_from(
    ["default('d')", "tojson", "tojson(2)", "fromjson", "join(',')", "length", "upper", "replace('', 'xyz')", "first",
     "list", "sort", "unique", "sum", "int", "round(1)", "string", "map('upper')", "select", "dictsort", "items",
     "urlencode", "truncate(3)", "format(1)", "min", "selectattr('a')", "map(attribute='a')", "groupby('a')"]
)
_steps = st.sampled_from([".a", ".0", "[0]", "['a']", "[-1]", "[1:]", ".upper()", ".split(',')", ".count('a')", ".items"])
_well_formed = st.recursive(
    _atoms,
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["+", "-", "*", "**", "/", "//", "%", "~", "==", "<", "and", "or", "in"]), inner)
        .map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(inner, _filters).map(lambda t: f"({t[0]} | {t[1]})"),
        st.tuples(inner, _steps).map("".join),
        st.tuples(inner, inner, inner).map(lambda t: f"({t[0]} if {t[1]} else {t[2]})"),
        st.lists(inner, max_size=3).map(lambda items: "[" + ", ".join(items) + "]"),
        st.tuples(inner, st.sampled_from(["defined", "none", "number", "mapping"])).map(lambda t: f"({t[0]} is {t[1]})"),
        inner.map(lambda x: f"(not {x})"),
    ),
    max_leaves=8,
)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(source=_well_formed, data=_json, mixed=st.booleans())
def test_well_formed_expressions_check_clean_and_fail_only_with_expression_errors(source, data, mixed):
    template = ("x" if mixed else "") + "{{ " + source + " }}"
    assert check(template) is None
    context = {"vars": {"a": data, "x": data}, "input": data, "nodes": RecordingMapping({"a": {"output": data}}), "execution": {}}
    try:
        render(template, context)
    except ExpressionError:
        pass


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(template=_template, data=_json)
def test_render_raises_nothing_but_expression_errors(template, data):
    context = {"vars": {"a": data, "x": data}, "input": data, "nodes": RecordingMapping({"a": {"output": data}}), "execution": {}}
    try:
        render({"p": [template]}, context)
    except ExpressionError:
        pass
    assert isinstance(find(template), list)
    assert check(template) is None or isinstance(check(template), str)
    assert isinstance(referenced_paths(template), list)


@settings(max_examples=300, deadline=None)
@given(value=_json)
def test_a_lone_expression_returns_the_value_and_text_renders_it(value):
    context = {"vars": {"v": value}}
    assert _same(render("{{ vars.v }}", context), value)
    text = render("<{{ vars.v }}>", context)
    if value is None:
        expected = ""
    elif isinstance(value, bool):
        expected = "true" if value else "false"
    elif isinstance(value, (str, int, float)):
        expected = str(value) if not isinstance(value, float) else repr(value)
    else:
        expected = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    assert text == f"<{expected}>"


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=50).filter(lambda t: "{{" not in t))
def test_text_without_braces_comes_back_unchanged(text):
    assert render(text, {}) is text


def _same(a, b):
    if isinstance(b, float):
        return isinstance(a, float) and (a == b or (math.isnan(a) and math.isnan(b)))
    if isinstance(b, list):
        return isinstance(a, list) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(b, dict):
        return isinstance(a, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in b)
    return type(a) is type(b) and a == b


def test_a_render_that_runs_past_its_time_budget_fails_fast(monkeypatch):
    # The render's clock is the test's: every look at it moves it on by a millisecond, so the
    # 1 s budget runs out after a thousand looks however fast or busy this machine is.
    looks = []

    class Clock:
        @staticmethod
        def monotonic():
            looks.append(len(looks) * 0.001)
            return looks[-1]

    monkeypatch.setattr(expressions, "time", Clock)
    # 150 expressions each just inside the limits: together far more work than a thousand looks.
    params = {f"p{i}": "{{ " + "+".join(["range(10000)|sum"] * 40) + " }}" for i in range(150)}

    with pytest.raises(ExpressionError, match="longer than 1 s"):
        render(params, {"vars": {}})

    deadline = looks[0] + expressions.MAX_RENDER_SECONDS
    assert [t for t in looks if t > deadline] == [looks[-1]], "it went on after the first look past the deadline"


def test_an_expression_python_cannot_compile_is_a_syntax_error_not_a_crash():
    deep = "+".join(["range(10)|sum"] * 250)  # within 4,000 characters
    with pytest.raises(ExpressionError, match="nested too deeply"):
        render("{{ " + deep + " }}", {})
    assert "nested too deeply" in check(deep)
