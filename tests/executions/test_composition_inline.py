"""Composite nodes run inline (one process, the same runtime): groups, loops, sub-workflows."""

import pytest

from executions.inline import run_inline
from executions.models import Execution
from tests.support.composition import body, document, foreach_doc


DOUBLE = ([{"id": "twice", "type": "data.set", "params": {"output": {"v": "{{ input.item * 2 }}"}}},
           {"id": "end", "type": "flow.terminal", "params": {"result": "{{ nodes.twice.output.v }}"}}],
          [{"from": "start", "to": "twice"}, {"from": "twice", "to": "end"}])


@pytest.mark.django_db
def test_foreach_returns_results_in_item_order():
    execution = run_inline(foreach_doc("{{ input.numbers }}", *DOUBLE, concurrency=3), input_data={"numbers": [3, 1, 2, 5]})
    assert execution.status == "succeeded", execution.error
    assert execution.result == [6, 2, 4, 10]
    children = Execution.objects.filter(parent=execution).order_by("parent_index")
    assert [c.parent_index for c in children] == [0, 1, 2, 3]
    assert all(c.status == "succeeded" and c.depth == 1 and c.parent_node_id == "loop" for c in children)


@pytest.mark.django_db
def test_group_sees_only_its_local_context_and_outside_sees_only_its_result():
    doc = document(
        [{"id": "start", "type": "trigger.manual"},
         {"id": "outer", "type": "data.set", "params": {"vars": {"secret": 1}}},
         {"id": "grp", "type": "flow.group", "params": {"input": {"n": "{{ input.n }}"}, "graph": body(
             [{"id": "inner", "type": "data.set", "params": {"vars": {"inside": True},
                                                            "output": {"seen": "{{ input }}", "vars": "{{ vars }}"}}}],
             [{"from": "start", "to": "inner"}])}},
         {"id": "done", "type": "flow.terminal", "params": {"result": {"group": "{{ nodes.grp.output }}",
                                                                      "vars": "{{ vars }}"}}}],
        [{"from": "start", "to": "outer"}, {"from": "outer", "to": "grp"}, {"from": "grp", "to": "done"}],
    )
    execution = run_inline(doc, input_data={"n": 7})
    assert execution.status == "succeeded", execution.error
    # The body saw its own input and empty vars; its one sink's output is its result.
    assert execution.result == {"group": {"seen": {"n": 7}, "vars": {}}, "vars": {"secret": 1}}
    assert not execution.node_runs.filter(node_id="inner").exists()


FAIL_ON_TWO = ([{"id": "check", "type": "logic.if", "params": {"condition": {"==": [{"var": "input.item"}, 2]}}},
                {"id": "boom", "type": "flow.fail", "params": {"message": "two is bad"}},
                {"id": "end", "type": "flow.terminal", "params": {"result": "{{ input.item }}"}}],
               [{"from": "start", "to": "check"}, {"from": "check", "port": "true", "to": "boom"},
                {"from": "check", "port": "false", "to": "end"}])


@pytest.mark.django_db
def test_on_item_error_fail_fails_the_node_naming_the_item():
    execution = run_inline(foreach_doc([1, 2, 3], *FAIL_ON_TWO, concurrency=1))
    assert execution.status == "failed"
    assert execution.error["node_id"] == "loop"
    assert "item 1 failed: two is bad" in execution.error["message"]
    statuses = dict(Execution.objects.filter(parent=execution).values_list("parent_index", "status"))
    # Item 2 (index 2) never started with concurrency 1: it is cancelled, not run.
    assert statuses == {0: "succeeded", 1: "failed", 2: "cancelled"}


@pytest.mark.django_db
def test_on_item_error_continue_leaves_failed_items_out():
    execution = run_inline(foreach_doc([1, 2, 3], *FAIL_ON_TWO, on_item_error="continue"))
    assert execution.status == "succeeded", execution.error
    assert execution.result == [1, 3]


@pytest.mark.django_db
def test_on_item_error_collect_sends_errors_down_their_port():
    doc = foreach_doc([1, 2, 3], *FAIL_ON_TWO, on_item_error="collect")
    doc["nodes"].append({"id": "report", "type": "flow.terminal", "params": {"result": {"errors": "{{ nodes.loop.output.errors }}"}}})
    doc["nodes"][-2]["params"]["result"] = "{{ nodes.loop.output.results }}"
    doc["edges"].append({"from": "loop", "port": "errors", "to": "report"})
    execution = run_inline(doc)
    assert execution.status == "succeeded", execution.error
    run = execution.node_runs.get(node_id="loop")
    assert run.ports == ["main", "errors"]
    assert run.output["results"] == [1, 3]
    [error] = run.output["errors"]
    assert error["index"] == 1 and error["item"] == 2 and "two is bad" in error["error"]["message"]


