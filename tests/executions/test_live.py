"""Execution state over REST, WebSocket and SSE (API.md Executions and Live updates)."""

import asyncio
import json
import os
import socket
import subprocess
import sys
import time

import pytest
import requests
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from rest_framework.authtoken.models import Token

from executions import starting
from executions.inline import run_inline
from executions.tasks import dispatcher
from nodeflow.asgi import application
from tests.conftest import ROOT, service_env, wait_for_execution
from workflows.services import with_node_versions


def fan_out(width):
    nodes = [{"id": "start", "type": "trigger.manual"}] + [
        {"id": f"b{i}", "type": "data.set", "params": {"output": i}} for i in range(width)]
    nodes += [{"id": "join", "type": "flow.merge"}, {"id": "done", "type": "flow.terminal",
                                                     "params": {"result": "{{ nodes.join.output | length }}"}}]
    edges = [{"from": "start", "to": f"b{i}"} for i in range(width)]
    edges += [{"from": f"b{i}", "to": "join"} for i in range(width)] + [{"from": "join", "to": "done"}]
    return with_node_versions({"api_version": "nodeflow/v1", "name": "fan", "nodes": nodes, "edges": edges})


def _token(user):
    return Token.objects.get_or_create(user=user)[0].key


async def _collect(path, until_completed=True, limit=None, timeout=30, frames=None):
    communicator = WebsocketCommunicator(application, path, headers=[(b"origin", b"http://localhost")])
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    snapshot = await communicator.receive_json_from(timeout=5)
    events = []
    while True:
        frame = await communicator.receive_json_from(timeout=timeout)
        batch = frame if isinstance(frame, list) else [frame]
        if frames is not None:
            frames.append(len(batch))
        events.extend(batch)
        if limit and len(events) >= limit:
            break
        if until_completed and any(e["type"] == "EXECUTION_COMPLETED" for e in batch):
            break
    await communicator.disconnect()
    return snapshot, events


def test_every_event_of_a_50_node_execution_arrives_once_and_in_order(celery_worker, alice):
    execution = starting.start_execution(fan_out(47), dispatcher=dispatcher, owner=alice)
    snapshot, events = async_to_sync(_collect)(f"/ws/executions/{execution.pk}/?token={_token(alice)}&after=0")
    assert snapshot["type"] == "SNAPSHOT" and snapshot["execution"]["id"] == str(execution.pk)
    seqs = [e["seq"] for e in events]
    assert seqs == list(range(1, len(seqs) + 1))
    finished = wait_for_execution(execution.pk)
    assert seqs[-1] == finished.last_seq
    assert sum(1 for e in events if e["type"] == "NODE_STATE_CHANGED" and e["data"]["status"] == "completed") == 50


@pytest.mark.slow
def test_a_burst_from_a_500_wide_fan_out_is_batched_without_dropping_events(celery_worker, alice):
    execution = starting.start_execution(fan_out(500), dispatcher=dispatcher, owner=alice)
    frames = []
    _, events = async_to_sync(_collect)(f"/ws/executions/{execution.pk}/?token={_token(alice)}&after=0",
                                        timeout=120, frames=frames)
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert sum(1 for e in events if e["type"] == "NODE_STATE_CHANGED" and e["data"]["status"] == "completed") == 503
    assert len(frames) < len(events) / 2, f"{len(events)} events came in {len(frames)} frames"


def test_a_reconnect_from_a_seq_misses_nothing(celery_worker, alice):
    execution = starting.start_execution(fan_out(20), dispatcher=dispatcher, owner=alice)
    path = f"/ws/executions/{execution.pk}/?token={_token(alice)}"
    _, first = async_to_sync(_collect)(path + "&after=0", until_completed=False, limit=10)
    resume_from = first[9]["seq"]
    _, rest = async_to_sync(_collect)(path + f"&after={resume_from}")
    seqs = [e["seq"] for e in first[:10]] + [e["seq"] for e in rest]
    assert seqs == list(range(1, len(seqs) + 1))
    assert rest[-1]["type"] == "EXECUTION_COMPLETED"


