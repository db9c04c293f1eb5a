"""The webhook door (triggers.door): production URLs served by nodeflow.asgi in front of Django.

Requests go through the real ASGI application in this process, on an event loop of the
test's; the door writes on its own psycopg pool and looks hooks up in threads, so the
tests see committed data only (transactional_db). A 202 leaves an AcceptedRequest row;
triggers.accepted turns it into the execution the 202 named (a worker does, in production:
the tests with `celery_worker`)."""

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.core.cache import cache
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from psycopg import IntegrityError

from executions.models import Execution
from executions.tasks import dispatcher
from tests.conftest import ROOT, service_env, wait_for_execution
from tests.triggers.support import LIST, assert_error, generic_signature, published_hook, webhook_doc
from triggers import accepted, hookcache
from triggers.door import stop_threads
from triggers.doorstore import AcceptedStore, close_loop_store
from triggers.models import AcceptedRequest, WebhookEndpoint
from triggers.services import HOOK_GENERATION_KEY
from triggers.tasks import send_start
from triggers.tasks import start_accepted as start_task

pytestmark = pytest.mark.django_db(transaction=True)


class Answer:
    """What the ASGI application sent: status, headers (lower-case names), body."""

    def __init__(self, messages):
        start = next(m for m in messages if m["type"] == "http.response.start")
        self.status_code = start["status"]
        self.headers = {name.decode().lower(): value.decode() for name, value in start["headers"]}
        self.content = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")

    def json(self):
        return json.loads(self.content)

    def __getitem__(self, name):
        return self.headers[name.lower()]


@pytest.fixture
def door():
    """call(method, path, body, query=…, **headers) → Answer, through nodeflow.asgi.application on one loop."""
    from nodeflow.asgi import application

    loop = asyncio.new_event_loop()

    async def request(method, path, body, query, headers):
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
                 "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": query.encode(),
                 "root_path": "", "client": ("127.0.0.1", 40000), "server": ("testserver", 80),
                 "headers": [(b"host", b"testserver"), (b"content-length", str(len(body)).encode()),
                             *[(name.lower().replace("_", "-").encode(), value.encode())
                               for name, value in headers.items()]]}
        pending = [{"type": "http.request", "body": body, "more_body": False}]

        async def receive():
            if pending:
                return pending.pop(0)
            return await asyncio.get_running_loop().create_future()  # never: the client stays

        messages = []

        async def send(message):
            messages.append(message)

        await application(scope, receive, send)
        return Answer(messages)

    def call(method, path, body=b"{}", query="", **headers):
        headers.setdefault("Content_Type", "application/json")
        return loop.run_until_complete(request(method, path, body, query, headers))

    try:
        yield call
    finally:
        loop.run_until_complete(close_loop_store())
        # What Django's handler ran (the view, for what the door hands on) ran in asgiref's one thread.
        loop.run_until_complete(sync_to_async(connections.close_all)())
        loop.close()
        stop_threads()
        accepted.bell_answered()  # a ring whose task a test kept would hold the next test's starts for BELL_TTL_S


@pytest.fixture
def no_worker(request):
    """The suite's worker is stopped: what the door accepted stays a row until the test starts it."""
    request.getfixturevalue("_session_worker").stop()


def accepted_id(answer):
    assert answer.status_code == 202, answer.content
    assert set(answer.json()) == {"execution_id"}
    return answer.json()["execution_id"]


