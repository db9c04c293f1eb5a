"""Instant nodes (flow, data, logic, triggers) run in the worker that made them ready, with no
trip through the broker; every other node type, and any node with a time limit, is sent."""

import uuid

import pytest

from executions import executing, starting
from executions.inline import InlineDispatcher
from executions.models import Execution
from tests.executions.test_parallel import document, fan_out

pytestmark = pytest.mark.django_db


class RecordingDispatcher(InlineDispatcher):
    """The inline dispatcher, recording which node runs were sent (as a broker would get them)."""

    def __init__(self):
        super().__init__()
        self.sent = []

    def dispatch(self, execution_id, starts):
        self.sent.extend(start.node_id for start in starts)
        super().dispatch(execution_id, starts)


def run(doc):
    dispatcher = RecordingDispatcher()
    execution = starting.start_execution(doc, dispatcher=dispatcher)
    dispatcher.drain()
    return Execution.objects.get(pk=execution.pk), dispatcher.sent


def chain(*nodes):
    nodes = [{"id": "start", "type": "trigger.manual"}, *nodes]
    # A name of its own: compiled workflows are cached per process by their content.
    return document(nodes, [{"from": a["id"], "to": b["id"]} for a, b in zip(nodes, nodes[1:])]) | {"name": uuid.uuid4().hex}


def states(execution, node_id):
    events = execution.events.filter(type="NODE_STATE_CHANGED", node_id=node_id).order_by("seq")
    return [event.data["status"] for event in events]


def test_a_chain_of_instant_nodes_is_sent_once_and_keeps_every_state_and_event():
    doc = chain(*[{"id": f"n{i}", "type": "flow.noop"} for i in range(8)],
                {"id": "set", "type": "data.set", "params": {"vars": {"x": "{{ input.x * 2 }}"}}},
                {"id": "done", "type": "flow.terminal", "params": {"result": "{{ vars.x }}"}})
    dispatcher = RecordingDispatcher()
    execution = starting.start_execution(doc, dispatcher=dispatcher, input_data={"x": 21})
    dispatcher.drain()
    execution = Execution.objects.get(pk=execution.pk)

    assert execution.status == "succeeded" and execution.result == 42
    assert dispatcher.sent == ["start"]
    runs = {run.node_id: run for run in execution.node_runs.all()}
    for node_id in ["n0", "n5", "set", "done"]:
        assert states(execution, node_id) == ["queued", "running", "completed"]
        assert runs[node_id].attempt == 1 and runs[node_id].lease_expires_at is None
    # Each node starts after its predecessor finished, and the event log has no gaps.
    assert runs["n1"].start_seq > runs["n0"].finish_seq
    assert runs["n1"].started_at >= runs["n0"].finished_at
    seqs = list(execution.events.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, execution.last_seq + 1))


def test_nodes_that_are_not_instant_go_through_the_broker_and_what_follows_runs_in_their_worker():
    doc = chain({"id": "a", "type": "flow.noop"},
                {"id": "slow", "type": "test.sleep", "params": {"seconds": 0}},
                {"id": "b", "type": "flow.noop"},
                {"id": "done", "type": "flow.terminal"})
    execution, sent = run(doc)
    assert execution.status == "succeeded"
    assert sent == ["start", "slow"]


def test_an_instant_node_with_a_time_limit_gets_a_task_of_its_own():
    doc = chain({"id": "a", "type": "flow.noop"}, {"id": "limited", "type": "flow.noop", "timeout_s": 5},
                {"id": "done", "type": "flow.terminal"})
    execution, sent = run(doc)
    assert execution.status == "succeeded"
    assert sent == ["start", "limited"]


def test_a_type_an_operator_routed_to_a_queue_goes_to_that_queue(settings):
    settings.NODEFLOW = {**settings.NODEFLOW, "QUEUE_ROUTES": {"flow.noop": "flow"}}
    doc = chain({"id": "a", "type": "flow.noop"}, {"id": "done", "type": "flow.terminal"})
    execution, sent = run(doc)
    assert execution.status == "succeeded"
    assert sent == ["start", "a"]


def test_past_the_time_budget_the_rest_goes_through_the_broker(settings):
    settings.NODEFLOW = {**settings.NODEFLOW, "LOCAL_RUN_BUDGET_S": 0}
    doc = chain({"id": "a", "type": "flow.noop"}, {"id": "b", "type": "flow.noop"}, {"id": "done", "type": "flow.terminal"})
    execution, sent = run(doc)
    assert execution.status == "succeeded"
    assert sent == ["start", "a", "b", "done"]