def test_another_users_stream_is_refused(transactional_db, alice, bob):
    execution = run_inline(fan_out(2), owner=alice)

    async def connect(path):
        communicator = WebsocketCommunicator(application, path, headers=[(b"origin", b"http://localhost")])
        connected, code = await communicator.connect(timeout=5)
        await communicator.disconnect()
        return connected, code

    assert async_to_sync(connect)(f"/ws/executions/{execution.pk}/?token={_token(bob)}") == (False, 4403)
    assert async_to_sync(connect)(f"/ws/executions/{execution.pk}/") == (False, 4403)
    assert async_to_sync(connect)(f"/ws/workflows/{execution.pk}/?token={_token(alice)}") == (False, 4403)
    assert async_to_sync(connect)(f"/ws/executions/{execution.pk}/?token={_token(alice)}")[0] is True


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def asgi_server(celery_worker):
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "nodeflow.asgi:application", "--port", str(port), "--log-level", "warning"],
        cwd=ROOT, env=service_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            requests.get(f"http://{base}/api/v1/node-types/", timeout=2)
            break
        except requests.RequestException:
            assert server.poll() is None and time.monotonic() < deadline, server.stdout.read().decode()
            time.sleep(0.1)
    yield base
    server.terminate()
    server.wait(timeout=10)


def test_a_real_websocket_client_on_a_real_server_gets_every_event(asgi_server, alice):
    import asyncio

    import websockets

    execution = starting.start_execution(fan_out(47), dispatcher=dispatcher, owner=alice)
    url = f"ws://{asgi_server}/ws/executions/{execution.pk}/?token={_token(alice)}&after=0"

    async def listen():
        events = []
        async with websockets.connect(url, origin="http://localhost") as socket_:
            snapshot = json.loads(await socket_.recv())
            while not any(e["type"] == "EXECUTION_COMPLETED" for e in events):
                frame = json.loads(await asyncio.wait_for(socket_.recv(), 30))
                events.extend(frame if isinstance(frame, list) else [frame])
        return snapshot, events

    snapshot, events = asyncio.run(listen())
    assert snapshot["type"] == "SNAPSHOT"
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))


def test_server_sent_events_stream_and_resume_with_last_event_id(asgi_server, alice):
    execution = starting.start_execution(fan_out(5), dispatcher=dispatcher, owner=alice)
    wait_for_execution(execution.pk)
    url = f"http://{asgi_server}/api/v1/executions/{execution.pk}/events/stream/"
    headers = {"Authorization": f"Token {_token(alice)}"}

    def read(extra):
        ids, names = [], []
        with requests.get(url, headers={**headers, **extra}, stream=True, timeout=20) as response:
            assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
            for line in response.iter_lines(decode_unicode=True):
                if line.startswith("id: "):
                    ids.append(int(line[4:]))
                elif line.startswith("event: "):
                    names.append(line[7:])
                    if names[-1] == "end":
                        break
        return ids, names

    ids, names = read({})
    assert ids == list(range(1, len(ids) + 1)) and names[-2:] == ["EXECUTION_COMPLETED", "end"]
    resumed, _ = read({"Last-Event-ID": str(ids[4])})
    assert resumed == ids[5:]
    refused = requests.get(url, timeout=5)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "not_authenticated"


@pytest.mark.django_db
def test_the_execution_list_filters_and_does_not_query_per_row(alice, alice_client, django_assert_max_num_queries):
    from workflows.services import create_workflow

    workflow, _ = create_workflow(alice, "w", fan_out(2))
    for _ in range(6):
        run_inline(workflow.definition, owner=alice, workflow=workflow)
    run_inline(with_node_versions({**fan_out(1), "nodes": fan_out(1)["nodes"]}), owner=alice)
    with django_assert_max_num_queries(6):
        response = alice_client.get(f"/api/v1/executions/?workflow={workflow.pk}&status=succeeded")
    body = response.json()
    assert body["count"] == 6
    assert all(e["node_counts"] == {"completed": 5} for e in body["results"])
    created = [e["created_at"] for e in body["results"]]
    assert created == sorted(created, reverse=True)
    assert alice_client.get("/api/v1/executions/?status=failed").json()["count"] == 0
    assert alice_client.get("/api/v1/executions/?trigger=manual").json()["count"] == 7
    bad = alice_client.get("/api/v1/executions/?created_after=yesterday")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_parameter"


