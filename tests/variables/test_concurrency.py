"""Concurrent executions on several real worker processes never lose an update of a global variable."""

import time

import pytest

from executions import starting
from executions.models import Execution
from executions.tasks import dispatcher
from tests.conftest import WorkerProcess
from variables import services
from variables.models import VariableChange
from workflows.services import with_node_versions

RUNS = 200


@pytest.fixture
def second_worker(celery_worker):
    worker = WorkerProcess(concurrency=2).start()
    yield worker
    worker.stop()


def test_two_hundred_concurrent_incr_and_append_from_parallel_executions_lose_nothing(alice, second_worker):
    document = with_node_versions({"api_version": "nodeflow/v1", "name": "count", "nodes": [
        {"id": "start", "type": "trigger.manual"},
        {"id": "work", "type": "test.sleep", "params": {"seconds": 0.01}},
        {"id": "count", "type": "data.set", "params": {"scope": "global", "op": "incr", "vars": {"hits": 1}}},
        {"id": "note", "type": "data.set", "params": {"scope": "global", "op": "append",
                                                      "vars": {"seen": "{{ execution.id }}"}}},
    ], "edges": [{"from": "start", "to": "work"}, {"from": "work", "to": "count"}, {"from": "count", "to": "note"}]})
    ids = [str(starting.start_execution(document, dispatcher=dispatcher, owner=alice).pk) for _ in range(RUNS)]

    deadline = time.monotonic() + 240
    while Execution.objects.filter(pk__in=ids, status="succeeded").count() < RUNS:
        assert not Execution.objects.filter(pk__in=ids, status="failed").exists(), \
            Execution.objects.filter(pk__in=ids, status="failed").first().error
        assert time.monotonic() < deadline, "the executions did not finish in time"
        time.sleep(0.2)

    values = services.snapshot(alice.pk, {"hits", "seen"})
    assert values["hits"] == RUNS
    assert sorted(values["seen"]) == sorted(ids)
    versions = list(VariableChange.objects.filter(key="hits").values_list("new_version", flat=True))
    assert sorted(versions) == list(range(1, RUNS + 1))  # each write saw the one before it
    # They ran in several worker processes (two workers of two processes each).
    pids = {run.output["pid"] for execution in Execution.objects.filter(pk__in=ids)
            for run in execution.node_runs.filter(node_id="work")}
    assert len(pids) >= 3


CODE_INCR = """import time

def run(ctx):
    seen = ctx["globals"].get("code_hits", 0)
    time.sleep(0.05)  # long enough for another execution to read the same value
    ctx["globals"]["code_hits"] = seen + 1
    return seen
"""


def test_code_nodes_writing_what_they_read_lose_no_update_a_conflict_retries(alice, second_worker):
    runs = 20
    document = with_node_versions({"api_version": "nodeflow/v1", "name": "code count", "nodes": [
        {"id": "start", "type": "trigger.manual"},
        {"id": "code", "type": "code.python", "params": {"code": CODE_INCR},
         "retry": {"max_attempts": 50, "backoff_s": 0.05, "max_backoff_s": 0.5}},
    ], "edges": [{"from": "start", "to": "code"}]})
    ids = [str(starting.start_execution(document, dispatcher=dispatcher, owner=alice).pk) for _ in range(runs)]

    deadline = time.monotonic() + 240
    while Execution.objects.filter(pk__in=ids, status__in=["succeeded", "failed"]).count() < runs:
        assert time.monotonic() < deadline, "the executions did not finish in time"
        time.sleep(0.2)

    assert Execution.objects.filter(pk__in=ids, status="succeeded").count() == runs
    assert services.snapshot(alice.pk, {"code_hits"}) == {"code_hits": runs}
    # Each read value was written back once, plus one: the outputs are 0..runs-1, each once.
    outputs = sorted(run.output for execution in Execution.objects.filter(pk__in=ids)
                     for run in execution.node_runs.filter(node_id="code"))
    assert outputs == list(range(runs))
    conflicts = [attempt["error"] for execution in Execution.objects.filter(pk__in=ids)
                 for run in execution.node_runs.filter(node_id="code") for attempt in run.attempts if attempt["error"]]
    # Four processes running twenty at once did overlap: some writes met a newer version and retried.
    assert conflicts and all(error["code"] == "conflict" and error["class"] == "transient" for error in conflicts)