@pytest.mark.django_db
def test_empty_items_complete_at_once_and_batches_group_items():
    execution = run_inline(foreach_doc([], *DOUBLE))
    assert execution.status == "succeeded" and execution.result == []
    sizes = ([{"id": "end", "type": "flow.terminal", "params": {"result": "{{ input.item | length }}"}}],
             [{"from": "start", "to": "end"}])
    execution = run_inline(foreach_doc(list(range(7)), *sizes, batch_size=3))
    assert execution.status == "succeeded", execution.error
    assert execution.result == [3, 3, 1]


def caller(workflow_id, **params):
    return document(
        [{"id": "start", "type": "trigger.manual"},
         {"id": "call", "type": "flow.subworkflow", "params": {"workflow": str(workflow_id), "input": "{{ input }}",
                                                               **params}},
         {"id": "done", "type": "flow.terminal", "params": {"result": {"got": "{{ nodes.call.output }}"}}}],
        [{"from": "start", "to": "call"}, {"from": "call", "to": "done"}],
    )


@pytest.mark.django_db
def test_subworkflow_result_flows_into_the_next_node(alice):
    from workflows.services import create_workflow, publish_workflow

    called, _ = create_workflow(alice, "adder", document(
        [{"id": "start", "type": "trigger.manual"},
         {"id": "add", "type": "data.set", "params": {"output": {"sum": "{{ input.a + input.b }}"}}},
         {"id": "end", "type": "flow.terminal", "params": {"result": "{{ nodes.add.output.sum }}"}}],
        [{"from": "start", "to": "add"}, {"from": "add", "to": "end"}]))
    publish_workflow(called)
    execution = run_inline(caller(called.pk), owner=alice, input_data={"a": 2, "b": 3})
    assert execution.status == "succeeded", execution.error
    assert execution.result == {"got": 5}
    child = Execution.objects.get(parent=execution)
    assert child.workflow_id == called.pk and child.version == 1 and child.parent_index is None


@pytest.mark.django_db
def test_subworkflow_of_another_user_is_not_found(alice, bob):
    from workflows.services import create_workflow

    bobs, _ = create_workflow(bob, "bob's", document([{"id": "start", "type": "trigger.manual"}], []))
    execution = run_inline(caller(bobs.pk, version="draft"), owner=alice)
    assert execution.status == "failed"
    assert execution.error["code"] == "workflow_not_found"
    assert not Execution.objects.filter(parent=execution).exists()


@pytest.mark.django_db
def test_recursion_past_the_depth_limit_fails_naming_the_limit(alice, settings):
    from workflows.services import create_workflow, update_workflow

    settings.NODEFLOW = {**settings.NODEFLOW, "MAX_CALL_DEPTH": 10}
    recursive, _ = create_workflow(alice, "recursive", document([{"id": "start", "type": "trigger.manual"}], []))
    update_workflow(recursive, definition=caller(recursive.pk, version="draft"))
    execution = run_inline(caller(recursive.pk, version="draft"), owner=alice)
    assert execution.status == "failed"
    depths = sorted(Execution.objects.filter(workflow=recursive).values_list("depth", flat=True))
    assert depths == list(range(1, 11))  # ten nested calls ran; the eleventh was refused
    deepest = Execution.objects.get(workflow=recursive, depth=10)
    assert deepest.error["code"] == "call_depth_exceeded"
    assert "call depth limit of 10" in deepest.error["message"]
    assert "call depth limit of 10 (NODEFLOW_MAX_CALL_DEPTH)" in execution.error["message"]


@pytest.mark.django_db
def test_subworkflow_without_wait_answers_its_execution_id(alice):
    from workflows.services import create_workflow

    called, _ = create_workflow(alice, "slow", document([{"id": "start", "type": "trigger.manual"}], []))
    execution = run_inline(caller(called.pk, version="draft", wait=False), owner=alice)
    assert execution.status == "succeeded", execution.error
    child = Execution.objects.get(parent=execution)
    assert execution.result == {"got": {"execution_id": str(child.pk)}}


@pytest.mark.django_db
def test_api_lists_top_level_executions_and_children_by_parent(alice, alice_client, bob_client):
    execution = run_inline(foreach_doc([1, 2, 3], *FAIL_ON_TWO, on_item_error="continue"), owner=alice)
    listed = alice_client.get("/api/v1/executions/").json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert [row["id"] for row in rows] == [str(execution.pk)]  # the iterations are not top-level
    assert rows[0]["children"] == {"total": 3, "succeeded": 2, "failed": 1, "running": 0, "queued": 0}
    assert rows[0]["parent"] is None

    page = alice_client.get(f"/api/v1/executions/?parent={execution.pk}&node_id=loop").json()
    children = page["results"] if isinstance(page, dict) else page
    assert [child["parent"] for child in children] == [
        {"execution_id": str(execution.pk), "node_id": "loop", "index": i} for i in range(3)]
    failed = alice_client.get(f"/api/v1/executions/?parent={execution.pk}&status=failed").json()
    failed = failed["results"] if isinstance(failed, dict) else failed
    assert [child["parent"]["index"] for child in failed] == [1]

    one = alice_client.get(f"/api/v1/executions/{children[0]['id']}/").json()
    assert one["parent"]["execution_id"] == str(execution.pk) and one["depth"] == 1
    nodes = alice_client.get(f"/api/v1/executions/{execution.pk}/nodes/").json()
    loop = next(run for run in nodes if run["node_id"] == "loop")
    assert loop["children"] == {"total": 3, "succeeded": 2, "failed": 1, "running": 0, "queued": 0}

    # Another user sees neither the parent's children nor a child.
    assert bob_client.get(f"/api/v1/executions/?parent={execution.pk}").status_code == 404
    assert bob_client.get(f"/api/v1/executions/{children[0]['id']}/").status_code == 404
    assert alice_client.get("/api/v1/executions/?parent=nope").json()["error"]["code"] == "invalid_parameter"


