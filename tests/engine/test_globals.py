"""engine.globals: the operations on global variables, key rules, and what a node reads."""

import pytest

from engine import globals as g
from engine.globals import GlobalConflict, GlobalOpError, GlobalWrite


def apply(op, current, version=1, value=None, expected=None):
    return g.apply(GlobalWrite("k", op, value, expected), version > 0, current, version)


def test_set_replaces_the_value_whatever_it_was():
    assert apply("set", {"a": 1}, value=[1]) == [1]
    assert apply("set", None, version=0, value=None) is None


def test_incr_adds_to_a_number_and_starts_from_zero():
    assert apply("incr", 41, value=1) == 42
    assert apply("incr", 1.5, value=None) == 2.5  # null adds 1
    assert apply("incr", None, version=0, value=5) == 5


@pytest.mark.parametrize(("current", "value", "said"), [("x", 1, "the value is a string"),
                                                         (True, 1, "the value is a boolean"),
                                                         (1, "2", "not str")])
def test_incr_refuses_what_is_not_a_number(current, value, said):
    with pytest.raises(GlobalOpError) as caught:
        apply("incr", current, value=value)
    assert said in str(caught.value) and "'k'" in str(caught.value)


def test_append_adds_one_item_to_a_list_and_starts_from_empty():
    assert apply("append", [1], value=[2]) == [1, [2]]
    assert apply("append", None, version=0, value="a") == ["a"]
    with pytest.raises(GlobalOpError, match="append needs a list, and the value is an object"):
        apply("append", {}, value=1)


def test_merge_merges_an_object_shallowly():
    assert apply("merge", {"a": 1, "b": {"x": 1}}, value={"b": 2, "c": 3}) == {"a": 1, "b": 2, "c": 3}
    assert apply("merge", None, version=0, value={"a": 1}) == {"a": 1}
    with pytest.raises(GlobalOpError, match="merge needs an object to merge, not a list"):
        apply("merge", {}, value=[1])


def test_compare_and_set_writes_only_at_the_expected_version_and_names_both_versions():
    assert apply("compare_and_set", "old", version=3, value="new", expected=3) == "new"
    assert apply("compare_and_set", None, version=0, value="first", expected=0) == "first"
    with pytest.raises(GlobalConflict) as caught:
        apply("compare_and_set", "old", version=4, value="new", expected=3)
    assert (caught.value.key, caught.value.expected, caught.value.actual) == ("k", 3, 4)
    assert "'k' is at version 4, not the expected version 3" in str(caught.value)


@pytest.mark.parametrize("key", ["a", "_x", "Player_42", "a" * 128])
def test_identifier_keys_are_keys(key):
    assert g.key_problem(key) is None


@pytest.mark.parametrize("key", ["", "1a", "a.b", "a-b", "a b", "a" * 129, 5, None])
def test_other_keys_are_refused_with_the_rule(key):
    assert g.key_problem(key)


def test_patterns_match_a_key_or_a_prefix():
    assert g.matches("order", "order") and not g.matches("order", "order_1")
    assert g.matches("order_*", "order_1") and not g.matches("order_*", "orders")
    assert g.matches("*", "anything")
    assert all(g.KEY_OR_PREFIX.match(p) for p in ("a", "a*", "*")) and not g.KEY_OR_PREFIX.match("a**")


def test_keys_read_from_paths_or_none_when_globals_is_read_whole():
    assert g.keys_read(["globals.a.b", "vars.x", "globals.c", "nodes.n.output"]) == {"a", "c"}
    assert g.keys_read(["vars.x"]) == set()
    assert g.keys_read(["globals.a", "globals"]) is None


def test_a_snapshot_loads_its_keys_once_at_start_and_everything_only_when_asked():
    loads = []
    store = {"a": (1, 4), "b": (2, 1)}

    def load(keys):
        loads.append(None if keys is None else sorted(keys))
        return dict(store) if keys is None else {k: store[k] for k in keys if k in store}

    snapshot = g.Snapshot({"a", "zz"}, load)
    assert loads == [["a", "zz"]]
    assert snapshot["a"] == 1 and "zz" not in snapshot and dict(snapshot) == {"a": 1}
    assert snapshot.versions() == {"a": 4}
    assert loads == [["a", "zz"]]
    assert snapshot.materialise() == {"a": 1, "b": 2}
    assert snapshot.versions() == {"a": 4, "b": 1}
    assert loads == [["a", "zz"], None]
    lazy = g.Snapshot(None, load)
    assert loads == [["a", "zz"], None]
    assert lazy.materialise() == {"a": 1, "b": 2} and lazy["b"] == 2
    assert loads == [["a", "zz"], None, None]
    assert dict(g.Snapshot(set(), load)) == {} and len(loads) == 3


def test_a_set_with_an_expected_version_is_an_optimistic_write():
    assert apply("set", "old", version=2, value="new", expected=2) == "new"
    with pytest.raises(GlobalConflict):
        apply("set", "old", version=3, value="new", expected=2)