def test_instant_branches_of_a_fan_out_are_claimed_together_and_the_join_fires_once():
    doc = fan_out(5) | {"name": uuid.uuid4().hex}
    execution, sent = run(doc)
    assert execution.status == "succeeded"
    assert sent == ["start"]
    assert sorted(execution.result) == [f"b{i}" for i in range(5)]
    assert states(execution, "join") == ["queued", "running", "completed"]
    # The five branches were marked running in one transaction, before any of them completed.
    running = [execution.node_runs.get(node_id=f"b{i}").start_seq for i in range(5)]
    first_done = min(execution.node_runs.filter(node_id__startswith="b").values_list("finish_seq", flat=True))
    assert max(running) < first_done


def test_a_first_mode_merge_in_one_batch_continues_with_the_first_branch_and_cancels_the_rest():
    doc = fan_out(4, join_params={"mode": "first"}) | {"name": uuid.uuid4().hex}
    execution, sent = run(doc)
    assert execution.status == "succeeded"
    branches = {run.node_id: run.status for run in execution.node_runs.filter(node_id__startswith="b")}
    assert sorted(branches.values()) == ["cancelled", "cancelled", "cancelled", "completed"]
    winner = next(node_id for node_id, status in branches.items() if status == "completed")
    assert list(execution.result) == [winner]
    assert sent == ["start"]


def test_a_failing_instant_node_in_a_batch_fails_the_execution_and_cancels_its_siblings():
    nodes = [{"id": "start", "type": "trigger.manual"},
             {"id": "ok", "type": "flow.noop"},
             {"id": "bad", "type": "flow.fail", "params": {"message": "stop here"}},
             {"id": "after", "type": "flow.noop"}]
    edges = [{"from": "start", "to": "bad"}, {"from": "start", "to": "ok"}, {"from": "ok", "to": "after"}]
    execution, _ = run(document(nodes, edges) | {"name": uuid.uuid4().hex})
    assert execution.status == "failed"
    assert execution.error["node_id"] == "bad" and "stop here" in execution.error["message"]
    statuses = dict(execution.node_runs.values_list("node_id", "status"))
    assert statuses["bad"] == "failed"
    assert statuses["after"] in ("pending", "cancelled", "skipped")
    assert not execution.node_runs.filter(status__in=["queued", "running"]).exists()


def test_a_fan_out_wider_than_the_local_batch_sends_the_rest_to_the_broker(settings):
    settings.NODEFLOW = {**settings.NODEFLOW, "LOCAL_RUN_BATCH": 2}
    doc = fan_out(5) | {"name": uuid.uuid4().hex}
    execution, sent = run(doc)
    assert execution.status == "succeeded"
    assert sent[0] == "start" and sorted(sent[1:]) == ["b2", "b3", "b4"]
    assert sorted(execution.result) == [f"b{i}" for i in range(5)]


def test_run_nodes_claims_several_queued_nodes_in_one_transaction_and_runs_them(settings):
    settings.NODEFLOW = {**settings.NODEFLOW, "LOCAL_RUN_BATCH": 2}
    doc = fan_out(5) | {"name": uuid.uuid4().hex}
    dispatcher = RecordingDispatcher()
    execution = starting.start_execution(doc, dispatcher=dispatcher)
    dispatcher.ready.clear()
    executing.run_node(str(execution.pk), "start", dispatcher=dispatcher)  # b0, b1 run here; b2–b4 are sent
    assert dispatcher.sent == ["start", "b2", "b3", "b4"]
    dispatcher.ready.clear()
    assert executing.run_nodes(str(execution.pk), ["b2", "b3", "b4"], dispatcher=dispatcher)
    # Claimed together: their running events are consecutive in the log.
    seqs = sorted(execution.node_runs.filter(node_id__in=["b2", "b3", "b4"]).values_list("start_seq", flat=True))
    assert seqs == list(range(seqs[0], seqs[0] + 3))
    assert not executing.run_nodes(str(execution.pk), ["b2", "b3"], dispatcher=dispatcher)  # a late duplicate
    execution = Execution.objects.get(pk=execution.pk)
    assert execution.status == "succeeded" and sorted(execution.result) == [f"b{i}" for i in range(5)]


