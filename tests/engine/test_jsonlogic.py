"""engine.jsonlogic beyond the conformance suites: our data, limits, check() and var_paths()."""

import copy
from collections.abc import Sequence

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import jsonlogic
from engine.jsonlogic import EvaluationError, JsonLogicError, LimitExceeded, RuleError, apply, check, var_paths
from tests.support.mappings import RecordingMapping


class Items(Sequence):
    """A Sequence that is not a list."""

    def __init__(self, items):
        self._items = list(items)

    def __getitem__(self, index):
        return self._items[index]

    def __len__(self):
        return len(self._items)


def context():
    nodes = RecordingMapping(
        {
            "lookup": {"output": {"status": 200, "body": {"count": 3, "emails": ["a@x", "b@x"]}}, "status": "completed"},
            "other": {"output": None, "status": "completed"},
        }
    )
    return {"execution": {"id": "e1"}, "input": {"body": {"email": "a@x"}}, "vars": {"score": 0}, "nodes": nodes}


# ----------------------------------------------------------------------------- reading data


def test_var_reads_lazy_mappings_and_loads_only_what_it_needs():
    ctx = context()
    assert apply({">": [{"var": "nodes.lookup.output.body.count"}, 0]}, ctx) is True
    assert ctx["nodes"].loaded == ["lookup"]


def test_var_reads_array_items_by_index_and_length():
    ctx = context()
    assert apply({"var": "nodes.lookup.output.body.emails.1"}, ctx) == "b@x"
    assert apply({"var": "nodes.lookup.output.body.emails.length"}, ctx) == 2
    assert apply({"var": "nodes.lookup.output.body.emails.2"}, ctx) is None
    assert apply({"var": "nodes.lookup.output.body.emails.-1"}, ctx) is None


def test_var_on_a_missing_node_or_through_null_gives_the_default():
    ctx = context()
    assert apply({"var": ["nodes.absent.output", "none"]}, ctx) == "none"
    assert apply({"var": ["nodes.other.output.body", 7]}, ctx) == 7


def test_val_and_iterators_work_on_non_list_sequences_and_mappings():
    data = RecordingMapping({"items": Items([1, 2, 3]), "obj": RecordingMapping({"a.b": 5})})
    assert apply({"map": [{"var": "items"}, {"*": [{"var": ""}, 2]}]}, data) == [2, 4, 6]
    assert apply({"val": ["obj", "a.b"]}, data) == 5
    assert apply({"exists": ["obj", "zzz"]}, data) is False
    assert apply({"merge": [{"var": "items"}, [4]]}, data) == [1, 2, 3, 4]
    assert apply({"in": [2, {"var": "items"}]}, data) is True


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, False), (False, False), (0, False), (0.0, False), ("", False), ([], False), ((), False),
        (Items([]), False), (True, True), (1, True), (-0.5, True), ("0", True), ([0], True), ({}, True),
        (RecordingMapping({}), True), (Items([0]), True),
    ],
)
def test_truthiness(value, expected):
    assert jsonlogic.truthy(value) is expected
    assert apply({"!!": {"var": "v"}}, {"v": value}) is expected


def test_apply_does_not_mutate_rule_or_data():
    rule = {"map": [{"var": "xs"}, {"merge": [[{"var": ""}], {"preserve": [1]}]}]}
    data = {"xs": [[1], [2]]}
    rule_before, data_before = copy.deepcopy(rule), copy.deepcopy(data)
    result = apply(rule, data)
    result[0].append("mutated")
    assert rule == rule_before and data == data_before


# ----------------------------------------------------------------------------- numbers and text


def test_integral_results_are_ints_and_others_floats():
    assert type(apply({"/": [4, 2]})) is int
    assert apply({"/": [1, 4]}) == 0.25
    assert type(apply({"+": ["1e2"]})) is int
    assert apply({"*": [0.1, 3]}) == pytest.approx(0.3)


def test_huge_numbers_switch_to_floats_then_fail_instead_of_growing():
    assert isinstance(apply({"*": [2**62, 2**62]}), float)
    with pytest.raises(EvaluationError) as caught:
        apply({"*": [1e300, 1e300]})
    assert caught.value.error == {"type": "NaN"}


def test_javascript_number_syntax_only():
    assert apply({"+": " 0x1f "}) == 31
    for text in ["1_000", "nan", "inf", "\u0661", "1e", "--1"]:
        with pytest.raises(EvaluationError):
            apply({"+": text})


def test_cat_writes_numbers_like_javascript():
    assert apply({"cat": [1.0, "|", 1.5, "|", 1e21, "|", 1e-7, "|", 0.000001, "|", True, None]}) == (
        "1|1.5|1e+21|1e-7|0.000001|true"
    )
    assert apply({"cat": [{"preserve": [1, [2, None]]}, {"preserve": {"a": 1}}]}) == '1,2,{"a":1}'


