"""A loop's next iteration starts where the one before it ended (executions.children.child_ended).

It is taken and started before the parent's lock, which every iteration's end passes through one
at a time; in a worker that runs node runs itself it starts there, its start node and its first
call claimed in the ending transaction, without a trip through the broker
(executions.finishing._start_here). A pause or cancel of the parent that commits between that
start and the lock reaches the iteration started early. PostgreSQL: the early start is its path."""

import pytest
from django.db import connection

from executions import finishing, services, starting, store
from executions.inline import InlineDispatcher
from executions.models import Execution, NodeRun
from tests.support.composition import foreach_doc

pytestmark = pytest.mark.django_db

DOUBLE = ([{"id": "twice", "type": "data.set", "params": {"output": {"v": "{{ input.item * 2 }}"}}},
           {"id": "end", "type": "flow.terminal", "params": {"result": "{{ nodes.twice.output.v }}"}}],
          [{"from": "start", "to": "twice"}, {"from": "twice", "to": "end"}])


@pytest.fixture(autouse=True)
def postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("the early start is PostgreSQL's path (SKIP LOCKED)")


class RecordingDispatcher(InlineDispatcher):
    """The inline dispatcher, noting every node run sent to it (what would go through the broker)."""

    def __init__(self):
        super().__init__()
        self.sent = []

    def dispatch(self, execution_id, starts):
        self.sent += [(str(execution_id), start.node_id) for start in starts]
        super().dispatch(execution_id, starts)


def _children(execution):
    return {child.parent_index: child for child in Execution.objects.filter(parent=execution)}


def _calling_loop(httpserver, answers, concurrency):
    """(a loop over range(len(answers)) whose body GETs /item/<item> and results in the answer's n, and a
    recording dispatcher it started on)."""
    for index, n in enumerate(answers):
        httpserver.expect_request(f"/item/{index}").respond_with_json({"n": n})
    call = ([{"id": "call", "type": "http.request",
              "params": {"method": "GET", "url": httpserver.url_for("/item/") + "{{ input.item }}"}},
             {"id": "end", "type": "flow.terminal", "params": {"result": "{{ nodes.call.output.body.n }}"}}],
            [{"from": "start", "to": "call"}, {"from": "call", "to": "end"}])
    dispatcher = RecordingDispatcher()
    document = foreach_doc(list(range(len(answers))), *call, concurrency=concurrency)
    return starting.start_execution(document, dispatcher=dispatcher), dispatcher


def test_an_iteration_that_ends_starts_the_next_one_in_its_worker_without_the_broker(httpserver):
    execution, dispatcher = _calling_loop(httpserver, [0, 10, 20, 30, 40], concurrency=2)
    dispatcher.drain()

    execution.refresh_from_db()
    assert execution.status == "succeeded", execution.error
    assert execution.result == [0, 10, 20, 30, 40]
    children = _children(execution)
    sent = {execution_id for execution_id, _node in dispatcher.sent}
    # The loop's node starts the first two (its concurrency) through the dispatcher; every later
    # one was started by the end of an earlier one, its trigger and its call run in that worker.
    assert {str(children[0].pk), str(children[1].pk)} <= sent
    assert not {str(children[index].pk) for index in (2, 3, 4)} & sent
    for index in (2, 3, 4):
        runs = dict(NodeRun.objects.filter(execution=children[index]).values_list("node_id", "status"))
        assert runs == {"start": "completed", "call": "completed", "end": "completed"}
        assert children[index].status == "succeeded"
    assert len(httpserver.log) == 5  # each item called once


def test_an_iteration_whose_start_the_budget_cut_short_still_runs_in_its_worker(httpserver, monkeypatch):
    # The local-run budget runs out between the claim of the new iteration's start node and its run:
    # the claimed start node is handed to the worker to run after the commit, not left to the reaper
    # (its lease), and what follows it goes through the dispatcher.
    run_here = finishing._run_here

    def out_of_budget(transition, claimed, *args, **kwargs):
        return claimed if transition._creating else run_here(transition, claimed, *args, **kwargs)

    monkeypatch.setattr(finishing, "_run_here", out_of_budget)
    execution, dispatcher = _calling_loop(httpserver, [0, 1, 2, 3], concurrency=1)
    dispatcher.drain()

    execution.refresh_from_db()
    assert execution.status == "succeeded", execution.error
    assert execution.result == [0, 1, 2, 3]
    children = _children(execution)
    for index in (1, 2, 3):
        # Its start node ran here, after the commit; past the budget, its call went through the dispatcher.
        sent = [node_id for execution_id, node_id in dispatcher.sent if execution_id == str(children[index].pk)]
        assert sent == ["call"], (index, sent)
    assert not NodeRun.objects.filter(execution__parent=execution).exclude(status="completed").exists()


def _race_once(monkeypatch, status):
    """The next child is taken, and then, before the parent's lock, the parent becomes `status` (a
    pause or cancel committed by another transaction in between)."""
    taken = store.take_unstarted_children
    raced = []

    def racing(parent_id, node_id, count, while_parent_runs=False):
        rows = taken(parent_id, node_id, count, while_parent_runs)
        if while_parent_runs and rows and not raced:  # taken early, without the parent's lock
            raced.append(rows[0].parent_index)
            Execution.objects.filter(pk=parent_id).update(status=status)
        return rows

    monkeypatch.setattr(store, "take_unstarted_children", racing)
    return raced


def _loop_with_a_race(monkeypatch, status):
    """A loop over 3 items, one at a time, whose parent becomes `status` between the early start of
    item 1 and the parent's lock: (the dispatcher, the execution, its children by index)."""
    raced = _race_once(monkeypatch, status)
    dispatcher = InlineDispatcher()
    execution = starting.start_execution(foreach_doc([1, 2, 3], *DOUBLE, concurrency=1), dispatcher=dispatcher)
    dispatcher.drain()
    assert raced == [1]
    return dispatcher, execution, _children(execution)


def test_a_pause_landing_before_the_parents_lock_pauses_the_iteration_started_early(monkeypatch):
    dispatcher, execution, children = _loop_with_a_race(monkeypatch, "paused")
    assert {index: child.status for index, child in children.items()} == {
        0: "succeeded", 1: "paused", 2: "queued"}
    assert children[2].last_seq == 0  # never started: the pause held it back
    loop = NodeRun.objects.get(execution=execution, node_id="loop")
    assert loop.status == "waiting" and loop.wait["children"]["started"] == 2

    services.resume_execution(execution.pk, dispatcher=dispatcher)
    dispatcher.drain()
    execution.refresh_from_db()
    assert execution.status == "succeeded", execution.error
    assert execution.result == [2, 4, 6]


def test_a_cancel_landing_before_the_parents_lock_cancels_the_iteration_started_early(monkeypatch):
    _dispatcher, _execution, children = _loop_with_a_race(monkeypatch, "cancelled")
    assert children[0].status == "succeeded"
    assert children[1].status == "cancelled"
    assert children[1].error["message"] == "the node the child belongs to has ended"
    assert not NodeRun.objects.filter(execution=children[1], status__in=["queued", "running"]).exists()
    assert children[2].last_seq == 0  # nothing else was started
