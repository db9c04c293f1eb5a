import pytest

from engine.context import Branch, MergeConflict, VarState, merge_branches


def always_concurrent(a, b):
    return False


def branch(source, order, **writes):
    return Branch(source, VarState().apply(source, writes), order)


def test_error_policy_names_the_key_and_both_branches():
    with pytest.raises(MergeConflict) as raised:
        merge_branches([branch("a", 2, x=1), branch("b", 1, x=2)], "error", always_concurrent, "j")
    message = str(raised.value)
    assert "'x'" in message and "'a'" in message and "'b'" in message


def test_equal_values_from_two_branches_are_no_conflict():
    merged = merge_branches([branch("a", 1, x=1), branch("b", 2, x=1)], "error", always_concurrent, "j")
    assert merged.values == {"x": 1}


@pytest.mark.parametrize(
    ("policy", "expected"),
    [("last_write", 1), ("first_write", 2), ("collect", [1, 2])],
)
def test_each_policy_gives_its_documented_result(policy, expected):
    # a finished after b; edge order is a, b.
    merged = merge_branches([branch("a", 5, x=1), branch("b", 3, x=2)], policy, always_concurrent, "j")
    assert merged.values["x"] == expected


def test_a_write_that_overwrote_an_upstream_write_wins_without_conflict():
    upstream = VarState().apply("up", {"x": 0})
    left = Branch("left", upstream.apply("left", {"x": 1}), 1)
    right = Branch("right", upstream, 2)  # only inherited x from "up"
    merged = merge_branches([left, right], "error", lambda a, b: a == "up", "j")
    assert merged.values == {"x": 1} and merged.writers["x"] == "left"


def test_keys_written_by_one_branch_only_are_kept():
    merged = merge_branches([branch("a", 1, x=1), branch("b", 2, y=2)], "error", always_concurrent, "j")
    assert merged.values == {"x": 1, "y": 2}


def test_a_deletion_in_one_branch_against_a_write_in_another_is_a_conflict():
    base = VarState().apply("up", {"x": 0})
    deleted = Branch("a", base.apply("a", {}, deleted=["x"]), 1)
    written = Branch("b", base.apply("b", {"x": 5}), 2)
    with pytest.raises(MergeConflict):
        merge_branches([deleted, written], "error", lambda a, b: a == "up", "j")
