"""Triggered runs on a real worker: manual runs with input, sync-mode webhooks, secrets kept out of run data."""

import json

import pytest
from django.db import DataError
from django.test import Client

from executions import executing
from executions.models import Execution, ExecutionEvent, NodeRun
from tests.conftest import wait_for_execution
from tests.triggers.support import LIST, assert_error, create, generic_signature, publish, published_hook, webhook_doc

pytestmark = pytest.mark.worker

JSON = "application/json"


def manual_doc(**top):
    return {"api_version": "nodeflow/v1", "name": "Manual",
            "nodes": [{"id": "start", "type": "trigger.manual"},
                      {"id": "done", "type": "flow.terminal", "params": {"result": {"hi": "{{ input.name }}"}}}],
            "edges": [{"from": "start", "to": "done"}], **top}


# -- manual ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_manual_run_with_input_failing_the_input_schema_answers_400_naming_the_field(alice_client):
    schema = {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"},
                                                                     "age": {"type": "integer"}}}
    workflow = create(alice_client, manual_doc(input_schema=schema))
    run = f"{LIST}{workflow['id']}/run/"
    missing = assert_error(alice_client.post(run, {"input": {"age": 3}}, format="json"), 400, "invalid_input")
    assert "'name' is a required property" in missing["message"]
    wrong = assert_error(alice_client.post(run, {"input": {"name": "a", "age": "x"}}, format="json"), 400,
                         "invalid_input")
    assert "input at age" in wrong["message"]
    assert not Execution.objects.exists()


@pytest.fixture
def room_to_run_here(settings):
    """Tests of where a run's instant nodes run, not of how fast: a machine loaded by the suite's other test
    processes can take longer than LOCAL_RUN_ON_START_S (0.1 s) for them, and what is left then waits for a
    worker (test_without_time_to_run_here_a_manual_run_goes_to_the_workers tests the bound itself)."""
    settings.NODEFLOW = {**settings.NODEFLOW, "LOCAL_RUN_ON_START_S": 5.0}


@pytest.mark.django_db
def test_a_manual_run_picks_the_draft_the_published_version_or_a_version_number(alice_client, room_to_run_here):
    workflow = create(alice_client, manual_doc())
    run = f"{LIST}{workflow['id']}/run/"
    assert_error(alice_client.post(run, {"version": "published"}, format="json"), 404, "no_such_version")
    publish(alice_client, workflow["id"])
    publish(alice_client, workflow["id"])
    versions = []
    for version in ("draft", "published", 1):
        answer = alice_client.post(run, {"input": {"name": "x"}, "version": version}, format="json")
        # Its instant nodes ran in the request (executing.start_here): the answer says it has ended.
        assert answer.status_code == 202 and answer.json()["status"] == "succeeded"
        versions.append(Execution.objects.get(pk=answer.json()["execution_id"]).version)
    assert versions == [None, 2, 1]
    assert_error(alice_client.post(run, {"version": 9}, format="json"), 404, "no_such_version")
    assert_error(alice_client.post(run, {"version": "latest"}, format="json"), 400, "invalid")


def test_a_manual_run_is_queued_without_a_worker_and_runs_when_one_comes(_session_worker, transactional_db,
                                                                          alice_client):
    doc = manual_doc()  # start → code → done: the code node is no instant node, the workers run it
    doc["nodes"].insert(1, {"id": "code", "type": "code.python",
                            "params": {"code": "def run(ctx):\n    return ctx['input']['name'].upper()\n"}})
    doc["nodes"][2]["params"]["result"] = {"hi": "{{ nodes.code.output }}"}
    doc["edges"] = [{"from": "start", "to": "code"}, {"from": "code", "to": "done"}]
    workflow = create(alice_client, doc)
    _session_worker.stop()
    try:
        answer = alice_client.post(f"{LIST}{workflow['id']}/run/", {"input": {"name": "ada"}}, format="json")
        assert answer.status_code == 202, answer.content
        # The trigger ran in the request; the code node's task was sent before the answer (on commit)
        # and no process can take it: it stays queued.
        assert answer.json()["status"] == "running"
        runs = dict(NodeRun.objects.filter(execution_id=answer.json()["execution_id"]).values_list("node_id", "status"))
        assert runs == {"start": "completed", "code": "queued", "done": "pending"}
    finally:
        _session_worker.start()
    execution = wait_for_execution(answer.json()["execution_id"], timeout=20)
    assert execution.status == "succeeded" and execution.result == {"hi": "ADA"}


