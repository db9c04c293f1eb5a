"""Loops on worker processes of their own (a private broker prefix, as tests/chaos does): HTTP calls
of a loop overlap on the `http` queue's threads pool, and a worker SIGKILLed mid-loop loses no item
and runs no finished item again."""

import time
import uuid

import pytest

from executions.models import Execution, NodeRun
from tests.chaos.conftest import (  # noqa: F401 — fixtures
    ChaosWorker,
    counter,
    deployment,
    hostname_of,
    suite_worker_stopped,
    wait_until,
)
from tests.support.composition import foreach_doc

pytestmark = [pytest.mark.worker, pytest.mark.slow]


def loop_doc(*args, **params):
    # A name of its own, as tests/chaos documents have: compiled workflows are cached per process by content.
    return foreach_doc(*args, name=f"chaos {uuid.uuid4().hex[:8]}", **params)


def max_overlap(intervals):
    moments = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    most = current = 0
    for _, step in moments:
        current += step
        most = max(most, current)
    return most


def wait_finished(execution_id, timeout):
    deadline = time.monotonic() + timeout
    while True:
        execution = Execution.objects.get(pk=execution_id)
        if execution.status in ("succeeded", "failed", "cancelled", "timed_out"):
            return execution
        assert time.monotonic() < deadline, f"the loop is still {execution.status}: {Execution.objects.filter(parent=execution).values('status').distinct()}"
        time.sleep(0.1)


def test_http_calls_of_a_loop_overlap_on_the_threads_pool(deployment, counter):
    # As the Procfile runs them: the engine's queues on prefork processes, `http` on threads.
    engine_worker = ChaosWorker(concurrency=2, queues="default,sandbox", env=deployment.env)
    deployment.workers.append(engine_worker.start(timeout=60))
    http_worker = ChaosWorker(concurrency=20, queues="http", pool="threads", env=deployment.env)
    deployment.workers.append(http_worker.start(timeout=60))
    body = ([{"id": "call", "type": "http.request", "params": {"method": "POST", "url": counter.url("call"),
                                                                "body": {"item": "{{ input.item }}"}}},
             {"id": "end", "type": "flow.terminal", "params": {"result": "{{ input.item }}"}}],
            [{"from": "start", "to": "call"}, {"from": "call", "to": "end"}])
    counter.delay_s = 0.1
    [execution_id] = deployment.start(loop_doc(list(range(60)), *body, concurrency=20), 1)
    execution = wait_finished(execution_id, 120)
    assert execution.status == "succeeded", execution.error
    assert execution.result == list(range(60))
    calls = NodeRun.objects.filter(execution__parent_id=execution_id, node_id="call")
    # Every call ran on the threads pool, many at once: far more than a prefork worker's processes.
    assert set(calls.values_list("worker", flat=True)) == {hostname_of(http_worker)}
    assert max_overlap(list(calls.values_list("started_at", "finished_at"))) >= 6


def test_a_worker_killed_mid_loop_loses_no_item_and_reruns_no_finished_one(deployment):
    victim = deployment.worker(concurrency=2)
    deployment.worker(concurrency=2)
    body = ([{"id": "nap", "type": "test.sleep", "params": {"seconds": 0.3, "output": "{{ input.item }}"}},
             {"id": "end", "type": "flow.terminal", "params": {"result": "{{ nodes.nap.output.output }}"}}],
            [{"from": "start", "to": "nap"}, {"from": "nap", "to": "end"}])
    [execution_id] = deployment.start(loop_doc(list(range(40)), *body, concurrency=4), 1)
    wait_until(lambda: Execution.objects.filter(parent_id=execution_id, status="succeeded").count() >= 8, 60,
               "eight items done")
    victim.kill()
    killed_at = time.time()
    finished_before = dict(Execution.objects.filter(parent_id=execution_id, status="succeeded")
                           .values_list("id", "finished_at"))
    deployment.worker(concurrency=2)
    execution = wait_finished(execution_id, 150)
    assert execution.status == "succeeded", execution.error
    assert execution.result == list(range(40))
    children = Execution.objects.filter(parent_id=execution_id)
    assert children.count() == 40 and sorted(children.values_list("parent_index", flat=True)) == list(range(40))
    # An item finished before the kill was not run again: same row, same end, its nap ran once.
    for child_id, finished_at in finished_before.items():
        child = children.get(pk=child_id)
        assert child.finished_at == finished_at
        assert child.node_runs.get(node_id="nap").attempt == 1
    # Every item's nap completed exactly once; a second attempt only for one the kill interrupted.
    naps = NodeRun.objects.filter(execution__parent_id=execution_id, node_id="nap")
    assert naps.count() == 40 and set(naps.values_list("status", flat=True)) == {"completed"}
    for nap in naps.filter(attempt__gt=1):
        assert any((record.get("error") or {}).get("code") == "worker_lost" for record in nap.attempts)
    assert killed_at
