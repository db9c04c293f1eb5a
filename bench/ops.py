"""Benchmark scenarios that need more than the engine: live updates, big runs, embedded mode, soak."""

import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime

from bench.support import (ROOT, chain_doc, doc, fan_out_doc, free_port, percentile, rss_mb, run_nodeflow, small_doc,
                           wait_http)


def p6_live_latency(quick, env):
    """Node state committed → a WebSocket client on a real server receives it, next to a bare group send."""
    import websockets
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    from executions.starting import start_execution
    from executions.tasks import dispatcher

    user, _ = get_user_model().objects.get_or_create(username="bench")
    token = Token.objects.get_or_create(user=user)[0].key
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "nodeflow.asgi:application", "--port", str(port),
                               "--log-level", "warning"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        wait_http(f"http://127.0.0.1:{port}/api/v1/node-types/")
        latencies = []
        for _ in range(2 if quick else 5):
            # Its first node is sent once the client listens: a chain of 50 instant nodes may otherwise end
            # before the client has connected, and the client then waits for events that came before it.
            held = _Held()
            execution = start_execution(chain_doc(50), dispatcher=held, owner=user)
            url = f"ws://127.0.0.1:{port}/ws/executions/{execution.pk}/?token={token}"
            latencies += asyncio.run(_listen(websockets, url, lambda: held.send(dispatcher)))
        layer = get_channel_layer()
        baseline = async_to_sync(_bare_group_send)(layer, 200 if quick else 1000)
    finally:
        server.terminate()
        server.wait(timeout=10)
    return {"id": "P6", "scenario": "node state committed → WebSocket client: p50 (p95)", "unit": "ms",
            "nodeflow": statistics.median(latencies), "nodeflow_p95": percentile(latencies, 0.95),
            "baseline": statistics.median(baseline), "baseline_p95": percentile(baseline, 0.95),
            "target": "p95 ≤ 50 ms", "lower_is_better": True, "samples": len(latencies)}


class _Held:
    """A dispatcher that keeps what it is asked to send until `send(dispatcher)`."""

    after_commit = True

    def __init__(self):
        self.held = []

    def dispatch(self, execution_id, starts):
        self.held.append((execution_id, starts))

    def send(self, dispatcher):
        for execution_id, starts in self.held:
            dispatcher.dispatch(execution_id, starts)


async def _listen(websockets, url, start):
    latencies = []
    async with websockets.connect(url, origin="http://localhost") as client:
        await client.recv()  # the snapshot
        start()
        while True:
            frame = json.loads(await asyncio.wait_for(client.recv(), 60))
            received = time.time()
            for event in frame if isinstance(frame, list) else [frame]:
                latencies.append((received - datetime.fromisoformat(event["ts"]).timestamp()) * 1000)
                if event["type"] == "EXECUTION_COMPLETED":
                    return latencies


async def _bare_group_send(layer, count):
    channel = await layer.new_channel()
    await layer.group_add("bench.latency", channel)
    latencies = []
    for _ in range(count):
        await layer.group_send("bench.latency", {"type": "ping", "sent": time.time()})
        message = await layer.receive(channel)
        latencies.append((time.time() - message["sent"]) * 1000)
    await layer.group_discard("bench.latency", channel)
    return latencies


def p7_large(quick, worker_pid):
    """10,000 items through a code node and a merge; one execution of 10,000 nodes."""
    from executions.contexts import context_after
    from executions.models import Execution

    items = 2_000 if quick else 10_000
    document = doc([
        {"id": "start", "type": "trigger.manual"},
        # Ten seconds of wall time each, not the default one: the scenario is about volume, and
        # a loaded 2-core machine can take more than a second to pass 10,000 items through.
        {"id": "make", "type": "code.python", "params": {"limits": {"wall_ms": 10_000}, "code": (
            f"def run(ctx):\n    return [{{'id': i, 'name': 'item %d' % i}} for i in range({items})]\n")}},
        {"id": "score", "type": "code.python", "params": {"limits": {"wall_ms": 10_000}, "code": (
            "def run(ctx):\n    return [dict(x, score=x['id'] * 2) for x in ctx['nodes']['make']['output']]\n")}},
        {"id": "join", "type": "flow.merge", "params": {"shape": "merge_by_key", "key": "id"}},
    ], [{"from": "start", "to": "make"}, {"from": "make", "to": "score"}, {"from": "make", "to": "join"},
        {"from": "score", "to": "join"}])
    # On the workers, whose memory is what this measures (the API would run the 10,000 nodes' instant
    # part in the request that starts them).
    items_s, _ = run_nodeflow(document, here=False)
    width = 1_000 if quick else 10_000
    nodes_s, ids = run_nodeflow(fan_out_doc(width - 2), timeout=1800, here=False)
    execution = Execution.objects.get(pk=ids[0])
    started = time.perf_counter()
    context_after(execution)
    context_s = time.perf_counter() - started
    _, peak = rss_mb([worker_pid])
    return [
        p7_context_10k(),
        {"id": "P7/items", "scenario": f"{items} items through code nodes and a merge: wall time", "unit": "s",
         "nodeflow": items_s, "baseline": float("nan"), "target": "finishes", "lower_is_better": True},
        {"id": "P7/nodes", "scenario": f"one execution of {width} nodes (fan-out + merge): wall time", "unit": "s",
         "nodeflow": nodes_s, "baseline": float("nan"), "target": "finishes", "lower_is_better": True},
        {"id": "P7/context", "scenario": f"context after the last of {width} nodes, served", "unit": "s",
         "nodeflow": context_s, "baseline": float("nan"), "target": "≤ 1 s", "lower_is_better": True},
        {"id": "P7/rss", "scenario": "worker peak RSS (largest process) during P7", "unit": "MB",
         "nodeflow": peak, "baseline": float("nan"), "target": "≤ 300 MB", "lower_is_better": True},
    ]