def test_a_202_is_answered_once_the_request_is_a_row_and_its_start_makes_the_execution_of_that_id(
        alice_client, door, no_worker):
    workflow, path, _ = published_hook(alice_client, webhook_doc())
    answer = door("POST", path, json.dumps({"email": "ada@example.com"}).encode(), query="page=2&tag=a&tag=b",
                  X_Custom="yes", Cookie="session=1", Authorization="Bearer x")
    execution_id = accepted_id(answer)
    assert answer["Content-Type"] == "application/json"
    row = AcceptedRequest.objects.get(pk=execution_id)
    assert row.version == 1 and not Execution.objects.filter(pk=execution_id).exists()

    # As the task does: the execution's first (instant) nodes run here, without a trip through the broker.
    assert accepted.start_accepted([execution_id], dispatcher, run_here=True) == 1
    execution = Execution.objects.get(pk=execution_id)
    assert not AcceptedRequest.objects.exists()
    assert execution.status == "succeeded" and execution.result == {"got": {"email": "ada@example.com"}}
    assert execution.trigger == "webhook" and execution.trigger_node == "hook" and execution.version == 1
    assert str(execution.workflow_id) == workflow["id"]
    assert execution.input["body"] == {"email": "ada@example.com"}
    assert execution.input["query"] == {"page": "2", "tag": ["a", "b"]}
    assert execution.input["method"] == "POST" and execution.input["headers"]["x-custom"] == "yes"
    assert "cookie" not in execution.input["headers"] and "authorization" not in execution.input["headers"]
    # A second start (the task and recovery both) finds nothing left to do.
    assert accepted.start_accepted([execution_id], dispatcher) == 0
    assert Execution.objects.count() == 1


def accepted_and_started(alice_client, door, count):
    """`count` requests the door accepted, started as the worker's task starts them (triggers.tasks); their
    executions, each seen to have succeeded with its own request's number."""
    _, path, _ = published_hook(alice_client, webhook_doc(result={"got": "{{ input.body.n }}"}))
    ids = [accepted_id(door("POST", path, json.dumps({"n": n}).encode())) for n in range(count)]
    assert accepted.start_accepted(ids, dispatcher, run_here=True, worker="w1@test") == count
    executions = Execution.objects.filter(pk__in=ids)
    assert {str(e.pk): (e.status, e.result) for e in executions} == {
        pk: ("succeeded", {"got": n}) for n, pk in enumerate(ids)}
    return executions


def test_a_batch_of_accepted_requests_runs_their_instant_nodes_in_the_transaction_that_starts_them(
        alice_client, door, no_worker, monkeypatch):
    from executions import finishing

    def not_after_the_commit(*args, **kwargs):
        raise AssertionError("a node was claimed after the start's commit")

    monkeypatch.setattr(accepted, "run_nodes", not_after_the_commit)
    inserts = []
    real_flush = finishing.Transition.flush

    def counting_flush(transition):
        inserts.append(transition.execution.pk)
        return real_flush(transition)

    monkeypatch.setattr(finishing.Transition, "flush", counting_flush)
    executions = accepted_and_started(alice_client, door, 3)
    assert {run.worker for e in executions for run in e.node_runs.all()} == {"w1@test"}
    assert len(inserts) == 3  # each written once, when it was created: no transaction of its own after
    assert not AcceptedRequest.objects.exists()


def test_accepted_requests_whose_instant_nodes_cannot_be_written_where_they_start_run_them_after(
        alice_client, door, no_worker, monkeypatch):
    from django.db import DataError

    from executions import executing

    def refused(*args):
        raise DataError("a value the database refused")

    monkeypatch.setattr(executing, "run_start_here", refused)
    accepted_and_started(alice_client, door, 2)
    assert Execution.objects.count() == 2 and not AcceptedRequest.objects.exists()  # the refused batch left nothing


class Starts:
    """The bell's rings and the start tasks sent: by the door after its commits, by a task that hands on."""

    def __init__(self):
        self.rings, self.sent = 0, []

    def settled(self, commits, timeout=10):
        """Wait until the door has rung after each of `commits` commits (it does, in a thread, after the 202)."""
        deadline = time.monotonic() + timeout
        while self.rings < commits:
            assert time.monotonic() < deadline, f"the door rang {self.rings} times after {commits} commits"
            time.sleep(0.02)


