"""Parallel branches, joins and merges on real worker processes."""

import time

import pytest

from executions import starting
from executions.inline import run_inline
from executions.tasks import dispatcher
from tests.conftest import WorkerProcess, wait_for_execution
from workflows.services import with_node_versions


def document(nodes, edges, **settings):
    doc = {"api_version": "nodeflow/v1", "name": "t", "nodes": nodes, "edges": edges}
    if settings:
        doc["settings"] = settings
    return with_node_versions(doc)


def fan_out(width, node_type="flow.noop", params=None, join_params=None, merge=None):
    nodes = [{"id": "start", "type": "trigger.manual"}]
    nodes += [{"id": f"b{i}", "type": node_type, "params": dict(params or {})} for i in range(width)]
    nodes += [{"id": "join", "type": "flow.merge", "params": join_params or {}},
              {"id": "done", "type": "flow.terminal", "params": {"result": "{{ nodes.join.output }}"}}]
    edges = [{"from": "start", "to": f"b{i}"} for i in range(width)]
    edges += [{"from": f"b{i}", "to": "join"} for i in range(width)] + [{"from": "join", "to": "done"}]
    return document(nodes, edges, **({"merge": merge} if merge else {}))


def test_two_one_second_branches_run_at_the_same_time(celery_worker):
    doc = fan_out(2, "test.sleep", {"seconds": 1})
    execution = starting.start_execution(doc, dispatcher=dispatcher)
    execution = wait_for_execution(execution.pk, timeout=20)
    assert execution.status == "succeeded"
    branches = [run for run in execution.node_runs.filter(node_id__in=["b0", "b1"])]
    outputs = [run.output for run in branches]
    # They ran in two different worker processes, overlapping in time: one after the other would overlap by
    # nothing; a loaded machine (the suite's other processes) may start the second a few tenths late.
    assert outputs[0]["pid"] != outputs[1]["pid"]
    overlap = min(o["finished"] for o in outputs) - max(o["started"] for o in outputs)
    assert overlap > 0.5


def conflicting_writes(merge):
    nodes = [
        {"id": "start", "type": "trigger.manual"},
        {"id": "left", "type": "data.set", "params": {"vars": {"winner": "left", "left_only": 1}}},
        {"id": "right", "type": "test.sleep", "params": {"seconds": 0.2}},
        {"id": "right_write", "type": "data.set", "params": {"vars": {"winner": "right"}}},
        {"id": "join", "type": "flow.noop"},
        {"id": "done", "type": "flow.terminal", "params": {"result": "{{ vars }}"}},
    ]
    edges = [{"from": "start", "to": "left"}, {"from": "start", "to": "right"}, {"from": "right", "to": "right_write"},
             {"from": "left", "to": "join"}, {"from": "right_write", "to": "join"}, {"from": "join", "to": "done"}]
    return document(nodes, edges, merge=merge)


@pytest.mark.django_db
def test_conflicting_writes_fail_the_join_under_error_naming_key_and_branches():
    execution = run_inline(conflicting_writes("error"))
    assert execution.status == "failed"
    join = execution.node_runs.get(node_id="join")
    assert join.status == "failed"
    message = join.error["message"]
    assert "'winner'" in message and "'left'" in message and "'right_write'" in message
    assert execution.error["node_id"] == "join"
    assert execution.node_runs.get(node_id="done").status == "cancelled"


@pytest.mark.parametrize(
    ("policy", "winner"),
    [("last_write", "right"), ("first_write", "left"), ("collect", ["left", "right"])],
)
def test_merge_policies_on_celery(policy, winner, celery_worker):
    # The right branch sleeps, so it finishes last on a real worker.
    execution = starting.start_execution(conflicting_writes(policy), dispatcher=dispatcher)
    execution = wait_for_execution(execution.pk)
    assert execution.status == "succeeded"
    assert execution.result == {"winner": winner, "left_only": 1}


@pytest.mark.slow
def test_a_join_fires_exactly_once_when_fifty_branches_finish_together(transactional_db, _session_worker):
    worker = WorkerProcess(concurrency=4).start()
    try:
        # test.sleep is not an instant type: each branch is its own task, so the 50 branches
        # finish in four processes at once (flow.noop branches would run in one worker's batch).
        for _ in range(20):
            execution = starting.start_execution(fan_out(50, "test.sleep", {"seconds": 0}), dispatcher=dispatcher)
            execution = wait_for_execution(execution.pk, timeout=60)
            assert execution.status == "succeeded"
            join = execution.node_runs.get(node_id="join")
            assert join.attempt == 1 and join.inputs_remaining == 0 and join.inputs_taken == 50
            starts = execution.events.filter(type="NODE_STATE_CHANGED", node_id="join", data__status="running")
            assert starts.count() == 1
            workers = set(execution.node_runs.filter(node_id__startswith="b").values_list("output__pid", flat=True))
            assert len(workers) > 1
            assert len(execution.result) == 50
    finally:
        worker.stop()


@pytest.mark.slow
def test_a_200_node_chain_and_a_500_wide_fan_out_complete(celery_worker, capsys):
    nodes = [{"id": "start", "type": "trigger.manual"}] + [{"id": f"n{i}", "type": "flow.noop"} for i in range(199)]
    edges = [{"from": a["id"], "to": b["id"]} for a, b in zip(nodes, nodes[1:])]
    chain = document(nodes, edges)
    started = time.monotonic()
    execution = wait_for_execution(starting.start_execution(chain, dispatcher=dispatcher).pk, timeout=120)
    chain_s = time.monotonic() - started
    assert execution.status == "succeeded"
    assert execution.node_runs.filter(status="completed").count() == 200

    started = time.monotonic()
    execution = wait_for_execution(starting.start_execution(fan_out(500), dispatcher=dispatcher).pk, timeout=180)
    fan_s = time.monotonic() - started
    assert execution.status == "succeeded"
    assert len(execution.result) == 500
    with capsys.disabled():
        print(f"\n200-node chain: {chain_s:.2f} s; 500-wide fan-out + join: {fan_s:.2f} s")


def test_a_worker_process_keeps_its_database_connection_from_task_to_task(celery_worker):
    # Celery's Django fixup would close it around every task: each node sent through the
    # broker then paid for a new connection (settings: CELERY_DB_REUSE_MAX).
    doc = document([{"id": "start", "type": "trigger.manual"}, {"id": "a", "type": "test.db_session"},
                    {"id": "b", "type": "test.db_session"}],
                   [{"from": "start", "to": "a"}, {"from": "a", "to": "b"}])
    sessions = {}  # worker process → the database sessions its node runs used
    for _ in range(3):
        execution = wait_for_execution(starting.start_execution(doc, dispatcher=dispatcher).pk, timeout=30)
        assert execution.status == "succeeded"
        for run in execution.node_runs.filter(node_id__in=["a", "b"]):
            sessions.setdefault(run.output["pid"], set()).add(run.output["backend_pid"])
    # Six tasks over the worker's two processes: at least one process ran several.
    assert len(sessions) <= 2 and all(len(used) == 1 for used in sessions.values()), sessions