def test_equality_of_null_and_strings_does_not_fail():
    assert apply({"==": [{"var": "missing"}, "active"]}, {}) is False
    assert apply({"!=": [{"var": "missing"}, "active"]}, {}) is True
    assert apply({"==": [{"var": "missing"}, 0]}, {}) is True


def test_ordering_a_string_against_a_number_fails_with_nan():
    with pytest.raises(EvaluationError) as caught:
        apply({"<": [{"var": "status"}, 3]}, {"status": "ok"})
    assert caught.value.type == "NaN"
    assert "'<' cannot use \"ok\" as a number" in str(caught.value)


def test_strict_equality_is_deep_and_typed():
    assert apply({"===": [{"preserve": [1, {"a": [2.0]}]}, {"preserve": [1, {"a": [2]}]}]}) is True
    assert apply({"===": [1, True]}) is False
    assert apply({"in": [1, {"preserve": [True]}]}) is False


# ----------------------------------------------------------------------------- errors


def test_all_errors_are_json_logic_errors_and_value_errors():
    for rule in [{"nope": 1}, {"a": 1, "b": 2}, {"/": [1, 0]}, {"throw": "x"}, {"if": 1}]:
        with pytest.raises(JsonLogicError) as caught:
            apply(rule)
        assert isinstance(caught.value, ValueError)


def test_unknown_operator_is_a_rule_error_that_try_cannot_catch():
    with pytest.raises(RuleError, match="unknown operator 'nope'"):
        apply({"try": [{"nope": 1}, "fallback"]})


def test_try_catches_thrown_objects_and_exposes_them_as_data():
    rule = {"try": [{"throw": {"preserve": {"type": "Quota", "limit": 5}}}, {"cat": [{"var": "type"}, {"var": "limit"}]}]}
    assert apply(rule) == "Quota5"


def test_try_cannot_catch_running_out_of_steps():
    hog = {"map": [{"preserve": list(range(1000))}, {"+": [{"var": ""}, 1]}]}
    with pytest.raises(LimitExceeded):
        apply({"try": [hog, "fallback"]}, max_steps=500)


def test_max_steps_bounds_evaluation():
    rule = {"map": [{"var": "xs"}, {"+": [{"var": ""}, 1]}]}
    data = {"xs": list(range(1000))}
    assert len(apply(rule, data)) == 1000
    with pytest.raises(LimitExceeded, match="max_steps"):
        apply(rule, data, max_steps=1000)
    with pytest.raises(ValueError):
        apply(rule, data, max_steps=0)


@pytest.mark.parametrize(
    "hostile",
    [
        # doubling an array or a string each step: exponential memory without size charging
        {"reduce": [{"preserve": list(range(64))}, {"merge": [{"var": "accumulator"}, {"var": "accumulator"}]}, [1]]},
        {"reduce": [{"preserve": list(range(64))}, {"cat": [{"var": "accumulator"}, {"var": "accumulator"}]}, "ab"]},
        # squaring a number each step: unbounded integers without the float switch
        {"reduce": [{"preserve": list(range(64))}, {"*": [{"var": "accumulator"}, {"var": "accumulator"}]}, 3]},
        # nested iteration: quadratic work
        {"map": [{"var": "xs"}, {"map": [{"val": [[2], "xs"]}, {"var": ""}]}]},
    ],
)
def test_hostile_rules_fail_fast(hostile):
    with pytest.raises(JsonLogicError):
        apply(hostile, {"xs": list(range(2000))})


def test_deep_nesting_fails_cleanly_instead_of_recursion_error():
    rule = 1
    for _ in range(5000):
        rule = {"+": [rule]}
    with pytest.raises(LimitExceeded, match="nested deeper"):
        apply(rule)
    nested_list = [1]
    for _ in range(5000):
        nested_list = [nested_list]
    with pytest.raises(LimitExceeded):
        apply(nested_list)
    assert any("nested deeper" in problem for problem in check(rule))


# ----------------------------------------------------------------------------- check()


def test_check_accepts_well_formed_rules():
    assert check({"and": [{">": [{"var": "a"}, 1]}, {"in": ["x", {"var": "b"}]}, {"preserve": {"any": "thing"}}]}) == []
    assert check(True) == []
    assert check({}) == []


def test_check_names_unknown_operators_by_location():
    assert check({"and": [True, {"foo": 1}]}) == ["unknown operator 'foo' at condition.and[1]"]
    assert check({"vra": "x"}, path="cases[0].condition") == [
        "unknown operator 'vra' at cases[0].condition (did you mean 'var'?)"
    ]