@pytest.mark.django_db
def test_context_after_a_node_and_the_diff_it_made(alice, alice_client):
    doc = with_node_versions({"api_version": "nodeflow/v1", "name": "d", "nodes": [
        {"id": "start", "type": "trigger.manual"},
        {"id": "a", "type": "data.set", "params": {"vars": {"x": 1, "y": 2}, "output": "A"}},
        {"id": "b", "type": "data.set", "params": {"vars": {"x": 3}, "output": "B"}}],
        "edges": [{"from": "start", "to": "a"}, {"from": "a", "to": "b"}]})
    execution = run_inline(doc, owner=alice, input_data={"k": "v"})
    base = f"/api/v1/executions/{execution.pk}/context/"
    after_a = alice_client.get(base + "?after=a").json()
    assert after_a["context"]["vars"] == {"x": 1, "y": 2}
    assert set(after_a["context"]["nodes"]) == {"start", "a"} and after_a["context"]["input"] == {"k": "v"}
    last = alice_client.get(base).json()
    assert last["after"] == "b" and last["context"]["vars"] == {"x": 3, "y": 2}
    diff = alice_client.get(base + "?after=b&diff=1").json()["diff"]
    assert diff == [{"op": "add", "path": "/nodes/b", "value": {"output": "B", "status": "completed"}},
                    {"op": "add", "path": "/vars/x", "value": 3}]
    assert alice_client.get(base + "?after=nope").status_code == 404


@pytest.mark.django_db
def test_large_outputs_are_stored_once_outside_the_row_and_served_on_request(alice, alice_client, settings, tmp_path):
    settings.NODEFLOW = {**settings.NODEFLOW, "OUTPUT_INLINE_MAX_BYTES": 1024}
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}}}
    big = ["x" * 100] * 50
    doc = with_node_versions({"api_version": "nodeflow/v1", "name": "big", "nodes": [
        {"id": "start", "type": "trigger.manual"},
        {"id": "make", "type": "data.set", "params": {"output": big}},
        {"id": "use", "type": "flow.terminal", "params": {"result": "{{ nodes.make.output | length }}"}}],
        "edges": [{"from": "start", "to": "make"}, {"from": "make", "to": "use"}]})
    execution = run_inline(doc, owner=alice)
    assert execution.result == 50  # the next node read the whole output
    stored = execution.node_runs.get(node_id="make").output
    assert set(stored) == {"$nodeflow_output", "size", "preview", "signature"} and len(stored["preview"]) <= 2000
    nodes = alice_client.get(f"/api/v1/executions/{execution.pk}/nodes/").json()
    make = next(n for n in nodes if n["node_id"] == "make")
    # Previews of the output and of the params, not the 10 KB of both (the run's other fields take the rest).
    assert make["output_stored"] is True and len(json.dumps(make)) < 6000
    full = alice_client.get(f"/api/v1/executions/{execution.pk}/nodes/make/output/")
    assert full.status_code == 200 and full.json() == big
    assert make["input"]["$nodeflow_output"].endswith("-input.json")  # the resolved params are large too
    assert len(list(tmp_path.rglob("*.json"))) == 2


EXITING_SENDER = """
import sys, django
django.setup()
from executions import live
for seq in range(1, 51):
    live._get_sender().submit(sys.argv[1], None, {"type": "execution.events", "execution_id": sys.argv[1],
                                                   "events": [{"seq": seq}]})
# and the process ends at once, its sends queued
"""