@pytest.fixture
def door_starts(monkeypatch):
    """The start tasks sent (triggers.tasks.send_start) kept here instead of going to the broker (Starts), the
    bell answered first."""
    from triggers import tasks

    accepted.bell_answered()
    starts = Starts()
    real_ring = accepted.ring

    def ring():
        rang = real_ring()
        starts.rings += 1
        return rang

    class Task:
        @staticmethod
        def apply_async(args=()):
            starts.sent.append(list(args))

    monkeypatch.setattr(accepted, "ring", ring)
    monkeypatch.setattr(tasks, "start_accepted", Task)
    return starts


def test_a_start_pending_takes_the_requests_committed_after_it_and_its_task_rings_again(
        alice_client, door, no_worker, door_starts):
    _, path, _ = published_hook(alice_client, webhook_doc(result={"got": "{{ input.body.n }}"}))
    ids = [accepted_id(door("POST", path, json.dumps({"n": n}).encode())) for n in range(4)]
    door_starts.settled(4)
    assert door_starts.sent == [[[ids[0]]]]  # four commits, one start: the first one's, pending for the other three
    assert AcceptedRequest.objects.count() == 4

    assert start_task.run([ids[0]]) == 4  # the pending task takes every request waiting
    executions = Execution.objects.filter(pk__in=ids)
    assert {str(e.pk): (e.status, e.result) for e in executions} == {
        pk: ("succeeded", {"got": n}) for n, pk in enumerate(ids)}
    assert not AcceptedRequest.objects.exists()
    later = accepted_id(door("POST", path, json.dumps({"n": 4}).encode()))  # answered: the next commit rings
    door_starts.settled(5)
    assert door_starts.sent[1:] == [[[later]]]


def test_a_ring_whose_start_could_not_be_sent_is_answered_at_once(monkeypatch):
    from triggers import tasks

    accepted.bell_answered()

    def broker_away(*args, **kwargs):
        raise ConnectionError("the broker is away")

    monkeypatch.setattr(tasks.start_accepted, "apply_async", broker_away)
    with pytest.raises(ConnectionError):
        send_start(["an-accepted-id"])
    assert accepted.ring()  # nothing is pending: the next commit sends a start (recovery covers the one lost)
    accepted.bell_answered()


def test_waiting_requests_start_oldest_first_in_batches_and_a_task_whose_budget_is_spent_hands_on(
        alice_client, door, no_worker, door_starts, monkeypatch, settings):
    _, path, _ = published_hook(alice_client, webhook_doc())
    ids = [accepted_id(door("POST", path)) for _ in range(5)]
    door_starts.settled(5)
    monkeypatch.setattr(accepted, "SWEEP_BATCH", 2)
    settings.NODEFLOW = {**settings.NODEFLOW, "LOCAL_RUN_BUDGET_S": 0}

    assert start_task.run([ids[0]]) == 2  # one batch, the oldest two, and its turn is over
    assert set(map(str, Execution.objects.values_list("pk", flat=True))) == set(ids[:2])
    assert door_starts.sent == [[[ids[0]]], [[]]]  # the door's, then the next task: it goes on behind what is queued
    assert accepted.start_waiting(dispatcher, worker="w1@test", budget_s=1) == (3, False)
    assert Execution.objects.count() == 5 and not AcceptedRequest.objects.exists()


def test_a_sweep_loads_a_version_once_and_ends_with_a_batch_that_was_not_full(
        alice_client, door, no_worker, door_starts, monkeypatch):
    # A published version does not change: each batch of a busy hook loaded and validated it again. A batch
    # smaller than SWEEP_BATCH took every request waiting: what is committed later rings the bell again.
    _, path, _ = published_hook(alice_client, webhook_doc())
    ids = [accepted_id(door("POST", path)) for _ in range(3)]
    door_starts.settled(3)
    monkeypatch.setattr(accepted, "SWEEP_BATCH", 2)
    monkeypatch.setattr(accepted, "_valid_versions", accepted.LRUCache(maxsize=8))

    with CaptureQueriesContext(connection) as queries:
        assert accepted.start_waiting(dispatcher, worker="w1@test", budget_s=60) == (3, False)
    sql = [q["sql"] for q in queries.captured_queries]
    assert sum('FROM "workflows_workflowversion"' in s for s in sql) == 1
    candidates = [s for s in sql if s.startswith('SELECT "triggers_acceptedrequest"."id" AS "pk"')]
    assert len(candidates) == 2  # two batches, and no third look
    assert set(map(str, Execution.objects.values_list("pk", flat=True))) == set(ids)