def test_check_reports_objects_with_several_keys():
    [problem] = check({"or": [{"var": "a", "default": 1}]})
    assert "exactly one key" in problem and problem.endswith("at condition.or[0]")


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({">": [1]}, "'>' at condition takes at least 2 arguments, got 1"),
        ({"if": "x"}, "'if' at condition takes a literal array of arguments"),
        ({"==": {"var": "pair"}}, "'==' at condition takes a literal array of arguments"),
        ({"!": [1, 2]}, "'!' at condition takes at most 1 argument, got 2"),
        ({"missing_some": [1]}, "'missing_some' at condition takes exactly 2 arguments, got 1"),
        ({"%": 5}, "'%' at condition takes at least 2 arguments, got 1"),
        ({"var": ["a", 1, 2]}, "'var' at condition takes at most 2 arguments, got 3"),
        ({"substr": ["a", 1, 2, 3]}, "'substr' at condition takes 1 to 3 arguments, got 4"),
        ({"map": [None, {"var": ""}]}, "'map' at condition needs an array to iterate over, got null"),
        ({"filter": [[1], None]}, "'filter' at condition needs a rule for each item, got null"),
        ({"!": {"foo": 1}}, "unknown operator 'foo' at condition.!"),
    ],
)
def test_check_reports_argument_problems(rule, message):
    assert message in check(rule)


def test_check_does_not_judge_computed_argument_lists():
    assert check({"max": {"var": "scores"}}) == []
    assert check({"cat": {"merge": [["a"], ["b"]]}}) == []


# ----------------------------------------------------------------------------- var_paths()


def test_var_paths_lists_literal_paths_in_order_once():
    rule = {
        "and": [
            {">": [{"var": "nodes.lookup.output.body.count"}, 0]},
            {"==": [{"val": ["input", "body", "email"]}, {"var": ["vars.email", "x"]}]},
            {"!": {"var": "nodes.lookup.output.body.count"}},
            {"missing": ["vars.a", "vars.b"]},
            {"missing_some": [1, ["input.c"]]},
            {"exists": ["execution", "id"]},
            {"var": 0},
        ]
    }
    assert var_paths(rule) == [
        "nodes.lookup.output.body.count",
        "input.body.email",
        "vars.email",
        "vars.a",
        "vars.b",
        "input.c",
        "execution.id",
        "0",
    ]


def test_var_paths_skips_item_relative_paths_but_not_climbs_to_the_data():
    rule = {
        "some": [
            {"var": "nodes.a.output.items"},
            {"and": [{">": [{"var": "price"}, {"val": [[2], "vars", "limit"]}]}, {"val": [[1], "index"]}]},
        ]
    }
    assert var_paths(rule) == ["nodes.a.output.items", "vars.limit"]


def test_var_paths_skips_try_fallbacks_preserve_and_computed_paths():
    rule = {
        "try": [{"var": "nodes.x.output"}, {"var": "type"}],
        }
    assert var_paths(rule) == ["nodes.x.output"]
    assert var_paths({"preserve": {"var": "nodes.y"}}) == []
    assert var_paths({"var": {"cat": ["nodes.", {"var": "vars.which"}]}}) == ["vars.which"]
    assert var_paths({"var": ""}) == []


# ----------------------------------------------------------------------------- properties

_OPERATOR_NAMES = sorted(jsonlogic.OPERATORS) + ["nope"]
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
    st.sampled_from(["", "0", "1", "a", "a.b", "length", "Infinity", "0x10", "2024-01-01", "type"]),
)
_json = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=4), inner, max_size=3)),
    max_leaves=12,
)
_rules = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.builds(lambda op, args: {op: args}, st.sampled_from(_OPERATOR_NAMES), st.one_of(inner, st.lists(inner, max_size=4))),
        st.dictionaries(st.sampled_from(_OPERATOR_NAMES), inner, min_size=2, max_size=2),
    ),
    max_leaves=25,
)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rule=_rules, data=_json)
def test_random_rules_raise_nothing_but_json_logic_errors(rule, data):
    rule_before, data_before = copy.deepcopy(rule), copy.deepcopy(data)
    try:
        apply(rule, data, max_steps=5_000)
    except JsonLogicError:
        pass
    assert rule == rule_before and data == data_before
    assert isinstance(check(rule), list)
    assert all(isinstance(path, str) for path in var_paths(rule))


@settings(max_examples=300, deadline=None)
@given(data=_json)
def test_every_rule_check_accepts_can_read_lazy_mappings(data):
    rule = {"if": [{"var": "x"}, {"val": ["x"]}, {"??": [{"var": "y.z"}, {"cat": ["-", {"var": "y"}]}]}]}
    assert check(rule) == []
    plain = apply(rule, {"x": data, "y": data})
    lazy = apply(rule, RecordingMapping({"x": data, "y": data}))
    assert plain == lazy