def test_a_manual_runs_instant_nodes_end_in_its_request_without_a_worker(_session_worker, transactional_db,
                                                                         alice_client, room_to_run_here):
    steps = [{"id": f"s{i}", "type": "data.set", "params": {"vars": {"n": "{{ input.n }}" if i == 0 else
                                                                      "{{ vars.n + 1 }}"}}} for i in range(3)]
    chain = ["start", *(step["id"] for step in steps), "done"]
    doc = manual_doc()
    doc["nodes"][1:1] = steps
    doc["nodes"][-1]["params"]["result"] = {"n": "{{ vars.n }}"}
    doc["edges"] = [{"from": a, "to": b} for a, b in zip(chain, chain[1:])]
    workflow = create(alice_client, doc)
    _session_worker.stop()  # no worker takes anything: only the request itself can have run it
    try:
        answer = alice_client.post(f"{LIST}{workflow['id']}/run/", {"input": {"n": 7}}, format="json")
    finally:
        _session_worker.start()
    assert answer.status_code == 202, answer.content
    assert answer.json()["status"] == "succeeded"
    execution = Execution.objects.get(pk=answer.json()["execution_id"])
    assert execution.result == {"n": 9} and execution.created_at <= execution.started_at <= execution.finished_at
    runs = NodeRun.objects.filter(execution=execution)
    assert sorted(runs.values_list("node_id", flat=True)) == sorted(chain)
    assert set(runs.values_list("status", "worker")) == {("completed", executing.worker_name())}
    # The same log as through the workers: every node queued, running, completed, numbered without a gap.
    events = list(ExecutionEvent.objects.filter(execution=execution).order_by("seq").values_list("seq", "node_id",
                                                                                                 "data"))
    assert [seq for seq, _, _ in events] == list(range(1, len(events) + 1))
    for node_id in chain:
        assert [data["status"] for _, node, data in events if node == node_id and "status" in data] == [
            "queued", "running", "completed"], node_id


@pytest.mark.parametrize("seconds", [0, 1e-9], ids=["off", "no-time-left"])
def test_without_time_to_run_here_a_manual_run_goes_to_the_workers(celery_worker, alice_client, settings, seconds):
    # 1e-9: LOCAL_RUN_ON_START_S bounds the run here, not the worker's LOCAL_RUN_BUDGET_S (1 s).
    settings.NODEFLOW = {**settings.NODEFLOW, "LOCAL_RUN_ON_START_S": seconds}
    workflow = create(alice_client, manual_doc())
    answer = alice_client.post(f"{LIST}{workflow['id']}/run/", {"input": {"name": "ada"}}, format="json")
    assert answer.status_code == 202 and answer.json()["status"] == "queued"
    execution = wait_for_execution(answer.json()["execution_id"], timeout=20)
    assert execution.status == "succeeded" and execution.result == {"hi": "ada"}
    workers = set(NodeRun.objects.filter(execution=execution).values_list("worker", flat=True))
    assert workers and executing.worker_name() not in workers