def test_a_request_its_version_cannot_start_is_dropped_and_the_rest_of_its_batch_starts(
        alice_client, door, no_worker):
    # Each start of a batch writes in the batch's transaction, without a savepoint of its own: what a start
    # refuses, it refuses before writing, and the batch goes on.
    workflow, path, _ = published_hook(alice_client, webhook_doc(result={"got": "{{ input.body.n }}"}))
    ids = [accepted_id(door("POST", path, json.dumps({"n": n}).encode())) for n in range(3)]
    gone = WebhookEndpoint.objects.create(workflow_id=workflow["id"], node_id="a-node-no-version-has")
    AcceptedRequest.objects.filter(pk=ids[1]).update(endpoint=gone)

    assert accepted.start_accepted(ids, dispatcher, run_here=True, worker="w1@test") == 2
    assert {str(e.pk): (e.status, e.result) for e in Execution.objects.all()} == {
        ids[0]: ("succeeded", {"got": 0}), ids[2]: ("succeeded", {"got": 2})}
    assert not AcceptedRequest.objects.exists()


def test_a_request_whose_start_fails_holds_up_no_other(alice_client, door, no_worker, door_starts, monkeypatch):
    _, path, _ = published_hook(alice_client, webhook_doc())
    ids = [accepted_id(door("POST", path, json.dumps({"n": n}).encode())) for n in range(3)]
    door_starts.settled(3)
    real_start = accepted.start_execution

    def start_execution(document, **kwargs):
        if kwargs["input_data"]["body"] == {"n": 1}:
            raise RuntimeError("a bug's victim")
        return real_start(document, **kwargs)

    monkeypatch.setattr(accepted, "start_execution", start_execution)
    monkeypatch.setattr(accepted, "_failing", accepted.TTLCache(maxsize=8, ttl=60))

    assert accepted.start_waiting(dispatcher, worker="w1@test") == (2, False)
    assert set(map(str, Execution.objects.values_list("pk", flat=True))) == {ids[0], ids[2]}
    assert list(AcceptedRequest.objects.values_list("pk", flat=True)) == [uuid.UUID(ids[1])]  # left to recovery
    assert accepted.start_waiting(dispatcher, worker="w1@test") == (0, False)  # and not tried again meanwhile


def test_the_door_refuses_as_the_view_does_in_the_same_order(alice_client, door, settings):
    assert_error(door("POST", "/hooks/no-such-token"), 404, "not_found")
    _, path, _ = published_hook(alice_client, webhook_doc(auth="header", secret="open sesame", header_name="X-Token",
                                                          max_body_kb=1, require_json=True))
    refused = door("GET", path)
    assert_error(refused, 405, "method_not_allowed")
    assert refused["Allow"] == "POST"
    assert_error(door("POST", path, b"x" * 2000, X_Token="open sesame"), 413, "payload_too_large")
    assert_error(door("POST", path, b"x" * 2000), 413, "payload_too_large")  # size before auth
    assert_error(door("POST", path, X_Token="wrong"), 401, "secret_invalid")
    assert_error(door("POST", path), 401, "secret_missing")
    assert_error(door("POST", path, b"{not json", X_Token="open sesame"), 400, "invalid_json")
    accepted_id(door("POST", path, X_Token="open sesame"))
    assert AcceptedRequest.objects.count() == 1