@pytest.mark.django_db(transaction=True)
def test_on_a_worker_a_fan_out_wider_than_a_batch_is_shared_out_in_batch_sized_tasks(_session_worker):
    from executions.tasks import dispatcher as celery_dispatcher
    from tests.conftest import WorkerProcess, wait_for_execution

    worker = WorkerProcess(concurrency=2, env={"NODEFLOW_LOCAL_RUN_BATCH": "7"}).start()
    try:
        _session_worker.stop()  # only workers with the small batch
        doc = fan_out(30) | {"name": uuid.uuid4().hex}
        execution = wait_for_execution(starting.start_execution(doc, dispatcher=celery_dispatcher).pk, timeout=60)
        assert execution.status == "succeeded" and len(execution.result) == 30
        # b0–b6 ran where the fan-out started; b7–b29 went in tasks of up to 7 nodes, each task
        # claiming its nodes in one transaction: their running events come in runs of consecutive
        # seqs (sent one by one, each would be claimed alone).
        sent = [f"b{i}" for i in range(7, 30)]
        starts = sorted(execution.node_runs.filter(node_id__in=sent).values_list("start_seq", flat=True))
        groups = []
        for seq in starts:
            if groups and seq == groups[-1][-1] + 1:
                groups[-1].append(seq)
            else:
                groups.append([seq])
        assert max(len(group) for group in groups) >= 3, groups
    finally:
        worker.stop()
        _session_worker.start()


def test_a_chain_of_nodes_that_are_not_instant_goes_on_in_the_worker_that_ran_the_first():
    doc = chain(*[{"id": f"s{i}", "type": "test.sleep", "params": {"seconds": 0, "output": i}} for i in range(4)],
                {"id": "done", "type": "flow.terminal", "params": {"result": "{{ nodes.s3.output.output }}"}})
    execution, sent = run(doc)
    assert execution.status == "succeeded" and execution.result == 3
    assert sent == ["start", "s0"]  # s1–s3 were claimed in the transaction that finished their predecessor
    runs = {run.node_id: run for run in execution.node_runs.all()}
    for node_id in ["s1", "s2", "s3"]:
        assert states(execution, node_id) == ["queued", "running", "completed"]
        assert runs[node_id].attempt == 1 and runs[node_id].lease_expires_at is None
    assert runs["s2"].start_seq > runs["s1"].finish_seq


def test_a_fan_out_a_time_limit_or_another_queue_still_goes_through_the_broker(settings):
    settings.NODEFLOW = {**settings.NODEFLOW, "QUEUE_ROUTES": {"test.flaky": "elsewhere"}}
    nodes = [{"id": "start", "type": "trigger.manual"},
             {"id": "s0", "type": "test.sleep", "params": {"seconds": 0}},
             {"id": "left", "type": "test.sleep", "params": {"seconds": 0}},
             {"id": "right", "type": "test.sleep", "params": {"seconds": 0}},
             {"id": "limited", "type": "test.sleep", "params": {"seconds": 0}, "timeout_s": 30},
             {"id": "other", "type": "test.flaky", "params": {"failures": 0}}]
    edges = [{"from": "start", "to": "s0"}, {"from": "s0", "to": "left"}, {"from": "s0", "to": "right"},
             {"from": "left", "to": "limited"}, {"from": "right", "to": "other"}]
    execution, sent = run(document(nodes, edges) | {"name": uuid.uuid4().hex})
    assert execution.status == "succeeded", execution.error
    assert sorted(sent) == sorted(["start", "s0", "left", "right", "limited", "other"])


# Contained nodes (code.python: the sandbox lets them reach nothing outside) that go on a chain run
# inside the transaction that finished the node before them, within LOCAL_RUN_CONTAINED_MS each.

def add_one(node_id):
    return {"id": node_id, "type": "code.python",
            "params": {"code": "def run(ctx):\n    nodes = ctx['nodes']\n"
                               "    return max([n['output'] for n in nodes.values() if isinstance(n['output'], int)] or [0]) + 1\n"}}


def busy(node_id, **limits):
    # 0.3 s on any machine: longer than the 60 ms these tests give a contained node.
    code = "import time\n\ndef run(ctx):\n    time.sleep(0.3)\n    return 'done'\n"
    return {"id": node_id, "type": "code.python", "params": {"code": code, "limits": limits}}


def counting_finishes(monkeypatch):
    from executions import finishing

    calls = []
    record = finishing._record

    def counted(stored, *args, **kwargs):
        calls.append([prepared.node_id for prepared, _ in stored])
        return record(stored, *args, **kwargs)

    monkeypatch.setattr(finishing, "_record", counted)
    return calls