def test_a_process_that_ends_sends_its_queued_events_first_and_exits_cleanly():
    """A command that started executions ends: its live events still go out, in order, and the sender
    thread is stopped before the interpreter's shutdown (which cut it off mid-send, and aborted)."""
    from channels.layers import get_channel_layer
    from redis.exceptions import TimeoutError as RedisTimeoutError

    from executions.live import execution_group

    layer = get_channel_layer()
    execution_id = "0" * 8 + "-0000-0000-0000-" + os.urandom(6).hex()

    async def listen():
        channel = await layer.new_channel()
        await layer.group_add(execution_group(execution_id), channel)
        done = subprocess.run([sys.executable, "-c", EXITING_SENDER, execution_id], cwd=ROOT, env=service_env(),
                              capture_output=True, text=True, timeout=60)
        seqs = []
        try:
            while len(seqs) < 50:
                message = await asyncio.wait_for(layer.receive(channel), 10)
                seqs += [event["seq"] for event in message["events"]]
        except (TimeoutError, RedisTimeoutError):  # nothing more came
            pass
        await layer.group_discard(execution_group(execution_id), channel)
        return done, seqs

    done, seqs = async_to_sync(listen)()
    assert done.returncode == 0, done.stderr[-2000:]
    assert seqs == list(range(1, 51))


def test_group_send_many_sends_to_the_groups_someone_is_in_alone_and_in_order():
    """A transition's broadcast goes to its execution's and its workflow's groups; the layer asks Redis once
    which of a batch's groups have a member, and sends to those alone (nodeflow.redis_channels)."""
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    assert hasattr(layer, "group_send_many")
    tag = os.urandom(4).hex()
    listened, other, empty = f"execution.a-{tag}", f"workflow.b-{tag}", f"execution.c-{tag}"
    sent = []
    group_send = layer.group_send

    async def recorded(group, message):
        sent.append(group)
        await group_send(group, message)

    async def scenario():
        channel = await layer.new_channel()
        await layer.group_add(listened, channel)
        await layer.group_add(other, channel)
        layer.group_send = recorded
        try:
            await layer.group_send_many([(listened, {"type": "t", "n": 1}), (empty, {"type": "t", "n": 2}),
                                         (other, {"type": "t", "n": 3}), (listened, {"type": "t", "n": 4})])
        finally:
            del layer.group_send
        received = [(await asyncio.wait_for(layer.receive(channel), 5))["n"] for _ in range(3)]
        await layer.group_discard(listened, channel)
        await layer.group_discard(other, channel)
        return received

    assert async_to_sync(scenario)() == [1, 3, 4]
    assert sent == [listened, other, listened]


def test_group_send_many_leaves_out_a_group_whose_only_member_has_expired():
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    group = f"execution.old-{os.urandom(4).hex()}"
    sent = []

    async def recorded(group, message):
        sent.append(group)

    async def scenario():
        channel = await layer.new_channel()
        await layer.group_add(group, channel)
        joined_long_ago = time.time() - layer.group_expiry - 10
        await layer.connection(layer.consistent_hash(group)).zadd(layer._group_key(group), {channel: joined_long_ago})
        layer.group_send = recorded
        try:
            await layer.group_send_many([(group, {"type": "t"})])
        finally:
            del layer.group_send
            await layer.group_discard(group, channel)

    async_to_sync(scenario)()
    assert sent == []


def test_the_live_sender_sends_what_was_queued_during_a_send_as_one_batch_in_order():
    import threading

    from executions import live

    first_sending, let_it_end = threading.Event(), threading.Event()

    class HeldLayer:
        """Holds the first batch on its way until the test has queued the rest."""

        def __init__(self):
            self.batches = []

        async def group_send_many(self, sends):
            self.batches.append([(group, message["n"]) for group, message in sends])
            if len(self.batches) == 1:
                first_sending.set()
                await asyncio.get_running_loop().run_in_executor(None, let_it_end.wait, 10)

    sender = live._Sender()
    sender.layer = HeldLayer()
    try:
        sender.submit("e0", "w", {"n": 0})
        assert first_sending.wait(10)
        for n in range(1, 21):
            sender.submit(f"e{n}", None, {"n": n})
        let_it_end.set()
    finally:
        let_it_end.set()
        sender.close(timeout=10)
    assert sender.layer.batches == [[("execution.e0", 0), ("workflow.w", 0)],
                                    [(f"execution.e{n}", n) for n in range(1, 21)]]