def test_an_unsigned_request_takes_one_trip_to_the_doors_threads_and_a_signed_one_two(
        alice_client, door, no_worker, monkeypatch):
    # A hook without auth checks its body and input on the event loop: nothing but CPU, not worth a thread.
    from triggers import door as door_module

    trips, in_thread = [], door_module._in_thread

    async def counted(function, *args):
        trips.append(function.__name__)
        return await in_thread(function, *args)

    monkeypatch.setattr(door_module, "_in_thread", counted)
    _, path, _ = published_hook(alice_client, webhook_doc())
    accepted_id(door("POST", path))
    assert trips == ["_admit"]
    assert_error(door("POST", path, b"{not json"), 400, "invalid_json")  # refused on the loop as in a thread
    trips.clear()
    _, path, _ = published_hook(alice_client, webhook_doc(auth="header", secret="open sesame", header_name="X-Token"))
    accepted_id(door("POST", path, X_Token="open sesame"))
    assert trips == ["_admit", "_prepare"]


def test_a_signed_request_is_accepted_once_and_again_when_it_was_not_stored(alice_client, door):
    _, path, _ = published_hook(alice_client, webhook_doc(auth="hmac", secret="k3y"))
    body = b'{"n": 1}'
    good = generic_signature("k3y", body)
    accepted_id(door("POST", path, body, X_NodeFlow_Signature=good))
    assert_error(door("POST", path, body, X_NodeFlow_Signature=good), 401, "replayed")
    row = AcceptedRequest.objects.get()
    assert "x-nodeflow-signature" not in row.input["headers"]


def test_the_rate_limit_counts_door_requests(alice_client, door):
    _, path, _ = published_hook(alice_client, webhook_doc(rate_limit_per_min=2))
    accepted_id(door("POST", path))
    accepted_id(door("POST", path))
    refused = door("POST", path)
    assert_error(refused, 429, "rate_limited")
    assert refused["Retry-After"] == "60"


def test_the_doors_threads_keep_their_redis_connections_and_each_202_is_counted(alice_client, door, no_worker):
    # Django's caches live in the calling context (asgiref's Local): a copy of the request's context
    # per call made a new cache client, and a new Redis connection, for every request.
    import redis
    from django.conf import settings

    _, path, _ = published_hook(alice_client, webhook_doc())
    server = redis.Redis.from_url(settings.REDIS_URL)
    counted = "nodeflow:metrics:webhook:202"

    def count_reaches(expected):
        deadline = time.monotonic() + 10
        while cache.get(counted, 0) < expected and time.monotonic() < deadline:
            time.sleep(0.05)  # the count is taken after the commit, in a thread of its own
        return cache.get(counted, 0) == expected

    initially = cache.get(counted, 0)
    for _ in range(3):
        accepted_id(door("POST", path))  # the door's threads have made their connections
    assert count_reaches(initially + 3)
    connections_before = server.info("stats")["total_connections_received"]
    for _ in range(40):
        accepted_id(door("POST", path))
    assert count_reaches(initially + 43)
    # At most one per thread that had none yet (the door's own, and those of the after-commit calls).
    assert server.info("stats")["total_connections_received"] - connections_before < 20


def test_an_unpublish_closes_the_door_at_once_and_a_publish_opens_it(alice_client, door):
    workflow, path, _ = published_hook(alice_client, webhook_doc())
    accepted_id(door("POST", path))  # the lookup is cached now
    assert alice_client.post(f"{LIST}{workflow['id']}/unpublish/").status_code == 200
    assert_error(door("POST", path), 404, "not_published")
    assert alice_client.post(f"{LIST}{workflow['id']}/publish/").status_code == 201
    accepted_id(door("POST", path))
    assert alice_client.delete(f"{LIST}{workflow['id']}/").status_code == 204
    assert_error(door("POST", path), 404, "not_found")


