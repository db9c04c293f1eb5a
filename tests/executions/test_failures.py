"""Failure semantics and durability (ENGINE.md Errors, retries, timeouts; Durability) on real workers."""

import time

import pytest
import redis
from django.conf import settings

from executions import services, starting
from executions.inline import run_inline
from executions.models import Execution
from executions.tasks import dispatcher
from tests.conftest import WorkerProcess, wait_for_execution
from workflows.services import with_node_versions


def document(nodes, edges, **settings_):
    doc = {"api_version": "nodeflow/v1", "name": "t", "nodes": [{"id": "start", "type": "trigger.manual"}] + nodes,
           "edges": edges}
    if settings_:
        doc["settings"] = settings_
    return with_node_versions(doc)


def chain(*nodes, **settings_):
    ids = ["start"] + [n["id"] for n in nodes]
    return document(list(nodes), [{"from": a, "to": b} for a, b in zip(ids, ids[1:])], **settings_)


def start(doc, **kwargs):
    return starting.start_execution(doc, dispatcher=dispatcher, **kwargs)


def test_a_node_that_fails_twice_completes_on_attempt_three_with_backoff(celery_worker):
    policy = {"max_attempts": 3, "backoff_s": 0.3, "max_backoff_s": 0.5, "jitter": True}
    doc = chain({"id": "flaky", "type": "test.flaky", "params": {"failures": 2}, "retry": policy})
    execution = wait_for_execution(start(doc).pk)
    assert execution.status == "succeeded"
    run = execution.node_runs.get(node_id="flaky")
    assert run.status == "completed" and run.attempt == 3 and run.output == {"attempt": 3}
    attempts = run.attempts
    assert [bool(a["error"]) for a in attempts] == [True, True, False]
    assert all(a["error"]["class"] == "transient" for a in attempts[:2])
    ceilings = [0.3, 0.5]  # 0.3 * 2**0, then min(0.5, 0.3 * 2**1)
    for attempt, following, ceiling in zip(attempts, attempts[1:], ceilings):
        assert 0 <= attempt["retry_in_s"] <= ceiling
        waited = _ts(following["started_at"]) - _ts(attempt["finished_at"])
        assert waited >= attempt["retry_in_s"] - 0.05, (waited, attempt)
    states = list(execution.events.filter(node_id="flaky", type="NODE_STATE_CHANGED").values_list("data__status", flat=True))
    assert states.count("retrying") == 2


def _ts(iso):
    from datetime import datetime

    return datetime.fromisoformat(iso).timestamp()


@pytest.mark.django_db
def test_permanent_errors_are_not_retried_by_default():
    doc = chain({"id": "boom", "type": "flow.fail", "params": {"message": "bad input"},
                 "retry": {"max_attempts": 5, "backoff_s": 0}})
    execution = run_inline(doc)
    assert execution.status == "failed"
    run = execution.node_runs.get(node_id="boom")
    assert run.attempt == 1 and run.error["class"] == "permanent" and run.error["message"] == "bad input"


@pytest.mark.django_db
def test_on_error_continue_passes_the_error_object_downstream():
    doc = chain({"id": "boom", "type": "flow.fail", "params": {"message": "nope"}, "on_error": "continue"},
                {"id": "done", "type": "flow.terminal", "params": {"result": "{{ nodes.boom.output.error.message }}"}})
    execution = run_inline(doc)
    assert execution.status == "succeeded" and execution.result == "nope"


@pytest.mark.slow
def test_a_worker_killed_mid_node_does_not_lose_the_execution(transactional_db, _session_worker):
    _session_worker.stop()  # only the worker this test kills may take the node (restarted on demand later)
    env = {"NODEFLOW_NODE_LEASE_S": "2", "NODEFLOW_REAPER_INTERVAL_S": "1"}
    doc = chain({"id": "before", "type": "flow.noop"},
                {"id": "slow", "type": "test.sleep", "params": {"seconds": 3}},
                {"id": "done", "type": "flow.terminal", "params": {"result": "{{ nodes.slow.output.output }}"}})
    worker = WorkerProcess(env=env).start()
    try:
        for round_ in range(10):
            execution = start(doc)
            deadline = time.monotonic() + 20
            while execution.node_runs.get(node_id="slow").status != "running":
                assert time.monotonic() < deadline, "the slow node never started"
                time.sleep(0.05)
            worker.kill()
            worker = WorkerProcess(env=env).start()  # the replacement, and next round's victim
            execution = wait_for_execution(execution.pk, timeout=40)
            _assert_completed_once(execution, round_)
    finally:
        worker.stop()


def _assert_completed_once(execution, round_):
    assert execution.status == "succeeded", (round_, execution.error)
    completions = execution.events.filter(type="NODE_STATE_CHANGED", data__status="completed")
    per_node = {}
    for node_id in completions.values_list("node_id", flat=True):
        per_node[node_id] = per_node.get(node_id, 0) + 1
    assert per_node == {"start": 1, "before": 1, "slow": 1, "done": 1}
    slow = execution.node_runs.get(node_id="slow")
    assert slow.attempts[0]["error"]["code"] == "worker_lost"


