"""P5: webhooks under load, against a real uvicorn server, next to a bare Django view on the same server.

20 concurrent clients post to a published `trigger.webhook → data.set → flow.terminal`
workflow in async mode, twice: first as fast as the server answers (a closed loop: 2,000
posts, 200 with --quick), which measures the highest accepted rate; then at 500 posts/s in
all (an open loop: 5,000 posts, 1,000 with --quick), which measures the time to the 202 at
the load the target names. A closed loop cannot measure that: its 20 clients each wait
for an answer before posting again, so at any rate R they wait 20 ÷ R on average
(Little's law: 20 ms at 1,000/s), whatever the server spends per request. Every 202 must
have exactly one execution, and every execution must succeed; the webhook → execution
finished time is reported for both runs. The baseline is the same client against
`/bench/noop`, an async Django view that does nothing, served by the same server process
(same middleware), in the same two ways.

Run it alone with `python manage.py nodeflow bench [--quick] --only P5`. The server, the
published hook and the client are also what bench/n8n/peer.py measures NodeFlow with."""

import collections
import contextlib
import gc
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

from django.http import JsonResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

from bench.support import ROOT, cpu_ticks, environment, free_port, percentile, stolen_share, wait_http

CLIENTS = 20
SERVER_WORKERS = 2
RATE = 500  # posts/s in all: P5's target rate, at which it also measures the latency


@csrf_exempt
async def noop(request):
    """The baseline: a Django view that does nothing."""
    return JsonResponse({"execution_id": None}, status=202)


def __getattr__(name):
    # The bench server's URLconf (ROOT_URLCONF = this module): the baseline next to everything
    # NodeFlow serves. Built on first use: uvicorn imports this module before Django is set up.
    if name == "urlpatterns":
        return [path("bench/noop", noop), path("", include("nodeflow.urls"))]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def server_application():
    """uvicorn --factory bench.webhooks:server_application: NodeFlow's ASGI app with the baseline view added."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nodeflow.settings")
    from nodeflow.asgi import application
    from django.conf import settings

    settings.ROOT_URLCONF = __name__  # read on the first request
    return application


def p5_webhooks(quick):
    from django.contrib.auth import get_user_model

    from executions.models import Execution

    count, paced = (200, 1000) if quick else (2000, 5000)
    user, _ = get_user_model().objects.get_or_create(username="bench")
    warm_token, _ = published_hook(user)
    token, workflow = published_hook(user)
    timeout = 300 if quick else 1200
    with nodeflow_server() as port:
        warm = post_all(port, f"/hooks/{warm_token}", CLIENTS * 4)  # every connection, thread and worker warmed up
        post_all(port, "/bench/noop", CLIENTS * 4)
        wait_finished(Execution, _accepted_ids(warm, CLIENTS * 4), timeout)
        baseline = post_all(port, "/bench/noop", count)
        hooks = post_all(port, f"/hooks/{token}", count)
        finished = wait_finished(Execution, _accepted_ids(hooks, count), timeout)
        # Then at the target's rate, with the workers idle again.
        baseline_paced = post_at_rate(port, "/bench/noop", paced, RATE)
        hooks_paced = post_at_rate(port, f"/hooks/{token}", paced, RATE)
        finished_paced = wait_finished(Execution, _accepted_ids(hooks_paced, paced), timeout)
    executions = Execution.objects.filter(workflow=workflow).count()
    if executions != count + paced:
        raise RuntimeError(f"P5: {count + paced} webhooks accepted but the workflow has {executions} executions")
    to_202, base_202 = hooks.latencies_ms(), baseline.latencies_ms()
    paced_202, base_paced_202 = hooks_paced.latencies_ms(), baseline_paced.latencies_ms()
    to_finish, paced_finish = _to_finish(hooks, finished), _to_finish(hooks_paced, finished_paced)
    return [
        {"id": "P5/accepted", "scenario": f"webhook, async mode, {CLIENTS} clients, {count} posts: accepted/s",
         "unit": "req/s", "nodeflow": count / hooks.seconds, "baseline": count / baseline.seconds,
         "target": "≥ 500 accepted/s", "lower_is_better": False, "executions": executions, "all_succeeded": True},
        {"id": "P5/to-202", "scenario": "the same, at the server's highest rate (closed loop): time to 202, p50 (p99)",
         "unit": "ms", **_latencies(to_202, base_202),
         "target": f"— (a closed loop's mean is {CLIENTS} clients ÷ the rate)", "lower_is_better": True},
        {"id": f"P5/to-202@{RATE}",
         "scenario": f"webhook, async mode, {CLIENTS} clients posting {RATE}/s in all, {paced} posts (open loop): "
                     "time to 202 from when each post was due, p50 (p99)",
         "unit": "ms", **_latencies(paced_202, base_paced_202),
         "target": "p50 ≤ 10 ms, p99 ≤ 50 ms", "lower_is_better": True,
         "offered_per_s": RATE, "sent_per_s": paced / hooks_paced.seconds,
         "client_late_p99_ms": percentile([sample["late_ms"] for sample in hooks_paced.samples], 0.99),
         "steal_pct": _percent(hooks_paced.stolen), "baseline_steal_pct": _percent(baseline_paced.stolen)},
        {"id": "P5/to-finished", "scenario": "webhook → execution finished at the highest rate, p50 (p95)",
         "unit": "ms", "nodeflow": statistics.median(to_finish), "nodeflow_p95": percentile(to_finish, 0.95),
         "baseline": float("nan"), "baseline_p95": float("nan"), "target": "—", "lower_is_better": True},
        {"id": f"P5/to-finished@{RATE}", "scenario": f"webhook → execution finished at {RATE}/s, p50 (p95)",
         "unit": "ms", "nodeflow": statistics.median(paced_finish), "nodeflow_p95": percentile(paced_finish, 0.95),
         "baseline": float("nan"), "baseline_p95": float("nan"), "target": "—", "lower_is_better": True},
    ]


def _percent(share):
    return None if share is None else round(share * 100, 1)


def _accepted_ids(run, count):
    """The execution ids of a run's answers; an error unless each of its `count` posts got a 202 of its own."""
    statuses = run.statuses()
    if statuses != {202: count}:
        raise RuntimeError(f"P5: not every webhook was accepted: {statuses}")
    ids = [sample["execution_id"] for sample in run.samples]
    if len(set(ids)) != count:
        raise RuntimeError(f"P5: {count - len(set(ids))} answers repeated an execution id")
    return ids


