"""flow.merge through real workflow runs: five inputs in each join mode and output shape, and fields."""

import pytest

from tests.nodes.support import node, run, workflow

pytestmark = pytest.mark.django_db

BRANCHES = ["b1", "b2", "b3", "b4", "b5"]


def five_way(outputs, merge_params, *, edge_order=BRANCHES, branch_nodes=None):
    """start -> b1..b5 (data.set with the given outputs) -> join (flow.merge) -> end (result = the merge's output).

    The edges into the join are listed in `edge_order`, which is the order merges use."""
    branch_nodes = branch_nodes or [node(b, "data.set", output=output) for b, output in zip(BRANCHES, outputs)]
    nodes = [
        *branch_nodes,
        node("join", "flow.merge", **merge_params),
        node("end", "flow.terminal", result="{{ nodes.join.output }}"),
    ]
    edges = [{"from": "start", "to": b} for b in BRANCHES]
    edges += [{"from": b, "to": "join"} for b in edge_order]
    edges += [{"from": "join", "to": "end"}]
    return workflow(nodes, edges=edges)


def first_mode(shape, winner_output, *, then_end=True, wait_s=0.2, **params):
    """b1..b4 wait `wait_s` (holding no worker) while b5 finishes at once, so b5 reaches the join first."""
    branch_nodes = [node(b, "flow.wait", seconds=wait_s) for b in BRANCHES[:4]]
    branch_nodes.append(node("b5", "data.set", output=winner_output))
    document = five_way(None, {"mode": "first", "shape": shape, **params}, branch_nodes=branch_nodes)
    if not then_end:  # the join is the last node
        document["nodes"] = [n for n in document["nodes"] if n["id"] != "end"]
        document["edges"] = [e for e in document["edges"] if e["to"] != "end"]
    return document


# ---------------------------------------------------------------------------
# mode: all


def test_all_object_keys_each_output_by_its_node_id():
    outputs = [{"n": 1}, [2, 2], "three", 4.5, None]

    execution, runs = run(five_way(outputs, {}))

    assert execution.status == "succeeded"
    assert execution.result == {"b1": {"n": 1}, "b2": [2, 2], "b3": "three", "b4": 4.5, "b5": None}
    assert runs["join"].status == "completed"


def test_all_append_concatenates_lists_adds_other_values_in_edge_order_and_leaves_out_null():
    outputs = [[1, 2], {"three": 3}, None, [4], "five"]

    execution, runs = run(five_way(outputs, {"shape": "append"}, edge_order=["b5", "b4", "b3", "b2", "b1"]))

    assert execution.result == ["five", 4, {"three": 3}, 1, 2]


def test_all_merge_by_key_joins_objects_on_the_key_later_branches_win():
    outputs = [
        [{"id": 1, "name": "Ada"}, {"id": 2, "name": "Bob"}],
        [{"id": 2, "email": "bob@example.com"}, {"id": 3, "name": "Cy"}],
        {"id": 1, "plan": "pro"},
        [],
        [{"id": 1, "name": "Ada L."}, {"id": "1", "note": "a string key is another key"}],
    ]

    execution, runs = run(five_way(outputs, {"shape": "merge_by_key", "key": "id"}))

    assert execution.status == "succeeded", runs["join"].error
    assert execution.result == [
        {"id": 1, "name": "Ada L.", "plan": "pro"},
        {"id": 2, "name": "Bob", "email": "bob@example.com"},
        {"id": 3, "name": "Cy"},
        {"id": "1", "note": "a string key is another key"},
    ]


def test_merge_by_key_reads_a_nested_key():
    outputs = [[{"user": {"id": user_id}, f"from_b{n}": True}] for n, user_id in enumerate((1, 2, 1, 2, 1), start=1)]

    execution, runs = run(five_way(outputs, {"shape": "merge_by_key", "key": "user.id"}))

    assert execution.result == [
        {"user": {"id": 1}, "from_b1": True, "from_b3": True, "from_b5": True},
        {"user": {"id": 2}, "from_b2": True, "from_b4": True},
    ]


def test_all_mode_waits_for_every_branch_and_holds_only_taken_ones():
    # b2 and b4 sit behind an `if` that is false: their edges into the join are not taken.
    nodes = [
        node("gate", "logic.if", condition=False),
        node("b1", "data.set", output=1),
        node("b2", "data.set", output=2),
        node("b3", "data.set", output=3),
        node("b4", "data.set", output=4),
        node("b5", "data.set", output=5),
        node("join", "flow.merge", shape="append"),
        node("end", "flow.terminal", result="{{ nodes.join.output }}"),
    ]
    edges = [
        {"from": "start", "to": "gate"},
        {"from": "gate", "port": "true", "to": "b2"},
        {"from": "gate", "port": "true", "to": "b4"},
        *({"from": "start", "to": b} for b in ("b1", "b3", "b5")),
        *({"from": b, "to": "join"} for b in BRANCHES),
        {"from": "join", "to": "end"},
    ]

    execution, runs = run(workflow(nodes, edges=edges))

    assert execution.result == [1, 3, 5]
    assert runs["b2"].status == runs["b4"].status == "skipped"


# ---------------------------------------------------------------------------
# mode: first