def _queue_length(name):
    client = redis.Redis.from_url(settings.REDIS_URL)
    prefix = settings.CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"]
    # One list per priority step (executions.limits.BROKER_PRIORITY).
    return sum(client.llen(f"{prefix}{name}{step}") for step in ("", "\x06\x163", "\x06\x166", "\x06\x169"))


def test_cancel_during_a_four_way_fan_out_leaves_nothing_running_or_queued(celery_worker, alice_client, alice):
    branches = [{"id": f"b{i}", "type": "test.sleep", "params": {"seconds": 5}} for i in range(4)]
    edges = [{"from": "start", "to": f"b{i}"} for i in range(4)] + [{"from": f"b{i}", "to": "join"} for i in range(4)]
    doc = document(branches + [{"id": "join", "type": "flow.merge"}], edges)
    execution = start(doc, owner=alice)
    deadline = time.monotonic() + 20
    while execution.node_runs.filter(status="running").count() < 2:  # a 2-process worker runs two at once
        assert time.monotonic() < deadline
        time.sleep(0.05)
    response = alice_client.post(f"/api/v1/executions/{execution.pk}/cancel/")
    assert response.status_code == 202 and response.json()["status"] == "cancelled"
    cancelled = {"start": "completed", "b0": "cancelled", "b1": "cancelled", "b2": "cancelled", "b3": "cancelled",
                 "join": "cancelled"}
    deadline = time.monotonic() + 20
    while (statuses := dict(execution.node_runs.values_list("node_id", "status"))) != cancelled \
            or _queue_length("default"):
        assert time.monotonic() < deadline, (statuses, _queue_length("default"))
        time.sleep(0.05)
    assert Execution.objects.get(pk=execution.pk).status == "cancelled"
    # The two sleeping nodes were stopped: nothing of this execution completes, watched until
    # after their 5 s would have ended.
    would_end = max(run.started_at.timestamp() for run in execution.node_runs.exclude(node_id="start")
                    if run.started_at) + 5.5
    while time.time() < would_end:
        assert not execution.node_runs.filter(status="completed").exclude(node_id="start").exists()
        time.sleep(0.1)
    assert not execution.node_runs.filter(status="completed").exclude(node_id="start").exists()
    again = alice_client.post(f"/api/v1/executions/{execution.pk}/cancel/")
    assert again.status_code == 409 and again.json()["error"]["code"] == "not_allowed"


def test_pause_then_resume_finishes_with_the_same_result(celery_worker, alice_client, alice):
    doc = chain(*[{"id": f"s{i}", "type": "test.sleep", "params": {"seconds": 0.4, "output": i}} for i in range(3)],
                {"id": "done", "type": "flow.terminal", "params": {"result": "{{ [nodes.s0.output.output, nodes.s2.output.output] }}"}})
    execution = start(doc, owner=alice)
    deadline = time.monotonic() + 20
    while execution.node_runs.get(node_id="s0").status != "running":
        assert time.monotonic() < deadline, "s0 never started"
        time.sleep(0.02)
    assert alice_client.post(f"/api/v1/executions/{execution.pk}/pause/").status_code == 202
    # The running node finishes; the execution is paused once it has.
    while (paused := Execution.objects.get(pk=execution.pk)).status != "paused" \
            or paused.node_runs.get(node_id="s0").status != "completed":
        assert time.monotonic() < deadline, (paused.status, dict(paused.node_runs.values_list("node_id", "status")))
        time.sleep(0.02)
    # Nothing after it starts: watched for twice the 0.4 s a node takes.
    watch_until = paused.node_runs.get(node_id="s0").finished_at.timestamp() + 0.8
    while True:
        statuses = dict(paused.node_runs.values_list("node_id", "status"))
        assert statuses["s0"] == "completed" and statuses["s1"] == "queued" and statuses["s2"] == "pending", statuses
        if time.time() > watch_until:
            break
        time.sleep(0.05)
    assert Execution.objects.get(pk=execution.pk).status == "paused"
    assert alice_client.post(f"/api/v1/executions/{execution.pk}/resume/").status_code == 202
    resumed = wait_for_execution(execution.pk)
    uninterrupted = wait_for_execution(start(doc, owner=alice).pk)
    assert resumed.status == uninterrupted.status == "succeeded"
    assert resumed.result == uninterrupted.result == [0, 2]


def test_a_node_over_its_timeout_fails_as_timeout(celery_worker):
    doc = chain({"id": "slow", "type": "test.sleep", "params": {"seconds": 10}, "timeout_s": 1})
    execution = wait_for_execution(start(doc).pk, timeout=20)
    assert execution.status == "failed"
    run = execution.node_runs.get(node_id="slow")
    assert run.error["class"] == "timeout" and "timeout of 1 s" in run.error["message"]
    assert (run.finished_at - run.started_at).total_seconds() < 10  # interrupted, not at the sleep's own end