def p7_context_10k():
    """The context after the last node of a 10,000-node execution, served from stored outputs.

    The execution's node runs are written straight to the database (every node completed,
    each with its own output), so this measures the read path alone, not 10,000 task hops."""
    from executions.contexts import context_after
    from executions.inline import InlineDispatcher
    from executions.starting import start_execution
    from executions.models import NodeRun

    execution = start_execution(fan_out_doc(9_998), dispatcher=InlineDispatcher())
    runs = list(NodeRun.objects.filter(execution=execution))
    for run in runs:
        run.status, run.output, run.ports = "completed", {"node": run.node_id, "value": len(run.node_id)}, ["main"]
    NodeRun.objects.bulk_update(runs, ["status", "output", "ports"], batch_size=2000)
    NodeRun.objects.filter(execution=execution, node_id="join").update(finish_seq=1)
    started = time.perf_counter()
    _, context = context_after(execution)
    seconds = time.perf_counter() - started
    assert len(context["nodes"]) == 10_000
    return {"id": "P7/context-10k", "scenario": "context after the last of 10,000 completed nodes, served",
            "unit": "s", "nodeflow": seconds, "baseline": float("nan"), "target": "≤ 1 s", "lower_is_better": True}


def p8_embedded(quick):
    """Embedded mode: start to a healthy /healthz, and idle memory."""
    data = tempfile.mkdtemp(prefix="nodeflow-bench-")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "NODEFLOW_BROKER_PREFIX",
                                                            "CELERY_RESULT_BACKEND")}
    env.update(NODEFLOW_DATA_DIR=data, DJANGO_SETTINGS_MODULE="nodeflow.settings")
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    port = free_port()
    started = time.perf_counter()
    server = subprocess.Popen([sys.executable, "manage.py", "nodeflow", "dev", "--port", str(port)], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                if urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).status == 200:
                    break
            except OSError:
                time.sleep(0.05)
        startup = time.perf_counter() - started
        time.sleep(3 if quick else 10)
        idle, _ = rss_mb([server.pid])
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)
    return [
        {"id": "P8/start", "scenario": "embedded mode: start to healthy /healthz (migrated database)", "unit": "s",
         "nodeflow": startup, "baseline": float("nan"), "target": "≤ 5 s", "lower_is_better": True},
        {"id": "P8/idle", "scenario": "embedded mode: idle RSS", "unit": "MB", "nodeflow": idle,
         "baseline": float("nan"), "target": "≤ 100 MB", "lower_is_better": True},
    ]


def p9_soak(quick, worker_pid):
    """Executions back to back: worker memory after the first tenth and at the end, and none lost."""
    total = 1_000 if quick else 10_000
    first = total // 10
    # On the workers, whose memory is what this measures (the API would run them in its requests).
    run_nodeflow(small_doc(), first, here=False)
    after_first, _ = rss_mb([worker_pid])
    seconds, _ = run_nodeflow(small_doc(), total - first, timeout=3600, here=False)
    after_all, _ = rss_mb([worker_pid])
    return [{"id": "P9", "scenario": f"soak: {total} executions; worker RSS at the end vs after {first}", "unit": "×",
             "nodeflow": after_all / after_first, "baseline": float("nan"), "target": "≤ 1.1×; zero lost",
             "lower_is_better": True, "rss_after_first_mb": after_first, "rss_after_all_mb": after_all,
             "lost": 0, "executions_per_s": (total - first) / seconds}]
