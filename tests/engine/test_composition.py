"""The rules of composite nodes, without a database (engine.composition)."""

from engine.composition import (
    COMPLETE, FAIL_NODE, START, WAIT, Progress, after_child, batches, depth_problem, effective_concurrency,
    first_action, output_of, to_run_again,
)


def test_concurrency_is_what_the_node_asks_capped():
    assert effective_concurrency(4, 64) == 4
    assert effective_concurrency(500, 64) == 64
    assert effective_concurrency(0, 64) == 1


def test_first_action_starts_up_to_the_concurrency():
    assert first_action(Progress("foreach", total=10, concurrency=3)) == (START, 3)
    assert first_action(Progress("foreach", total=2, concurrency=3)) == (START, 2)
    assert first_action(Progress("foreach", total=0, concurrency=3)) == (COMPLETE, 0)
    kept = Progress("foreach", total=2, concurrency=3, started=2, succeeded=2)  # a retry kept both
    assert first_action(kept) == (COMPLETE, 0)


def test_each_end_makes_room_for_one_more_and_the_last_completes():
    progress = Progress("foreach", total=4, concurrency=2, started=2)
    assert after_child(progress, True) == (START, 1)
    progress.started += 1
    assert after_child(progress, True) == (START, 1)
    progress.started += 1
    assert after_child(progress, True) == (WAIT, 0)
    assert after_child(progress, True) == (COMPLETE, 0)
    assert progress.counts() == {"total": 4, "succeeded": 4, "failed": 0, "running": 0, "queued": 0}


def test_a_failure_fails_the_node_under_fail_and_is_counted_otherwise():
    assert after_child(Progress("foreach", total=3, concurrency=3, started=3), False) == (FAIL_NODE, 0)
    progress = Progress("foreach", total=2, concurrency=2, started=2, on_item_error="continue")
    assert after_child(progress, False) == (WAIT, 0)
    assert after_child(progress, True) == (COMPLETE, 0)
    assert (progress.succeeded, progress.failed) == (1, 1)


def test_output_in_item_order_per_mode():
    rows = [(0, "succeeded", "a", 1, None), (1, "failed", None, 2, {"message": "x"}), (2, "succeeded", "c", 3, None)]
    assert output_of(Progress("foreach", 3, on_item_error="continue"), rows) == (["a", "c"], ("main",))
    output, ports = output_of(Progress("foreach", 3, on_item_error="collect"), rows)
    assert output == {"results": ["a", "c"], "errors": [{"index": 1, "item": 2, "error": {"message": "x"}}]}
    assert ports == ("main", "errors")
    assert output_of(Progress("group", 1), [(None, "succeeded", {"r": 1}, None, None)]) == ({"r": 1}, ("main",))


def test_retry_runs_again_every_child_that_did_not_succeed():
    assert to_run_again({0: "succeeded", 1: "failed", 2: "cancelled", 3: "succeeded"}) == [1, 2]


def test_batches_and_depth_limit():
    assert batches([1, 2, 3, 4, 5], 2) == [[1, 2], [3, 4], [5]]
    assert batches([1, 2], 1) == [1, 2]
    assert depth_problem(10, 10) is None
    assert "call depth limit of 10" in depth_problem(11, 10)
