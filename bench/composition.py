"""P10, P11, P12 (PERFORMANCE.md): loops and sub-workflow calls, each beside its baseline in the same run.

P10 runs a flow.foreach over 10,000 items next to a Celery group of as many no-op tasks; P11 a
loop whose body calls a local HTTP server that answers in 100 ms, on a threads worker for the
`http` queue as the Procfile runs it (the benchmark's prefork worker stops consuming `http` for
the scenario), next to the ideal of `concurrency` calls per 100 ms; P12 a chain of sub-workflow
calls next to a chain of as many instant nodes."""

import http.server
import os
import subprocess
import sys
import threading
import time
import uuid

import redis
from celery import group
from django.conf import settings

from bench.support import ROOT, doc, rss_mb, wait_executions
from bench.tasks import mark
from nodeflow.celery import app


def _foreach_doc(items, body_nodes, body_edges, **params):
    graph = {"nodes": [{"id": "start", "type": "trigger.group"}, *body_nodes], "edges": body_edges}
    return doc([{"id": "start", "type": "trigger.manual"},
                {"id": "loop", "type": "flow.foreach", "params": {"items": items, "graph": graph, **params}},
                {"id": "done", "type": "flow.terminal", "params": {"result": "{{ nodes.loop.output }}"}}],
               [{"from": "start", "to": "loop"}, {"from": "loop", "to": "done"}])


def _run(document, owner=None, timeout=1800):
    from executions.models import Execution
    from executions.starting import start_execution
    from executions.tasks import dispatcher

    started = time.perf_counter()
    execution = start_execution(document, dispatcher=dispatcher, owner=owner)
    wait_executions([execution.pk], timeout)
    return time.perf_counter() - started, Execution.objects.get(pk=execution.pk)


def _baseline_group(count, timeout=600):
    """A Celery group of `count` tasks, each pushing a mark; the time until every mark arrived."""
    key = f"bench:{uuid.uuid4().hex}"
    client = redis.Redis.from_url(settings.REDIS_URL)
    started = time.perf_counter()
    group(mark.si(key=key) for _ in range(count)).apply_async()
    deadline = time.monotonic() + timeout
    while client.llen(key) < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"the group of {count} did not finish within {timeout} s")
        time.sleep(0.01)
    elapsed = time.perf_counter() - started
    client.delete(key)
    return elapsed


def p10_foreach(quick, ctx):
    items = 2_000 if quick else 10_000
    body = ([{"id": "set", "type": "data.set", "params": {"output": {"n": "{{ input.item * 2 }}"}}},
             {"id": "end", "type": "flow.terminal", "params": {"result": "{{ nodes.set.output.n }}"}}],
            [{"from": "start", "to": "set"}, {"from": "set", "to": "end"}])
    seconds, execution = _run(_foreach_doc(list(range(items)), *body, concurrency=32))
    in_order = execution.result == [i * 2 for i in range(items)]
    baseline = _baseline_group(items)
    _, peak = rss_mb([ctx.worker_pid])
    return [
        {"id": "P10", "scenario": f"flow.foreach over {items} items (trigger.group → data.set → terminal), "
         "concurrency 32: wall time", "unit": "s", "nodeflow": seconds, "baseline": baseline,
         "target": "finishes; ≤ 5× the group", "lower_is_better": True, "in_item_order": in_order,
         "ms_per_item": seconds / items * 1000},
        {"id": "P10/rss", "scenario": "worker peak RSS (largest process) during P10", "unit": "MB", "nodeflow": peak,
         "baseline": float("nan"), "target": "≤ 300 MB", "lower_is_better": True},
    ]


