"""Concurrency limits and priorities on real workers: max_concurrent, the per-owner limit, priorities.

Running intervals come from what the executions recorded (started_at, finished_at)."""

import time

import pytest

from executions import limits
from executions.inline import InlineDispatcher
from executions.models import Execution, ExecutionEvent
from executions.starting import run_workflow
from executions.tasks import dispatcher
from tests.conftest import WorkerProcess, wait_for_execution
from workflows.models import Workflow


def _document(seconds, **settings):
    document = {
        "api_version": "nodeflow/v1", "name": "limited",
        "nodes": [{"id": "start", "type": "trigger.manual"},
                  {"id": "work", "type": "test.sleep", "params": {"seconds": seconds}},
                  {"id": "done", "type": "flow.terminal", "params": {"result": "{{ nodes.work.output.started }}"}}],
        "edges": [{"from": "start", "to": "work"}, {"from": "work", "to": "done"}],
    }
    if settings:
        document["settings"] = settings
    return document


def _workflow(owner, seconds, **settings):
    return Workflow.objects.create(owner=owner, name="limited", definition=_document(seconds, **settings))


def _most_at_once(executions):
    """The largest number of executions whose recorded [started_at, finished_at] overlap."""
    edges = sorted([(e.started_at, 1) for e in executions] + [(e.finished_at, -1) for e in executions],
                   key=lambda edge: (edge[0], edge[1]))
    running = most = 0
    for _, step in edges:
        running += step
        most = max(most, running)
    return most


@pytest.fixture
def only_our_workers(transactional_db, _session_worker):
    """No other worker takes these tests' messages (the session's is started again on demand later)."""
    _session_worker.stop()


@pytest.fixture
def workers(only_our_workers):
    """Two worker processes of three each: room for six runs at once, across processes."""
    started = [WorkerProcess(concurrency=3).start(), WorkerProcess(concurrency=3).start()]
    yield started
    for worker in started:
        worker.stop()


def test_max_concurrent_2_with_10_runs_never_has_more_than_2_running_and_all_finish(workers, alice):
    workflow = _workflow(alice, 0.4, max_concurrent=2)
    ids = [run_workflow(workflow, dispatcher=dispatcher).pk for _ in range(10)]
    held = Execution.objects.filter(pk__in=ids, held="workflow", status="queued").count()
    assert held >= 7  # the first two (maybe three, if one ended already) start, the rest wait their turn
    executions = [wait_for_execution(pk, timeout=60) for pk in ids]
    assert [e.status for e in executions] == ["succeeded"] * 10
    assert _most_at_once(executions) == 2
    assert not Execution.objects.filter(pk__in=ids).exclude(held="").exists()
    # The held ones were released in the order they were queued (the releases are serialised).
    released = [pk for pk, in ExecutionEvent.objects.filter(execution_id__in=ids, data__has_key="released")
                .order_by("ts", "id").values_list("execution_id")]
    assert len(released) >= 7 and released == [pk for pk in ids if pk in set(released)]


def test_without_a_limit_the_same_runs_overlap(workers, alice):
    """The control: the two workers have room for more than two at once."""
    workflow = _workflow(alice, 0.8)
    ids = [run_workflow(workflow, dispatcher=dispatcher).pk for _ in range(5)]
    executions = [wait_for_execution(pk, timeout=60) for pk in ids]
    assert _most_at_once(executions) >= 3