def test_a_manual_run_whose_instant_nodes_cannot_be_written_here_is_run_by_the_workers(celery_worker, alice_client,
                                                                                      monkeypatch):
    def refused(*args):
        raise DataError("a value the database refused")

    monkeypatch.setattr(executing, "run_start_here", refused)
    workflow = create(alice_client, manual_doc())
    answer = alice_client.post(f"{LIST}{workflow['id']}/run/", {"input": {"name": "ada"}}, format="json")
    assert answer.status_code == 202 and answer.json()["status"] == "queued"
    execution = wait_for_execution(answer.json()["execution_id"], timeout=20)
    assert execution.status == "succeeded" and execution.result == {"hi": "ada"}
    assert Execution.objects.count() == 1  # the refused start left nothing behind
    workers = set(NodeRun.objects.filter(execution=execution).values_list("worker", flat=True))
    assert workers and executing.worker_name() not in workers


# -- webhooks on a worker -------------------------------------------------------------------


def test_a_sync_webhook_answers_the_workflows_result_with_its_status(celery_worker, alice_client):
    doc = webhook_doc(result={"hello": "{{ input.body.name }}", "via": "{{ input.method }}"}, response="sync",
                      response_status=201)
    _, path, _ = published_hook(alice_client, doc)
    answer = Client().post(path, json.dumps({"name": "ada"}), content_type=JSON, headers={"Idempotency-Key": "k1"})
    assert answer.status_code == 201, answer.content
    assert answer.json() == {"hello": "ada", "via": "POST"}
    execution_id = answer["X-NodeFlow-Execution-Id"]
    assert Execution.objects.get(pk=execution_id).status == "succeeded"
    again = Client().post(path, json.dumps({"name": "bob"}), content_type=JSON, headers={"Idempotency-Key": "k1"})
    assert (again.status_code, again.json(), again["X-NodeFlow-Execution-Id"]) == (201, answer.json(), execution_id)
    assert Execution.objects.count() == 1


def test_a_sync_webhooks_instant_nodes_run_in_its_request_without_a_worker(_session_worker, transactional_db,
                                                                            alice_client, room_to_run_here):
    steps = [{"id": f"s{i}", "type": "data.set", "params": {"vars": {"n": "{{ input.body.n }}" if i == 0 else
                                                                      "{{ vars.n + 1 }}"}}} for i in range(5)]
    doc = webhook_doc(result={"n": "{{ vars.n }}"}, response="sync", timeout_s=5, extra_nodes=steps)
    chain = ["hook", *(step["id"] for step in steps), "done"]
    doc["edges"] = [{"from": a, "to": b} for a, b in zip(chain, chain[1:])]
    _, path, _ = published_hook(alice_client, doc)
    _session_worker.stop()  # no worker takes anything: the answer can only come from the request itself
    try:
        answer = Client().post(path, json.dumps({"n": 10}), content_type=JSON)
    finally:
        _session_worker.start()
    assert answer.status_code == 200, answer.content
    assert answer.json() == {"n": 14}
    runs = NodeRun.objects.filter(execution_id=answer["X-NodeFlow-Execution-Id"])
    assert sorted(runs.values_list("node_id", flat=True)) == sorted(chain)
    assert set(runs.values_list("status", "worker")) == {("completed", executing.worker_name())}
    execution = Execution.objects.get(pk=answer["X-NodeFlow-Execution-Id"])  # written once, its times in order
    assert execution.status == "succeeded" and execution.created_at <= execution.started_at <= execution.finished_at


def test_a_sync_webhook_whose_loop_starts_in_the_request_answers_when_the_workers_end_it(celery_worker, alice_client):
    body = {"nodes": [{"id": "start", "type": "trigger.group"},
                      {"id": "twice", "type": "data.set", "params": {"output": {"v": "{{ input.item * 2 }}"}}}],
            "edges": [{"from": "start", "to": "twice"}]}
    loop = {"id": "loop", "type": "flow.foreach", "params": {"items": "{{ input.body.items }}", "graph": body,
                                                             "concurrency": 2}}
    doc = webhook_doc(result={"doubled": "{{ nodes.loop.output }}"}, response="sync", timeout_s=20, extra_nodes=[loop])
    doc["edges"] = [{"from": "hook", "to": "loop"}, {"from": "loop", "to": "done"}]
    _, path, _ = published_hook(alice_client, doc)
    answer = Client().post(path, json.dumps({"items": [1, 2, 3, 4]}), content_type=JSON)
    assert answer.status_code == 200, answer.content
    assert answer.json() == {"doubled": [{"v": 2}, {"v": 4}, {"v": 6}, {"v": 8}]}
    execution = Execution.objects.get(pk=answer["X-NodeFlow-Execution-Id"])
    assert execution.node_runs.get(node_id="loop").worker == executing.worker_name()  # it spawned them here
    assert Execution.objects.filter(parent=execution, status="succeeded").count() == 4


