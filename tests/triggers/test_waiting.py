"""A sync-mode webhook is woken by its execution's live events (triggers.waiting), on a real worker.

The safety read is pushed to 30 s in these tests: an answer that comes within seconds was
woken by the execution's events, not found by a read."""

import asyncio
import json
import threading
import time

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.db import connections
from django.test import Client

from executions.models import Execution
from executions.starting import start_execution
from executions.tasks import dispatcher
from tests.triggers.support import published_hook, webhook_doc
from triggers import waiting

JSON = "application/json"


@pytest.fixture
def reads(monkeypatch):
    """How many times the execution's row was read while waiting; the safety read pushed to 30 s."""
    monkeypatch.setattr(waiting, "SAFETY_READ_S", 30.0)
    count = {"reads": 0}
    real = waiting.final_row

    async def counted(execution_id):
        count["reads"] += 1
        return await real(execution_id)

    monkeypatch.setattr(waiting, "final_row", counted)
    return count


def slow_doc(seconds, **params):
    doc = webhook_doc(result={"n": "{{ input.body.n }}"}, extra_nodes=[
        {"id": "nap", "type": "test.sleep", "params": {"seconds": seconds}}], **params)
    doc["edges"] = [{"from": "hook", "to": "nap"}, {"from": "nap", "to": "done"}]
    return doc


def test_a_sync_webhook_is_answered_when_its_execution_ends_with_a_read_or_two(celery_worker, alice_client, reads):
    _, path, _ = published_hook(alice_client, slow_doc(1.0, response="sync", timeout_s=25))
    started = time.monotonic()
    answer = Client().post(path, json.dumps({"n": 7}), content_type=JSON)
    elapsed = time.monotonic() - started
    assert answer.status_code == 200 and answer.json() == {"n": 7}, answer.content
    assert elapsed < 15, f"answered after {elapsed:.1f} s: not woken by the execution's end"
    # One read before waiting, one per execution-level event (queued → running, then the end);
    # polling every 5–50 ms for a second made twenty or more.
    assert reads["reads"] <= 4, reads


def test_a_waiter_that_times_out_does_not_take_the_wake_of_another(celery_worker, alice, reads):
    """Two requests wait in one event loop; the first gives up at its timeout while the second's
    execution is still running: the second is still woken by its own end."""
    long_doc, short_doc = slow_doc(4.0), slow_doc(1.5)

    async def both():
        try:
            return await asyncio.gather(waiting.wait_for_execution(str(long_run.pk), 0.5),
                                        waiting.wait_for_execution(str(short_run.pk), 25))
        finally:
            await sync_to_async(connections.close_all)()  # the reads' thread's connection

    long_run = start_execution(long_doc, dispatcher=dispatcher, owner=alice, input_data={"body": {"n": 1}},
                               trigger="webhook")
    short_run = start_execution(short_doc, dispatcher=dispatcher, owner=alice, input_data={"body": {"n": 2}},
                                trigger="webhook")
    started = time.monotonic()
    timed_out, finished = asyncio.run(both())
    elapsed = time.monotonic() - started
    assert timed_out is None
    assert finished is not None and finished[0] == "succeeded" and finished[1] == {"n": 2}
    assert elapsed < 15, f"woken after {elapsed:.1f} s"
    assert Execution.objects.get(pk=short_run.pk).status == "succeeded"


def test_a_receive_pending_in_another_event_loop_does_not_keep_a_waiter_from_its_wake(celery_worker, alice, reads):
    """The process's Redis layer serves one event loop's receive() at a time and refuses another's
    while one is pending, as when a consumer receives in another thread's loop, or a receive was
    left behind in a loop that closed: the waiter is still woken by its execution's end."""
    layer = get_channel_layer()
    other = asyncio.new_event_loop()
    thread = threading.Thread(target=other.run_forever, daemon=True)
    thread.start()
    channel = asyncio.run_coroutine_threadsafe(layer.new_channel(), other).result(10)
    pending = asyncio.run_coroutine_threadsafe(layer.receive(channel), other)
    try:
        deadline = time.monotonic() + 10
        while layer.receive_count == 0:  # the other loop's receive() is in
            assert time.monotonic() < deadline
            time.sleep(0.01)
        run = start_execution(slow_doc(1.0), dispatcher=dispatcher, owner=alice, input_data={"body": {"n": 3}},
                              trigger="webhook")
        started = time.monotonic()
        finished = asyncio.run(_closing(waiting.wait_for_execution(str(run.pk), 25)))
        elapsed = time.monotonic() - started
    finally:
        pending.cancel()
        deadline = time.monotonic() + 10
        while layer.receive_count and time.monotonic() < deadline:  # out, or it would refuse every later receive
            time.sleep(0.01)
        other.call_soon_threadsafe(other.stop)
        thread.join(10)
        other.close()
    assert layer.receive_count == 0
    assert finished is not None and finished[:2] == ("succeeded", {"n": 3}), finished
    assert elapsed < 15, f"woken after {elapsed:.1f} s: the other loop's receive kept the wake away"


async def _closing(waited):
    try:
        return await waited
    finally:
        await sync_to_async(connections.close_all)()  # the reads' thread's connection


@pytest.mark.parametrize("call", ["group_add", "group_discard"])
def test_a_group_call_redis_never_answers_gives_up_and_the_wait_still_answers(transactional_db, alice, monkeypatch,
                                                                             call):
    """A Redis connection that stopped answering: joining the execution's group gives up after GROUP_CALL_S and
    the wait reads the row instead; leaving the group gives up too. Without the bound the request waited for
    ever, past its timeout_s."""
    from executions.executing import start_here

    monkeypatch.setattr(waiting, "GROUP_CALL_S", 0.2)
    doc = webhook_doc(result={"n": "{{ input.body.n }}"})
    run = start_here(lambda here: start_execution(doc, dispatcher=dispatcher, owner=alice, input_data={"body": {"n": 5}},
                                                  trigger="webhook", run_here=here), dispatcher)
    assert run.status == "succeeded"

    async def never(*args):
        await asyncio.Event().wait()

    async def wait():
        monkeypatch.setattr(waiting._listener().layer, call, never)
        return await asyncio.wait_for(waiting.wait_for_execution(str(run.pk), 20), 10)

    started = time.monotonic()
    row = asyncio.run(_closing(wait()))
    assert row is not None and row[:2] == ("succeeded", {"n": 5}), row
    assert time.monotonic() - started < 5