def test_an_execution_over_its_timeout_ends_timed_out_and_cancels_what_is_left(celery_worker):
    doc = chain({"id": "slow", "type": "test.sleep", "params": {"seconds": 4}}, {"id": "after", "type": "flow.noop"},
                timeout_s=1)
    execution = wait_for_execution(start(doc).pk, timeout=20)
    assert execution.status == "timed_out"
    assert "timeout of 1 s" in execution.error["message"]
    assert dict(execution.node_runs.values_list("node_id", "status")) == {
        "start": "completed", "slow": "cancelled", "after": "cancelled"}


@pytest.mark.django_db
def test_retrying_a_failed_execution_reruns_only_its_failed_nodes():
    doc = chain({"id": "first", "type": "data.set", "params": {"vars": {"x": 1}}},
                {"id": "flaky", "type": "test.flaky", "params": {"failures": 1}},
                {"id": "done", "type": "flow.terminal", "params": {"result": "{{ vars.x }}"}})
    execution = run_inline(doc)
    assert execution.status == "failed"
    assert dict(execution.node_runs.values_list("node_id", "status"))["done"] == "cancelled"
    from executions.inline import InlineDispatcher

    inline = InlineDispatcher()
    services.retry_execution(str(execution.pk), dispatcher=inline)
    inline.drain()
    execution.refresh_from_db()
    assert execution.status == "succeeded" and execution.result == 1
    attempts = dict(execution.node_runs.values_list("node_id", "attempt"))
    assert attempts == {"start": 1, "first": 1, "flaky": 2, "done": 1}
    assert execution.events.filter(type="EXECUTION_STATE_CHANGED", data__retry=1).exists()
    with pytest.raises(services.NotAllowed):
        services.retry_execution(str(execution.pk), dispatcher=inline)


@pytest.mark.django_db
def test_secrets_a_node_used_are_masked_in_everything_stored():
    from nodes.registry import register_node, registry

    @register_node("test.leaky", category="test", target_registry=registry)
    def leaky(call):
        call.secrets.add("s3cr3t-value")
        call.log("token is s3cr3t-value")
        return {"echo": "got s3cr3t-value back", "s3cr3t-value": True}

    try:
        execution = run_inline(chain({"id": "leak", "type": "test.leaky"},
                                     {"id": "done", "type": "flow.terminal", "params": {"result": "{{ nodes.leak.output }}"}}))
    finally:
        registry._types.pop(("test.leaky", 1), None)
    run = execution.node_runs.get(node_id="leak")
    stored = repr([run.output, run.logs, list(execution.events.values_list("data", flat=True)), execution.result])
    assert "s3cr3t-value" not in stored
    assert run.output == {"echo": "got •••••• back", "••••••": True}


@pytest.mark.django_db
def test_input_schema_describes_a_manual_input_and_a_webhook_body_but_not_schedule_input():
    from executions.starting import InvalidInput

    doc = chain({"id": "done", "type": "flow.terminal", "params": {"result": 1}})
    doc["input_schema"] = {"type": "object", "required": ["email"]}
    with pytest.raises(InvalidInput, match="email"):
        run_inline(doc, input_data={"name": "x"})
    assert run_inline(doc, input_data={"email": "a@b.c"}).status == "succeeded"
    webhook = {"body": {"email": "a@b.c"}, "headers": {}, "query": {}, "method": "POST"}
    assert run_inline(doc, input_data=webhook, trigger="webhook").status == "succeeded"
    with pytest.raises(InvalidInput):
        run_inline(doc, input_data={**webhook, "body": {}}, trigger="webhook")
    schedule = {"fired_at": "2026-11-21T00:00:00+00:00", "schedule": "every 1 minutes"}
    assert run_inline(doc, input_data=schedule, trigger="schedule").status == "succeeded"


@pytest.mark.slow
def test_a_thread_pool_worker_cannot_interrupt_a_node_so_the_reaper_times_it_out(transactional_db, _session_worker):
    _session_worker.stop()  # only the thread-pool worker may take the node
    worker = WorkerProcess(pool="threads", concurrency=2, env={"NODEFLOW_REAPER_INTERVAL_S": "1"}).start()
    try:
        doc = chain({"id": "slow", "type": "test.sleep", "params": {"seconds": 30}, "timeout_s": 1},
                    {"id": "after", "type": "flow.noop"})
        execution = wait_for_execution(start(doc).pk, timeout=25)
    finally:
        worker.kill()
    assert execution.status == "failed"
    run = execution.node_runs.get(node_id="slow")
    assert run.error["class"] == "timeout" and "timeout of 1 s" in run.error["message"]
    assert execution.node_runs.get(node_id="after").status == "cancelled"