@pytest.mark.parametrize(
    ("shape", "params", "expected"),
    [
        ("object", {}, {"b5": [{"id": 5}]}),
        ("append", {}, [{"id": 5}]),
        ("merge_by_key", {"key": "id"}, [{"id": 5}]),
    ],
)
def test_first_continues_with_the_first_branch_to_finish_and_cancels_the_rest(shape, params, expected):
    execution, runs = run(first_mode(shape, [{"id": 5}], then_end=False, **params))

    assert execution.status == "succeeded", runs["join"].error
    assert runs["join"].output == expected
    assert [runs[b].status for b in BRANCHES] == ["cancelled"] * 4 + ["completed"]


def test_first_cancels_the_other_branches_when_nodes_follow_the_merge():
    execution, runs = run(first_mode("object", "fast"))

    assert execution.result == {"b5": "fast"}
    assert [runs[b].status for b in BRANCHES] == ["cancelled"] * 4 + ["completed"]


# ---------------------------------------------------------------------------
# fields: pick and rename


def test_fields_pick_and_rename_from_the_merged_object():
    outputs = [{"user": {"email": "a@example.com", "id": 7}}, {"score": 10}, None, None, {"tags": ["x", "y"]}]

    execution, runs = run(five_way(outputs, {"fields": {
        "email": "b1.user.email",
        "id": "b1.user.id",
        "score": "b2.score",
        "first_tag": "b5.tags.0",
        "missing": "b3.nothing.here",
    }}))

    assert execution.result == {"email": "a@example.com", "id": 7, "score": 10, "first_tag": "x", "missing": None}


def test_fields_apply_to_each_item_of_an_appended_list():
    outputs = [[{"id": 1, "full_name": "Ada", "secret": "s"}], [{"id": 2, "full_name": "Bob"}], None, None, None]

    execution, runs = run(five_way(outputs, {"shape": "append", "fields": {"key": "id", "name": "full_name"}}))

    assert execution.result == [{"key": 1, "name": "Ada"}, {"key": 2, "name": "Bob"}]


def test_fields_apply_to_each_joined_item_of_merge_by_key():
    outputs = [[{"id": 1, "a": "x"}], [{"id": 1, "b": "y"}], [{"id": 2, "a": "z"}], None, None]

    execution, runs = run(five_way(outputs, {"shape": "merge_by_key", "key": "id", "fields": {"id": "id", "both": "b"}}))

    assert execution.result == [{"id": 1, "both": "y"}, {"id": 2, "both": None}]


def test_a_single_input_merge_works_as_an_edit_fields_node():
    document = workflow([
        node("source", "data.set", output={"first": "Ada", "last": "Lovelace", "meta": {"age": 36}}),
        node("edit", "flow.merge", fields={"name": "source.first", "age": "source.meta.age"}),
    ])

    execution, runs = run(document)

    assert runs["edit"].output == {"name": "Ada", "age": 36}


# ---------------------------------------------------------------------------
# errors


def test_merge_by_key_fails_when_an_item_lacks_the_key():
    outputs = [[{"id": 1}], [{"id": 2}, {"name": "no id"}], None, None, None]

    execution, runs = run(five_way(outputs, {"shape": "merge_by_key", "key": "id"}))

    assert execution.status == "failed"
    assert runs["join"].error["code"] == "merge.missing_key"
    assert runs["join"].error["message"] == "item 1 from 'b2' has no 'id' to join on"


def test_merge_by_key_fails_on_items_that_are_not_objects():
    outputs = [[{"id": 1}], [1, 2], None, None, None]

    execution, runs = run(five_way(outputs, {"shape": "merge_by_key", "key": "id"}))

    assert runs["join"].error["code"] == "merge.not_objects"
    assert "item 0 from 'b2' is a number" in runs["join"].error["message"]


def test_merge_by_key_without_a_key_fails_with_what_to_set():
    execution, runs = run(five_way([[{"id": 1}]] * 5, {"shape": "merge_by_key"}))

    assert execution.status == "failed"
    assert "needs `key`" in runs["join"].error["message"]


def test_fields_on_a_list_of_non_objects_fail():
    execution, runs = run(five_way([1, 2, 3, 4, 5], {"shape": "append", "fields": {"x": "y"}}))

    assert runs["join"].error["code"] == "merge.not_objects"
    assert "item 0 is a number" in runs["join"].error["message"]


# ---------------------------------------------------------------------------
# On a real Celery worker


def run_on_worker(document):
    from executions import starting
    from executions.tasks import dispatcher
    from tests.conftest import wait_for_execution

    started = starting.start_execution(document, dispatcher=dispatcher)
    execution = wait_for_execution(started.pk)
    return execution, {run.node_id: run for run in execution.node_runs.all()}


def test_all_merge_of_five_parallel_branches_on_the_worker(celery_worker):
    outputs = [[{"id": user_id, f"b{n}": True}] for n, user_id in enumerate((1, 2, 1, 2, 3), start=1)]

    execution, runs = run_on_worker(five_way(outputs, {"shape": "merge_by_key", "key": "id"}))

    assert execution.status == "succeeded", runs["join"].error
    assert execution.result == [
        {"id": 1, "b1": True, "b3": True},
        {"id": 2, "b2": True, "b4": True},
        {"id": 3, "b5": True},
    ]


def test_first_merge_on_the_worker_takes_the_fast_branch_and_cancels_the_waiting_ones(celery_worker):
    # A worker's first task in a fresh process can take a while: the losers wait long enough not to race it.
    execution, runs = run_on_worker(first_mode("append", "fast", then_end=False, wait_s=3))

    assert execution.status == "succeeded", runs["join"].error
    assert runs["join"].output == ["fast"]
    assert [runs[b].status for b in BRANCHES] == ["cancelled"] * 4 + ["completed"]