def test_a_high_priority_run_overtakes_the_queued_low_priority_ones(workers, alice, settings):
    """The owner limit holds runs of several workflows; the high one goes first when a slot frees."""
    settings.NODEFLOW = {**settings.NODEFLOW, "MAX_RUNNING_PER_OWNER": 1}
    for worker in workers:  # the workers release held runs: they must know the limit too
        worker.stop()
    env = {"NODEFLOW_MAX_RUNNING_PER_OWNER": "1"}
    started = [WorkerProcess(concurrency=3, env=env).start() for _ in range(2)]
    try:
        low = _workflow(alice, 0.1, priority="low")
        high = _workflow(alice, 0.1, priority="high")
        blocker = run_workflow(_workflow(alice, 1.0), dispatcher=dispatcher)
        lows = [run_workflow(low, dispatcher=dispatcher).pk for _ in range(5)]
        urgent = run_workflow(high, dispatcher=dispatcher).pk
        assert Execution.objects.get(pk=lows[0]).held == "owner"
        executions = {pk: wait_for_execution(pk, timeout=60) for pk in [blocker.pk, *lows, urgent]}
        assert all(e.status == "succeeded" for e in executions.values())
        order = sorted(executions.values(), key=lambda e: e.started_at)
        assert [e.pk for e in order] == [blocker.pk, urgent, *lows]
        assert _most_at_once(list(executions.values())) == 1
    finally:
        for worker in started:
            worker.stop()


def test_the_broker_serves_high_priority_node_messages_before_low_ones(only_our_workers, alice):
    """Without limits: one worker process, one task at a time; a high run sent after five low ones runs first."""
    worker = WorkerProcess(concurrency=1, env={"CELERY_WORKER_PREFETCH_MULTIPLIER": "1"}).start()
    try:
        low = _workflow(alice, 0.05, priority="low")
        high = _workflow(alice, 0.05, priority="high")
        blocker = run_workflow(_workflow(alice, 3.0), dispatcher=dispatcher)
        wait_for_execution(blocker.pk, timeout=30, statuses={"running"})  # it holds the worker's one slot
        lows = [run_workflow(low, dispatcher=dispatcher).pk for _ in range(5)]
        urgent = run_workflow(high, dispatcher=dispatcher).pk
        assert Execution.objects.get(pk=blocker.pk).status == "running"  # all sent while it ran
        executions = {pk: wait_for_execution(pk, timeout=60) for pk in [blocker.pk, *lows, urgent]}
        started = sorted(executions.values(), key=lambda e: e.started_at)
        assert started[1].pk == urgent, [(e.pk == urgent, e.priority) for e in started]
    finally:
        worker.stop()


def test_a_cancelled_held_run_leaves_the_queue_and_the_api_says_why_runs_wait(db, alice, alice_client):
    workflow = _workflow(alice, 0.1, max_concurrent=1, priority="low")
    inline = InlineDispatcher()  # nothing drains it: the first run stays queued, holding the one slot
    first = run_workflow(workflow, dispatcher=inline)
    second = run_workflow(workflow, dispatcher=inline)
    body = alice_client.get(f"/api/v1/executions/{second.pk}/").json()
    assert body["status"] == "queued" and body["held"] == "workflow" and body["priority"] == "low"
    listed = alice_client.get(f"/api/v1/executions/?workflow={workflow.pk}").json()["results"]
    assert {row["held"] for row in listed} == {None, "workflow"}
    assert alice_client.get(f"/api/v1/executions/{first.pk}/").json()["held"] is None
    assert second.node_runs.get(node_id="start").status == "pending"
    assert alice_client.post(f"/api/v1/executions/{second.pk}/cancel/").status_code == 202
    second.refresh_from_db()
    assert second.status == "cancelled" and second.held == ""


def test_the_settings_map_to_priorities():
    assert limits.priority_of({"priority": "high"}) == 0
    assert limits.priority_of({}) == 1
    assert limits.BROKER_PRIORITY[limits.priority_of({"priority": "low"})] == 6
    assert limits.workflow_limit({"max_concurrent": 3}) == 3
    assert limits.workflow_limit({"max_concurrent": True}) is None


def test_recovery_sends_a_run_again_with_its_execution_priority(db, alice):
    """A message lost with Redis goes out again at its run's priority, not at normal."""
    from executions.recovery import requeue_orphans

    class Capture(InlineDispatcher):
        def dispatch(self, execution_id, starts):
            sent.extend(starts)

    sent = []
    execution = run_workflow(_workflow(alice, 0.1, priority="low"), dispatcher=Capture())
    sent.clear()
    assert requeue_orphans(Capture()) == 1
    assert [(start.node_id, start.priority) for start in sent] == [("start", 2)]
    assert execution.priority == 2