def test_a_sync_webhook_whose_instant_nodes_cannot_be_written_here_is_run_by_the_workers(celery_worker, alice_client,
                                                                                         monkeypatch):
    def refused(*args):
        raise DataError("a value the database refused")

    monkeypatch.setattr(executing, "run_start_here", refused)
    _, path, _ = published_hook(alice_client, webhook_doc(result={"got": "{{ input.body.n }}"}, response="sync"))
    answer = Client().post(path, json.dumps({"n": 3}), content_type=JSON)
    assert answer.status_code == 200, answer.content
    assert answer.json() == {"got": 3}
    execution_id = answer["X-NodeFlow-Execution-Id"]
    assert Execution.objects.count() == 1  # the refused start left nothing behind
    workers = set(NodeRun.objects.filter(execution_id=execution_id).values_list("worker", flat=True))
    assert workers and executing.worker_name() not in workers


def test_a_sync_webhook_answers_504_with_the_execution_id_after_its_timeout(celery_worker, alice_client):
    wait = {"id": "slow", "type": "flow.wait", "params": {"seconds": 1.5}}
    doc = webhook_doc(response="sync", timeout_s=0.3, extra_nodes=[wait])
    doc["edges"] = [{"from": "hook", "to": "slow"}, {"from": "slow", "to": "done"}]
    _, path, _ = published_hook(alice_client, doc)
    error = assert_error(Client().post(path, b"{}", content_type=JSON), 504, "timeout")  # not the 1.5 s result
    execution = wait_for_execution(error["details"]["execution_id"], timeout=10)
    assert execution.status == "succeeded"  # it went on running


def test_a_sync_webhook_whose_workflow_fails_answers_502_with_the_error(celery_worker, alice_client):
    doc = webhook_doc(response="sync", extra_nodes=[{"id": "boom", "type": "flow.fail", "params": {"message": "no"}}])
    doc["nodes"] = [n for n in doc["nodes"] if n["id"] != "done"]
    doc["edges"] = [{"from": "hook", "to": "boom"}]
    _, path, _ = published_hook(alice_client, doc)
    error = assert_error(Client().post(path, b"{}", content_type=JSON), 502, "execution_failed")
    assert error["details"]["status"] == "failed" and "no" in json.dumps(error["details"]["error"])


def test_an_async_webhook_runs_and_its_secret_is_nowhere_in_the_run(celery_worker, alice_client):
    secret = "sup3r-s3cret-k3y"
    _, path, _ = published_hook(alice_client, webhook_doc(auth="hmac", secret=secret))
    body = json.dumps({"order": 7}).encode()
    answer = Client().post(path, body, content_type=JSON,
                           headers={"X-NodeFlow-Signature": generic_signature(secret, body)})
    assert answer.status_code == 202, answer.content
    execution = wait_for_execution(answer.json()["execution_id"])
    assert execution.status == "succeeded" and execution.result == {"got": {"order": 7}}
    stored = json.dumps([execution.input, execution.result,
                         list(NodeRun.objects.filter(execution=execution).values("input", "output", "logs")),
                         list(ExecutionEvent.objects.filter(execution=execution).values("data"))], default=str)
    assert secret not in stored and "X-NodeFlow-Signature".lower() not in stored
