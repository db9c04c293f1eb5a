"""Composite nodes on real worker processes: loops with a concurrency limit, cancel, pause and
resume reaching the children, and a retry that runs only the failed children again."""

import re
import time

import pytest
from werkzeug.wrappers import Response

from executions import services, starting
from executions.models import Execution, NodeRun
from executions.tasks import dispatcher
from tests.conftest import wait_for_execution
from tests.support.composition import document, foreach_doc

OPEN = ("queued", "running", "waiting", "paused")


def sleeping_body(seconds):
    return ([{"id": "nap", "type": "test.sleep", "params": {"seconds": seconds}},
             {"id": "end", "type": "flow.terminal", "params": {"result": "{{ input.item }}"}}],
            [{"from": "start", "to": "nap"}, {"from": "nap", "to": "end"}])


def max_overlap(intervals):
    """The most intervals (start, end) open at one moment."""
    moments = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals],
                     key=lambda m: (m[0], m[1]))
    most = current = 0
    for _, step in moments:
        current += step
        most = max(most, current)
    return most


def test_foreach_of_100_runs_at_most_5_children_at_once_and_keeps_item_order(celery_worker):
    execution = starting.start_execution(foreach_doc(list(range(100)), *sleeping_body(0.02), concurrency=5),
                                         dispatcher=dispatcher)
    execution = wait_for_execution(execution.pk, timeout=120)
    assert execution.status == "succeeded", execution.error
    assert execution.result == list(range(100))
    children = Execution.objects.filter(parent=execution)
    assert children.count() == 100 and set(children.values_list("status", flat=True)) == {"succeeded"}
    intervals = list(children.values_list("started_at", "finished_at"))
    # From the first node claimed to the end, as recorded: never more than 5 at once, and more than one.
    assert 2 <= max_overlap(intervals) <= 5
    # The body's nodes are the children's: none of them is a node of the parent.
    assert set(execution.node_runs.values_list("node_id", flat=True)) == {"start", "loop", "done"}
    loop = execution.node_runs.get(node_id="loop")
    assert loop.wait["children"]["succeeded"] == 100 and loop.wait["children"]["started"] == 100


def test_cancelling_the_parent_mid_loop_leaves_no_child_running(celery_worker):
    execution = starting.start_execution(foreach_doc(list(range(40)), *sleeping_body(0.5), concurrency=3),
                                         dispatcher=dispatcher)
    deadline = time.monotonic() + 30
    while Execution.objects.filter(parent=execution, status="succeeded").count() < 2:
        assert time.monotonic() < deadline, "no child finished"
        time.sleep(0.05)
    services.cancel_execution(str(execution.pk), dispatcher=dispatcher)
    execution = wait_for_execution(execution.pk, timeout=10)
    assert execution.status == "cancelled"
    time.sleep(1.5)  # what ran when the cancel came has ended by now
    children = Execution.objects.filter(parent=execution)
    assert not children.filter(status__in=OPEN).exists()
    assert not NodeRun.objects.filter(execution__parent=execution, status__in=["queued", "running"]).exists()
    succeeded = children.filter(status="succeeded").count()
    assert 2 <= succeeded < 40 and children.filter(status="cancelled").count() == 40 - succeeded


def test_pause_holds_the_loop_and_resume_finishes_it(celery_worker):
    execution = starting.start_execution(foreach_doc(list(range(12)), *sleeping_body(0.2), concurrency=2),
                                         dispatcher=dispatcher)
    wait_for_execution(execution.pk, timeout=20, statuses=("waiting",))
    services.pause_execution(str(execution.pk), dispatcher=dispatcher)
    time.sleep(1.5)
    held = Execution.objects.filter(parent=execution, last_seq=0).count()
    assert held >= 8  # nothing new started while paused
    assert not NodeRun.objects.filter(execution__parent=execution, status="running").exists()
    services.resume_execution(str(execution.pk), dispatcher=dispatcher)
    execution = wait_for_execution(execution.pk, timeout=60)
    assert execution.status == "succeeded", execution.error
    assert execution.result == list(range(12))


def test_retry_of_the_parent_runs_only_the_failed_children_again(celery_worker, httpserver):
    calls = []

    def answer(request):
        item = int(request.path.rsplit("/", 1)[1])
        calls.append(item)
        failing = item == 3 and calls.count(3) == 1  # item 3 fails the first time only
        return Response('{"ok": %s}' % ("false" if failing else "true"), status=500 if failing else 200,
                        content_type="application/json")

    httpserver.expect_request(re.compile(r"/item/\d+"), method="GET").respond_with_handler(answer)
    body = ([{"id": "fetch", "type": "http.request",
              "params": {"method": "GET", "url": httpserver.url_for("/item/") + "{{ input.item }}"}},
             {"id": "end", "type": "flow.terminal", "params": {"result": "{{ input.item }}"}}],
            [{"from": "start", "to": "fetch"}, {"from": "fetch", "to": "end"}])
    execution = starting.start_execution(foreach_doc(list(range(6)), *body, concurrency=2), dispatcher=dispatcher)
    execution = wait_for_execution(execution.pk, timeout=30)
    assert execution.status == "failed" and "item 3 failed" in execution.error["message"]
    time.sleep(1)  # the cancelled ones have ended
    before = dict(Execution.objects.filter(parent=execution, status="succeeded")
                  .values_list("parent_index", "id"))
    assert set(before) >= {0, 1, 2} and 3 not in before
    services.retry_execution(str(execution.pk), dispatcher=dispatcher)
    execution = wait_for_execution(execution.pk, timeout=30)
    assert execution.status == "succeeded", execution.error
    assert execution.result == list(range(6))
    after = dict(Execution.objects.filter(parent=execution).values_list("parent_index", "id"))
    assert len(after) == 6
    for index, child_id in before.items():  # kept as they were, not run again
        assert after[index] == child_id and calls.count(index) == 1
    assert calls.count(3) == 2