def _latencies(nodeflow, baseline):
    return {"nodeflow": statistics.median(nodeflow), "nodeflow_p99": percentile(nodeflow, 0.99),
            "nodeflow_p95": percentile(nodeflow, 0.95), "baseline": statistics.median(baseline),
            "baseline_p99": percentile(baseline, 0.99), "baseline_p95": percentile(baseline, 0.95)}


def _to_finish(run, finished):
    """Per post, ms from its sending to its execution's end."""
    sent_at = {sample["execution_id"]: sample["sent_at"] for sample in run.samples}
    return [(finished_at.timestamp() - sent_at[str(pk)]) * 1000 for pk, finished_at in finished.items()]


def webhook_set_doc(response="async"):
    """P5's workflow: trigger.webhook → data.set → flow.terminal."""
    return {
        "api_version": "nodeflow/v1", "name": "bench webhook",
        "nodes": [{"id": "hook", "type": "trigger.webhook", "params": {"response": response}},
                  {"id": "set", "type": "data.set", "params": {"vars": {"n": "{{ input.body.n }}"}}},
                  {"id": "done", "type": "flow.terminal", "params": {"result": "{{ vars.n }}"}}],
        "edges": [{"from": "hook", "to": "set"}, {"from": "set", "to": "done"}],
    }


def published_hook(user, document=None):
    """(token, workflow) of `document` (P5's workflow when None) created and published by `user`."""
    from triggers.models import WebhookEndpoint
    from workflows.services import create_workflow, publish_workflow

    workflow, errors = create_workflow(user, None, document or webhook_set_doc())
    if errors:
        raise RuntimeError(f"the bench workflow is invalid: {errors}")
    publish_workflow(workflow, user)
    return WebhookEndpoint.objects.get(workflow=workflow).token, workflow


@contextlib.contextmanager
def nodeflow_server():
    """NodeFlow's ASGI app (plus /bench/noop) served by uvicorn as P5 runs it, for the block; yields its port."""
    port = free_port()
    log = tempfile.NamedTemporaryFile(prefix="nodeflow-bench-server-", suffix=".log", delete=False)
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "bench.webhooks:server_application", "--port", str(port),
         "--workers", str(SERVER_WORKERS), "--log-level", "warning", "--no-access-log"],
        cwd=ROOT, env=_server_environment(), stdout=log, stderr=subprocess.STDOUT)
    try:
        try:
            wait_http(f"http://127.0.0.1:{port}/bench/noop")
        except OSError:
            raise RuntimeError(f"the bench's NodeFlow server did not start; its log: {log.name}") from None
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)


def _server_environment():
    from nodeflow.celery import app

    prefix = (app.conf.broker_transport_options or {}).get("global_keyprefix", "")
    env = environment(prefix)
    # No rate limit: one URL takes the whole load. The server logs warnings only, like the workers.
    # Django under ASGI runs each request's sync code in a thread of its own, so a persistent
    # connection is never reused (Django's docs: disable them under ASGI, or pool): the web
    # process borrows connections from a pool, as the Procfile's does.
    env.update(NODEFLOW_WEBHOOK_RATE_LIMIT_PER_MIN="0", LOG_LEVEL="WARNING", DATABASE_POOL_SIZE="20")
    return env