def test_a_chain_of_code_nodes_runs_inside_the_finish_of_the_first_and_keeps_every_state_and_event(monkeypatch):
    finishes = counting_finishes(monkeypatch)
    doc = chain(*[add_one(f"c{i}") for i in range(4)],
                {"id": "done", "type": "flow.terminal", "params": {"result": "{{ nodes.c3.output }}"}})
    execution, sent = run(doc)

    assert execution.status == "succeeded", execution.error
    assert execution.result == 4  # each read the one before it, which the database did not have yet
    assert sent == ["start", "c0"]
    # c0 ran after its claim's commit; its finish ran c1–c3 and the terminal node, and recorded them.
    assert finishes == [["c0"]]
    runs = {run.node_id: run for run in execution.node_runs.all()}
    for node_id in ["c1", "c2", "c3"]:
        assert states(execution, node_id) == ["queued", "running", "completed"]
        assert runs[node_id].attempt == 1 and runs[node_id].lease_expires_at is None
        assert runs[node_id].resources["sandbox_cpu_ms"] >= 0
    assert runs["c2"].start_seq > runs["c1"].finish_seq
    seqs = list(execution.events.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, execution.last_seq + 1))


def test_a_code_node_that_needs_longer_than_a_finish_gives_it_is_stopped_and_runs_after_the_commit(settings,
                                                                                                  monkeypatch):
    from executions.compiled import compiled_for
    from executions.models import Definition

    settings.NODEFLOW = {**settings.NODEFLOW, "LOCAL_RUN_CONTAINED_MS": 60}
    finishes = counting_finishes(monkeypatch)
    doc = chain(add_one("c0"), busy("slow", wall_ms=10_000), add_one("after"),
                {"id": "done", "type": "flow.terminal", "params": {"result": "{{ nodes.after.output }}"}})
    execution, sent = run(doc)

    assert execution.status == "succeeded", execution.error
    assert execution.result == 2 and sent == ["start", "c0"]
    runs = {run.node_id: run for run in execution.node_runs.all()}
    # Stopped inside c0's finish, it ran once more after the commit, as the same attempt, and finished.
    assert runs["slow"].output == "done" and runs["slow"].attempt == 1
    assert states(execution, "slow") == ["queued", "running", "completed"]
    assert finishes == [["c0"], ["slow"]]  # `after` ran inside the finish of `slow`
    assert "slow" in compiled_for(Definition.of(doc).sha256, load_document=lambda: doc).not_here

    # This process knows it now: the next execution runs it after the commit at once.
    finishes.clear()
    execution, _ = run(doc)
    assert execution.status == "succeeded" and finishes == [["c0"], ["slow"]]


def test_a_code_node_whose_own_wall_limit_is_the_shorter_fails_at_it_as_anywhere(settings, monkeypatch):
    from executions.compiled import compiled_for
    from executions.models import Definition

    settings.NODEFLOW = {**settings.NODEFLOW, "LOCAL_RUN_CONTAINED_MS": 500}
    finishes = counting_finishes(monkeypatch)
    doc = chain(add_one("c0"), busy("limited", wall_ms=60), {"id": "done", "type": "flow.terminal"})
    execution, _ = run(doc)

    run_ = execution.node_runs.get(node_id="limited")
    assert execution.status == "failed"
    assert run_.status == "failed" and run_.error["details"]["limit"] == "wall", run_.error
    assert run_.attempt == 1
    # It failed inside c0's finish, at its own limit: not taken for one that needs longer than the finish
    # gives it (stopped there, and run again after the commit).
    assert finishes == [["c0"]]
    assert "limited" not in compiled_for(Definition.of(doc).sha256, load_document=lambda: doc).not_here


def test_with_no_time_for_contained_nodes_a_chain_of_code_nodes_goes_on_after_each_commit(settings, monkeypatch):
    settings.NODEFLOW = {**settings.NODEFLOW, "LOCAL_RUN_CONTAINED_MS": 0}
    finishes = counting_finishes(monkeypatch)
    execution, sent = run(chain(*[add_one(f"c{i}") for i in range(3)], {"id": "done", "type": "flow.terminal"}))
    assert execution.status == "succeeded" and sent == ["start", "c0"]
    assert finishes == [["c0"], ["c1"], ["c2"]]


def test_nodes_run_in_one_transaction_read_each_earlier_entry_from_the_database_once(monkeypatch):
    from executions import executing

    reads = []
    load = executing.load_node_entries

    def counted(execution_id, node_ids, *args, **kwargs):
        reads.append(sorted(node_ids))
        return load(execution_id, node_ids, *args, **kwargs)

    monkeypatch.setattr(executing, "load_node_entries", counted)
    doc = chain(*[add_one(f"c{i}") for i in range(5)],
                {"id": "done", "type": "flow.terminal", "params": {"result": "{{ nodes.c4.output }}"}})
    execution, _ = run(doc)

    assert execution.status == "succeeded" and execution.result == 5
    # c0 ran on its own and read the trigger's entry; c1–c4 and the terminal node ran in c0's finish,
    # where c1 read it once more and every later node found it, and c0–c3's, in memory.
    assert reads == [["start"], ["start"]]