def test_the_lookup_is_served_from_memory_until_another_process_changes_the_generation(
        alice_client, django_assert_num_queries):
    _, path, _ = published_hook(alice_client, webhook_doc())
    token = path.rsplit("/", 1)[-1]
    first = hookcache.lookup(token)
    with django_assert_num_queries(0):
        assert hookcache.lookup(token) is first
    cache.set(HOOK_GENERATION_KEY, "changed by another process")  # what a commit elsewhere does
    with django_assert_num_queries(1):
        again = hookcache.lookup(token)
    assert again is not first and again.version_number == 1


def test_lookups_that_miss_together_load_the_hook_once(alice_client, monkeypatch):
    import threading

    _, path, _ = published_hook(alice_client, webhook_doc())
    token = path.rsplit("/", 1)[-1]
    loads, found = [], []
    load = hookcache._load

    def counted_load(token):
        loads.append(token)
        time.sleep(0.2)  # the other lookups miss meanwhile
        return load(token)

    def lookup():
        try:
            found.append(hookcache.lookup(token))
        finally:
            connections.close_all()

    monkeypatch.setattr(hookcache, "_load", counted_load)
    cache.set(HOOK_GENERATION_KEY, "changed: every entry dropped")
    threads = [threading.Thread(target=lookup) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert loads == [token] and len(found) == 10 and all(entry is found[0] for entry in found)
    assert found[0].version_number == 1


def test_a_published_version_that_cannot_run_answers_409_after_the_auth_checks(alice_client, door):
    workflow, path, _ = published_hook(alice_client, webhook_doc())
    from workflows.models import Workflow

    version = Workflow.objects.get(pk=workflow["id"]).published_version
    version.definition = {**version.definition, "edges": [{"from": "hook", "to": "nowhere"}]}
    version.save()
    cache.set(HOOK_GENERATION_KEY, "version edited")
    assert_error(door("GET", path), 405, "method_not_allowed")
    assert_error(door("POST", path), 409, "invalid_workflow")
    assert not AcceptedRequest.objects.exists()


def test_input_schema_problems_answer_400(alice_client, door):
    doc = {**webhook_doc(), "input_schema": {"type": "object", "required": ["email"]}}
    _, path, _ = published_hook(alice_client, doc)
    assert_error(door("POST", path, b'{"name": "x"}'), 400, "invalid_input")
    accepted_id(door("POST", path, b'{"email": "a@b.c"}'))


def test_recovery_starts_accepted_requests_left_waiting_and_only_those(alice_client, door, no_worker, settings):
    _, path, _ = published_hook(alice_client, webhook_doc())
    old, fresh = (accepted_id(door("POST", path)) for _ in range(2))
    waited = timedelta(seconds=settings.NODEFLOW["RECOVER_QUEUED_AFTER_S"] + 1)
    AcceptedRequest.objects.filter(pk=old).update(received_at=timezone.now() - waited)
    assert accepted.recover_accepted(dispatcher) == 1
    assert Execution.objects.get(pk=old).status == "queued"  # its first node sent to a worker, not run here
    assert not Execution.objects.filter(pk=fresh).exists()
    assert list(AcceptedRequest.objects.values_list("pk", flat=True)) == [uuid.UUID(fresh)]


def test_recovery_hands_a_backlog_on_to_the_pool(alice_client, door, no_worker, settings):
    _, path, _ = published_hook(alice_client, webhook_doc())
    for _ in range(3):
        accepted_id(door("POST", path))
    waited = timedelta(seconds=settings.NODEFLOW["RECOVER_QUEUED_AFTER_S"] + 1)
    AcceptedRequest.objects.update(received_at=timezone.now() - waited)
    handed_on = []

    assert accepted.recover_accepted(dispatcher, limit=2, hand_on=lambda: handed_on.append(True)) == 2
    assert handed_on == [True]  # as many as its limit: more may be waiting
    assert accepted.recover_accepted(dispatcher, limit=2, hand_on=lambda: handed_on.append(True)) == 1
    assert handed_on == [True]  # fewer: recovery has seen them all
    assert Execution.objects.count() == 3 and not AcceptedRequest.objects.exists()


def test_a_batch_with_a_row_the_database_refuses_stores_the_others_in_one_commit(alice_client):
    _, path, _ = published_hook(alice_client, webhook_doc())
    endpoint = WebhookEndpoint.objects.get(token=path.rsplit("/", 1)[-1])
    committed = []

    async def scenario():
        store = AcceptedStore(committed.append, pool_size=1)
        try:
            good = [uuid.uuid4() for _ in range(5)]
            stores = [store.store(row_id, endpoint.pk, 1, {"n": n}) for n, row_id in enumerate(good)]
            stores.append(store.store(uuid.uuid4(), endpoint.pk + 1000, 1, {"n": "no such trigger"}))
            return good, await asyncio.gather(*stores, return_exceptions=True)
        finally:
            await store.close()

    good, results = asyncio.run(scenario())
    assert results[:5] == [None] * 5 and isinstance(results[5], IntegrityError), results
    assert set(AcceptedRequest.objects.values_list("pk", flat=True)) == set(good)
    # The batch failed as a whole, then each row went alone: five commits, each told to start its row.
    assert sorted(map(tuple, committed)) == sorted((str(row_id),) for row_id in good)


def test_the_view_keeps_serving_webhooks_where_the_door_is_not_mounted(alice_client):
    """Django's test client does not pass through nodeflow.asgi: the view path, as in embedded mode."""
    _, path, _ = published_hook(alice_client, webhook_doc())
    response = Client().post(path, b"{}", content_type="application/json")
    assert response.status_code == 202
    assert Execution.objects.filter(pk=response.json()["execution_id"]).exists()


def test_embedded_mode_mounts_no_door(tmp_path):
    env = service_env()
    env.pop("REDIS_URL", None)
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'embedded.sqlite3'}", NODEFLOW_DATA_DIR=str(tmp_path))
    code = "import nodeflow.asgi as a; print(type(a.application.application_mapping['http']).__name__)"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "BodySizeLimit"
    env = {**service_env(), "PYTHONPATH": os.fspath(ROOT)}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.stdout.strip().splitlines()[-1] == "WebhookDoor", done.stderr[-2000:]