class _SlowServer:
    """A local HTTP server answering every request after `delay_s`, on threads."""

    def __init__(self, delay_s):
        delay = delay_s

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                time.sleep(delay)
                body = b'{"ok": true}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.request_queue_size = 128
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/item/"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def _threads_worker(env, concurrency):
    name = f"bench-http-{uuid.uuid4().hex[:6]}@%h"
    command = [sys.executable, "-m", "celery", "-A", "nodeflow", "worker", "-P", "threads", "-c", str(concurrency),
               "-Q", "http", "-n", name, "--without-gossip", "--without-mingle", "-l", "ERROR"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    hostname = name.replace("%h", os.uname().nodename)
    deadline = time.monotonic() + 30
    while not app.control.ping(destination=[hostname], timeout=0.5):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("the benchmark's http worker did not start")
    return process


def p11_io(quick, ctx):
    items, concurrency, delay = (400 if quick else 2_000), 20, 0.1
    server = _SlowServer(delay)
    env = {**ctx.env, "NODEFLOW_HTTP_ALLOW_NETWORKS": "127.0.0.1/32",
           "NODEFLOW_FOREACH_MAX_CONCURRENCY": str(max(concurrency, 64))}
    others = [name for reply in (app.control.ping(timeout=1) or []) for name in reply]
    app.control.cancel_consumer("http", destination=others, reply=True)  # the calls go to the threads pool only
    http_worker = _threads_worker(env, 32)
    try:
        body = ([{"id": "call", "type": "http.request", "params": {"method": "GET",
                                                                    "url": server.url + "{{ input.item }}"}},
                 {"id": "end", "type": "flow.terminal", "params": {"result": "{{ input.item }}"}}],
                [{"from": "start", "to": "call"}, {"from": "call", "to": "end"}])
        seconds, execution = _run(_foreach_doc(list(range(items)), *body, concurrency=concurrency))
        assert execution.result == list(range(items)), "P11: the results are not in item order"
    finally:
        os.killpg(http_worker.pid, 15)
        http_worker.wait(timeout=30)
        app.control.add_consumer("http", destination=others, reply=True)
        server.close()
    return {"id": "P11", "scenario": f"flow.foreach over {items} items calling a 100 ms HTTP server, concurrency "
            f"{concurrency} (http queue on 32 threads): items/s", "unit": "items/s", "nodeflow": items / seconds,
            "baseline": concurrency / delay, "target": "≥ 100 items/s", "lower_is_better": False}


def p12_subworkflow(quick, ctx):
    from django.contrib.auth import get_user_model

    from workflows.services import create_workflow

    calls = 20 if quick else 50
    user, _ = get_user_model().objects.get_or_create(username="bench")
    child = doc([{"id": "start", "type": "trigger.manual"},
                 {"id": "set", "type": "data.set", "params": {"output": {"n": "{{ input.n }}"}}},
                 {"id": "end", "type": "flow.terminal", "params": {"result": "{{ nodes.set.output.n }}"}}],
                [{"from": "start", "to": "set"}, {"from": "set", "to": "end"}])
    called, _ = create_workflow(user, f"bench child {uuid.uuid4().hex[:6]}", child)
    nodes = [{"id": "start", "type": "trigger.manual"}]
    nodes += [{"id": f"c{i}", "type": "flow.subworkflow",
               "params": {"workflow": str(called.pk), "version": "draft", "input": {"n": i}}} for i in range(calls)]
    edges = [{"from": a["id"], "to": b["id"]} for a, b in zip(nodes, nodes[1:])]
    caller_s = min(_run(doc(nodes, edges), owner=user)[0] for _ in range(2))
    instant = [{"id": "start", "type": "trigger.manual"}]
    instant += [{"id": f"c{i}", "type": "data.set", "params": {"output": {"n": i}}} for i in range(calls)]
    instant_s = min(_run(doc(instant, [{"from": a["id"], "to": b["id"]} for a, b in zip(instant, instant[1:])]),
                         owner=user)[0] for _ in range(2))
    return {"id": "P12", "scenario": f"a chain of {calls} flow.subworkflow calls (child: 3 instant nodes, waited "
            "for): ms per call", "unit": "ms/call", "nodeflow": caller_s / calls * 1000,
            "baseline": instant_s / calls * 1000, "target": "≤ 20 ms per call", "lower_is_better": True}