@pytest.mark.django_db
def test_saving_a_call_of_another_users_workflow_answers_404(alice, bob, alice_client):
    from workflows.services import create_workflow

    bobs, _ = create_workflow(bob, "bob's", document([{"id": "start", "type": "trigger.manual"}], []))
    mine, _ = create_workflow(alice, "mine", document([{"id": "start", "type": "trigger.manual"}], []))
    body = {"nodes": [{"id": "start", "type": "trigger.group"},
                      {"id": "call", "type": "flow.subworkflow", "params": {"workflow": str(bobs.pk)}}],
            "edges": [{"from": "start", "to": "call"}]}
    doc = document([{"id": "start", "type": "trigger.manual"},
                    {"id": "grp", "type": "flow.group", "params": {"graph": body}}], [{"from": "start", "to": "grp"}])
    response = alice_client.post("/api/v1/workflows/", {"name": "calls bob", "definition": doc}, format="json")
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "workflow_not_found" and error["details"]["path"] == "nodes[1].params.graph.nodes[1].params.workflow"
    doc["nodes"][1]["params"]["graph"]["nodes"][1]["params"]["workflow"] = str(mine.pk)
    response = alice_client.post("/api/v1/workflows/", {"name": "calls mine", "definition": doc}, format="json")
    assert response.status_code == 201 and response.json()["validation"]["valid"], response.json()


@pytest.mark.django_db
def test_each_child_end_is_a_progress_event_of_the_parent_and_replay_holds():
    from executions.replay import rebuild_state, stored_state

    execution = run_inline(foreach_doc([1, 2, 3], *DOUBLE, concurrency=2))
    progress = [event.data for event in execution.events.filter(type="NODE_PROGRESS").order_by("seq")]
    assert [p["children"]["succeeded"] for p in progress] == [1, 2, 3]
    assert progress[-1]["children"] == {"total": 3, "succeeded": 3, "failed": 0, "running": 0, "queued": 0}
    assert sorted(p["child"]["index"] for p in progress) == [0, 1, 2]
    for one in [execution, *Execution.objects.filter(parent=execution)]:
        assert rebuild_state(one.events.order_by("seq")) == stored_state(one)


@pytest.mark.django_db
def test_a_failed_group_follows_its_on_error():
    doc = document(
        [{"id": "start", "type": "trigger.manual"},
         {"id": "grp", "type": "flow.group", "on_error": "continue", "params": {"graph": {
             "nodes": [{"id": "start", "type": "trigger.group"},
                       {"id": "boom", "type": "flow.fail", "params": {"message": "inner trouble"}}],
             "edges": [{"from": "start", "to": "boom"}]}}},
         {"id": "done", "type": "flow.terminal", "params": {"result": "{{ nodes.grp.output.error.message }}"}}],
        [{"from": "start", "to": "grp"}, {"from": "grp", "to": "done"}],
    )
    execution = run_inline(doc)
    assert execution.status == "succeeded", execution.error
    assert execution.result == "the group failed: inner trouble"


@pytest.mark.django_db
@pytest.mark.timeout(60)
def test_an_inline_run_does_not_wait_for_the_timeout_of_an_execution_that_ended():
    doc = foreach_doc([1, 2], *DOUBLE)
    doc["settings"] = {"timeout_s": 3600}
    execution = run_inline(doc)  # before: slept until the hour-long timeout fired
    assert execution.status == "succeeded" and execution.result == [2, 4]


@pytest.mark.django_db
@pytest.mark.parametrize("concurrency", [2, 3, 6])
def test_a_failed_item_cancels_its_running_siblings_after_its_own_transition(concurrency):
    # The siblings are cancelled once the failing child's transition is written, not inside it
    # (inline, cancelling them at once wrote their events at sequence numbers it was about to use).
    execution = run_inline(foreach_doc([1, 2, 3, 4, 5, 6], *FAIL_ON_TWO, concurrency=concurrency))
    assert execution.status == "failed"
    assert "item 1 failed: two is bad" in execution.error["message"]
    statuses = dict(Execution.objects.filter(parent=execution).values_list("parent_index", "status"))
    assert statuses[0] == "succeeded" and statuses[1] == "failed"
    assert {statuses[index] for index in range(2, 6)} <= {"succeeded", "cancelled"}
    assert "cancelled" in {statuses[index] for index in range(2, 6)}