def test_sync_mode_idempotency_keys_and_test_urls_are_served_by_the_view(alice_client, door, celery_worker):
    _, path, _ = published_hook(alice_client, webhook_doc(response="sync", result={"ok": "{{ input.body.n }}"}))
    answer = door("POST", path, b'{"n": 5}')
    assert answer.status_code == 200 and answer.json() == {"ok": 5}, answer.content
    _, path, test_path = published_hook(alice_client, webhook_doc())
    first = door("POST", path, b'{"n": 1}', Idempotency_Key="order-7")
    again = door("POST", path, b'{"n": 2}', Idempotency_Key="order-7")
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert Execution.objects.filter(pk=first.json()["execution_id"]).exists()  # started by the view, at once
    assert_error(door("POST", test_path), 404, "not_listening")
    assert not AcceptedRequest.objects.exists()


def test_a_worker_starts_and_runs_what_the_door_accepted(alice_client, door, celery_worker):
    _, path, _ = published_hook(alice_client, webhook_doc(result={"got": "{{ input.body.n }}"}))
    ids = [accepted_id(door("POST", path, json.dumps({"n": n}).encode())) for n in range(5)]
    for n, execution_id in enumerate(ids):
        deadline = time.monotonic() + 30
        while not Execution.objects.filter(pk=execution_id).exists():
            assert time.monotonic() < deadline, "the worker did not start the accepted request"
            time.sleep(0.05)
        execution = wait_for_execution(execution_id)
        assert execution.status == "succeeded" and execution.result == {"got": n}
    assert not AcceptedRequest.objects.exists()
