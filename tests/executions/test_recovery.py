"""Recovery from the database (executions/recovery.py): a message the broker refused or forgot delays
work, never loses it. The broker here is a dispatcher that refuses or drops what it is given; the
same faults on real Redis and worker processes are in tests/chaos/."""

from datetime import timedelta

import pytest
from django.utils import timezone

from executions import starting
from executions.inline import InlineDispatcher
from executions.models import Execution
from executions.recovery import recover
from executions.services import pause_execution
from tests.executions.test_local_runs import chain

pytestmark = pytest.mark.django_db


class Unreachable(InlineDispatcher):
    """A broker that refuses every message, as Redis does while it is down."""

    def dispatch(self, execution_id, starts):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    def dispatch_later(self, execution_id, node_id, eta, reason, start=None):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


class Forgetful(InlineDispatcher):
    """A broker that takes node runs but forgets timers (Redis restarted without persistence)."""

    def dispatch_later(self, execution_id, node_id, eta, reason, start=None):
        pass


def due_now(execution, node_id):
    return execution.node_runs.get(node_id=node_id).due_at


def test_a_refused_send_is_neither_raised_nor_lost_and_recovery_sends_it_once_due(caplog):
    execution = starting.start_execution(chain({"id": "a", "type": "flow.noop"}), dispatcher=Unreachable())
    run = execution.node_runs.get(node_id="start")
    assert run.status == "queued" and run.due_at == run.queued_at + timedelta(seconds=30)
    assert "recovery sends it when it is due" in caplog.text

    working = InlineDispatcher()
    assert recover(working, now=run.due_at - timedelta(seconds=1)) == 0  # not due yet: nothing sent
    assert recover(working, now=run.due_at + timedelta(seconds=1)) == 1
    working.drain()
    assert Execution.objects.get(pk=execution.pk).status == "succeeded"


def test_a_run_is_taken_by_one_recovery_and_sent_again_later_the_older_it_is():
    execution = starting.start_execution(chain({"id": "a", "type": "flow.noop"}), dispatcher=Unreachable())
    queued_at = execution.node_runs.get(node_id="start").queued_at
    later = queued_at + timedelta(seconds=100)
    sent = InlineDispatcher()
    assert recover(sent, now=later) == 1
    assert recover(sent, now=later) == 0  # a second reaper in the same round finds it taken
    assert due_now(execution, "start") == later + timedelta(seconds=100)  # pushed back by its age
    assert len(sent.ready) == 1


def test_a_timer_whose_message_was_forgotten_fires_once_past_due():
    doc = chain({"id": "wait", "type": "flow.wait", "params": {"seconds": 60}},
                {"id": "done", "type": "flow.terminal", "params": {"result": "{{ nodes.wait.output }}"}})
    dispatcher = Forgetful()
    execution = starting.start_execution(doc, dispatcher=dispatcher)
    dispatcher.drain()
    run = execution.node_runs.get(node_id="wait")
    until = timezone.datetime.fromisoformat(run.wait["until"])
    assert run.status == "waiting" and run.due_at == until + timedelta(seconds=5)
    assert recover(dispatcher, now=until) == 0  # the timer's own message still has its chance
    assert recover(dispatcher, now=run.due_at + timedelta(seconds=1)) == 1
    dispatcher.drain()
    execution.refresh_from_db()
    assert execution.status == "succeeded" and execution.result == {"waited_until": run.wait["until"]}


def test_a_retry_whose_message_was_forgotten_runs_once_past_due():
    doc = chain({"id": "flaky", "type": "test.flaky", "params": {"failures": 1},
                 "retry": {"max_attempts": 2, "backoff_s": 30, "jitter": False}})
    dispatcher = Forgetful()
    execution = starting.start_execution(doc, dispatcher=dispatcher)
    dispatcher.drain()
    run = execution.node_runs.get(node_id="flaky")
    assert run.status == "retrying" and run.due_at is not None
    assert recover(dispatcher, now=run.due_at + timedelta(seconds=1)) == 1
    dispatcher.drain()
    execution.refresh_from_db()
    assert execution.status == "succeeded" and execution.node_runs.get(node_id="flaky").attempt == 2


def test_a_paused_execution_is_left_alone_until_it_resumes():
    execution = starting.start_execution(chain({"id": "a", "type": "flow.noop"}), dispatcher=Unreachable())
    pause_execution(str(execution.pk), dispatcher=InlineDispatcher())
    assert recover(InlineDispatcher(), now=timezone.now() + timedelta(hours=1)) == 0


def test_runs_that_are_not_waiting_for_anything_are_not_due():
    dispatcher = InlineDispatcher()
    execution = starting.start_execution(chain({"id": "a", "type": "flow.noop"}), dispatcher=dispatcher)
    dispatcher.drain()
    assert set(Execution.objects.get(pk=execution.pk).node_runs.values_list("due_at", flat=True)) == {None}


def test_just_after_a_database_outage_expired_leases_are_left_to_the_renewals_that_resume():
    from executions.finishing import claim_and_run
    from executions.reaper import reap

    dispatcher = InlineDispatcher()
    execution = starting.start_execution(chain({"id": "a", "type": "flow.noop"}), dispatcher=dispatcher)
    claimed, later = claim_and_run(str(execution.pk), ["start"], dispatcher=dispatcher, worker="w1")
    assert claimed and [prepared.node_id for prepared in later] == ["start"]  # claimed, not run: no executor
    execution.node_runs.filter(node_id="start").update(lease_expires_at=timezone.now() - timedelta(seconds=60))
    reap(dispatcher=dispatcher, reap_lost=False)  # what a worker's reaper does for a lease after an outage
    assert execution.node_runs.get(node_id="start").status == "running"
    reap(dispatcher=dispatcher)  # later: the lease was not renewed, so its worker is gone
    run = execution.node_runs.get(node_id="start")
    assert run.status == "queued" and run.attempts[-1]["error"]["code"] == "worker_lost"


def test_a_send_that_fails_ends_the_round_and_the_run_is_due_again_at_the_next_one():
    runs = [starting.start_execution(chain({"id": "a", "type": "flow.noop"}), dispatcher=Unreachable())
            for _ in range(3)]
    later = max(r.node_runs.get(node_id="start").due_at for r in runs) + timedelta(seconds=1)
    assert recover(Unreachable(), now=later) == 0  # the broker is still down: one try, then the round ends
    assert all(r.node_runs.get(node_id="start").due_at < later for r in runs)  # all still due
    assert recover(InlineDispatcher(), now=later) == 3  # it is back: every one is sent at once