class _Run:
    """What one load run measured: per request its status, answer, execution id, send time and latency; and the
    share of the machine's CPU its hypervisor took meanwhile (`stolen`, stolen_share)."""

    def __init__(self, samples, seconds, stolen=None):
        self.samples, self.seconds, self.stolen = samples, seconds, stolen

    def latencies_ms(self):
        return [sample["latency_ms"] for sample in self.samples]

    def statuses(self):
        """{HTTP status: how many answers had it}."""
        return dict(collections.Counter(sample["status"] for sample in self.samples))


def post_all(port, url, count, clients=CLIENTS):
    """Post `count` bodies {"n": number} to `url` from `clients` threads, each on its own keep-alive connection,
    each sending its next post when its last one is answered: a closed loop, which finds the server's highest
    rate; each latency is then about `clients` ÷ that rate, whatever the server does per request."""
    remaining = iter(range(count))
    lock = threading.Lock()

    def posts(_client):
        while True:
            with lock:
                number = next(remaining, None)
            if number is None:
                return
            yield number, None

    return _load(port, url, clients, posts)


def post_at_rate(port, url, count, rate, clients=CLIENTS):
    """Post `count` bodies to `url` at `rate` posts/s in all, from `clients` threads on keep-alive connections:
    an open loop, which measures latency at a given load rather than at the server's limit.

    Post n is due at start + n / rate and sent by client n % clients when due (or as soon as that client's
    previous post is answered, if later). Its latency runs from when it was due: a server that stalls is
    charged for every post it held up, not only for the one it was answering (the "coordinated omission"
    of a client that waits and then measures its late posts from when it sent them). Each sample also has
    `late_ms`, how late the client sent it: the client's own share of that latency."""
    start = time.perf_counter() + 0.05  # every thread started before the first post is due

    def posts(client):
        for number in range(client, count, clients):
            due = start + number / rate
            time.sleep(max(0.0, due - time.perf_counter()))
            yield number, due

    return _load(port, url, clients, posts)


def _load(port, url, clients, posts):
    """Run `clients` threads, each on its own keep-alive connection, posting {"n": number} to `url` for each
    (number, due) of `posts(client)`: `due` is when the post was due (perf_counter), None for "now"."""
    lock = threading.Lock()
    samples, errors = [], []

    def client(index):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            for number, due in posts(index):
                body = json.dumps({"n": number})
                sent_at, started = time.time(), time.perf_counter()
                connection.request("POST", url, body, {"Content-Type": "application/json"})
                response = connection.getresponse()
                answer = response.read()
                answered = time.perf_counter()
                execution_id = json.loads(answer).get("execution_id") if response.status == 202 else None
                with lock:
                    samples.append({"status": response.status, "execution_id": execution_id, "sent_at": sent_at,
                                    "latency_ms": (answered - (started if due is None else due)) * 1000,
                                    "late_ms": 0.0 if due is None else max(0.0, started - due) * 1000,
                                    "number": number, "answer": answer})
        except Exception as exc:  # noqa: BLE001 - reported after the run
            errors.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(index,)) for index in range(clients)]
    with _collector_paused():
        ticks = cpu_ticks()
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"{len(errors)} bench clients failed against {url}: {errors[:3]}")
    return _Run(samples, seconds, stolen_share(ticks, cpu_ticks()))


@contextlib.contextmanager
def _collector_paused():
    """No garbage collection in this process while its clients post: a full collection of the bench's own
    objects (Django's, the samples of earlier runs) took 60–110 ms here, holding every client thread, and
    each post then waiting on the client was charged to the server as time to its 202."""
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.unfreeze()


def wait_finished(Execution, ids, timeout):
    """{execution id: finished_at} once all executions are finished; an error unless all succeeded.

    The webhook door answers 202 before the execution exists (a worker creates it from the
    accepted row): a missing execution is waited for like an unfinished one."""
    deadline = time.monotonic() + timeout
    while True:
        rows = Execution.objects.filter(pk__in=ids).values_list("pk", "status", "finished_at")
        unfinished = [pk for pk, status, _ in rows if status not in ("succeeded", "failed", "cancelled", "timed_out")]
        if len(rows) != len(ids) and time.monotonic() > deadline:
            raise RuntimeError(f"{len(ids) - len(rows)} accepted webhooks have no execution after {timeout} s")
        if not unfinished and len(rows) == len(ids):
            failed = [pk for pk, status, _ in rows if status != "succeeded"]
            if failed:
                raise RuntimeError(f"{len(failed)} webhook executions did not succeed, e.g. {failed[0]}")
            return {pk: finished_at for pk, _, finished_at in rows}
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(unfinished)} webhook executions unfinished after {timeout} s")
        time.sleep(0.2)
