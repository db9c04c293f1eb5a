"""Fault-injection experiments (issue 19) on real processes: Celery workers, a uvicorn web server, and a
private Redis or PostgreSQL where an experiment kills or restarts one.

Every process a test starts is a `Deployment`'s: the workers, the web server, and the starter
(tests/chaos/starter.py, a subprocess that starts executions with the deployment's database and
broker: the test process's own Celery app is bound to the suite's Redis). All of them run with
the recovery settings lowered (RECOVERY_ENV), so an experiment recovers in seconds; the bound
each test asserts is the issue's, two minutes after the fault ends. The test process only
watches the database and reads what the local HTTP server (`CallCounter`) was asked."""

import glob
import http.server
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from engine.states import EXECUTION_FINAL
from tests.conftest import ROOT, WorkerProcess, service_env

# Recovery as fast as these settings allow, in every process of a deployment (the starter and the
# web compute a queued run's due time too): a run queued 3 s without a claim is sent again, a timer
# fires from the database 1 s past due, every worker looks every second, a lease lasts 3 s.
RECOVERY_ENV = {
    "NODEFLOW_RECOVER_QUEUED_AFTER_S": "3",
    "NODEFLOW_RECOVER_TIMER_GRACE_S": "1",
    "NODEFLOW_REAPER_INTERVAL_S": "1",
    "NODEFLOW_NODE_LEASE_S": "3",
    "NODEFLOW_WEBHOOK_RATE_LIMIT_PER_MIN": "0",
    "NODEFLOW_THROTTLE_RUN": "none",
    "LOG_LEVEL": "WARNING",
}
# More settings for every process, as JSON: a control run with recovery turned off, e.g.
# NODEFLOW_CHAOS_ENV='{"NODEFLOW_RECOVER_QUEUED_AFTER_S": "86400", "NODEFLOW_RECOVER_TIMER_GRACE_S": "86400"}',
# shows each experiment fail.
RECOVERY_ENV.update(json.loads(os.environ.get("NODEFLOW_CHAOS_ENV") or "{}"))
# The bound: every execution succeeded within two minutes of the fault's end.
BOUND_S = float(os.environ.get("NODEFLOW_CHAOS_BOUND_S") or 120)
ARTIFACTS = Path(os.environ.get("NODEFLOW_TEST_ARTIFACTS", ROOT / "test-artifacts")) / "chaos"
LOST = ("worker_lost", "result_not_recorded")


def free_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# The services an experiment restarts.

class RedisServer:
    """A private redis-server without persistence (`--save "" --appendonly no`): killed, it comes back empty."""

    def __init__(self, directory):
        self.directory = Path(directory)
        self.port = free_port()
        self.process = None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout=10):
        import redis

        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                   "--appendonly", "no", "--dir", str(self.directory), "--logfile", str(self.directory / "redis.log")]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        deadline = time.monotonic() + timeout
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server did not start; log: {self.directory / 'redis.log'}")
                time.sleep(0.05)
        assert client.dbsize() == 0, "a Redis without persistence starts empty"
        client.close()
        return self

    def kill(self):
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()


class PostgresCluster:
    """A private PostgreSQL cluster in a temp dir, run by the `postgres` OS user (initdb refuses root)."""

    def __init__(self, directory):
        self.directory = Path(directory)
        versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
        if not versions:
            raise RuntimeError("no PostgreSQL server binaries under /usr/lib/postgresql/*/bin")
        self.bin = Path(versions[-1]).parent
        self.data = self.directory / "data"
        self.port = free_port()
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/nodeflow"
        self.started = False

    def _as_postgres(self, *command):
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run(prefix + [str(self.bin / command[0]), *command[1:]], check=True, capture_output=True, timeout=60)

    def create(self):
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres")
        self._as_postgres("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        self.start()
        self._as_postgres("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "nodeflow")
        env = service_env(DATABASE_URL=self.url)
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=120)
        return self

    def start(self):
        self._as_postgres("pg_ctl", "-D", str(self.data), "-l", str(self.directory / "postgres.log"), "-w",
                          "-o", f"-p {self.port} -h 127.0.0.1 -k {self.directory} -c fsync=off", "start")
        self.started = True

    def stop(self, mode="fast"):
        self._as_postgres("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")
        self.started = False

    def close(self):
        if self.started:
            self.stop("immediate")


# The receiver of the HTTP nodes.

class CallCounter:
    """A local HTTP server that answers every request after `delay_s` and counts them per path
    (`/<execution id>/<node id>`), keeping the Idempotency-Key each one sent."""

    def __init__(self, delay_s=0.2):
        self.delay_s = delay_s
        self.calls = Counter()
        self.keys = defaultdict(set)
        self.lock = threading.Lock()
        counter = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with counter.lock:
                    counter.calls[self.path] += 1
                    counter.keys[self.path].add(self.headers.get("Idempotency-Key"))
                time.sleep(counter.delay_s)
                body = json.dumps({"path": self.path}).encode()
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the caller's worker was killed mid-call: the call counts all the same

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, node_id):
        """The URL an HTTP node posts to: the execution and node are in its path."""
        return f"http://127.0.0.1:{self.server.server_address[1]}/{{{{ execution.id }}}}/{node_id}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


# NodeFlow's processes.

class ChaosWorker(WorkerProcess):
    """A worker of a deployment: its readiness is asked of its own broker, which may be a private
    Redis or prefix the test process's Celery app does not reach."""

    @contextmanager
    def control_app(self):
        from celery import Celery

        env = service_env(**self.env)
        app = Celery("chaos-control", broker=env["REDIS_URL"], set_as_current=False)
        app.conf.broker_transport_options = {"global_keyprefix": env.get("NODEFLOW_BROKER_PREFIX", "")}
        try:
            yield app
        finally:
            app.close()


class Deployment:
    """The NodeFlow processes of one experiment, on one environment: workers, a web server, the starter."""

    def __init__(self, **env):
        # A broker prefix of its own: no other worker of the suite takes this deployment's messages.
        self.env = {**RECOVERY_ENV, "NODEFLOW_BROKER_PREFIX": f"nodeflow-chaos-{uuid.uuid4().hex[:8]}:", **env}
        self.workers = []
        self.servers = []

    def worker(self, concurrency=2):
        worker = ChaosWorker(concurrency=concurrency, env=self.env)
        self.workers.append(worker)
        return worker.start(timeout=60)

    def kill_workers(self):
        """SIGKILL every worker: main processes and pool children."""
        for worker in self.workers:
            worker.kill()

    def web(self):
        """A real uvicorn process serving nodeflow.asgi, with a connection pool as in the Procfile; its base URL."""
        port = free_port()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        log_path = ARTIFACTS / f"web-{port}.log"
        with open(log_path, "wb") as log:
            server = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "nodeflow.asgi:application", "--port", str(port),
                 "--log-level", "warning", "--no-access-log", "--no-proxy-headers"],
                cwd=ROOT, env=service_env(DATABASE_POOL_SIZE="20", **self.env), stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)
        self.servers.append(server)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(f"{base}/healthz", timeout=2)
                return base
            except requests.RequestException:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the web server did not start; log: {log_path}") from None
                time.sleep(0.1)

    def ask(self, action, **command):
        """One command of tests/chaos/starter.py, run with this deployment's environment."""
        done = subprocess.run([sys.executable, "-m", "tests.chaos.starter"], cwd=ROOT, env=service_env(**self.env),
                              input=json.dumps({"action": action, **command}), capture_output=True, text=True,
                              timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"the starter failed ({done.returncode}): {done.stderr[-3000:]}")
        return json.loads(done.stdout.strip().splitlines()[-1])

    def start(self, document, count):
        """Start `count` executions of `document`; their ids."""
        return self.ask("start", document=document, count=count)["ids"]

    def kill_web(self):
        """SIGKILL every web server of the deployment."""
        for server in self.servers:
            if server.poll() is None:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()

    def close(self):
        for worker in self.workers:
            worker.kill()
        for server in self.servers:
            if server.poll() is None:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()


@pytest.fixture
def suite_worker_stopped(request):
    """The suite's session worker (tests/conftest.py) shares the test database: its reaper would
    recover this experiment's runs while the experiment's own workers are down. It is stopped
    (celery_worker starts it again for the tests that use it)."""
    request.getfixturevalue("_session_worker").stop()


@pytest.fixture
def deployment(transactional_db, suite_worker_stopped):
    """A deployment on the test database and the suite's Redis (under a prefix of its own)."""
    deployment = Deployment()
    try:
        yield deployment
    finally:
        deployment.close()


@pytest.fixture
def counter():
    counter = CallCounter()
    try:
        yield counter
    finally:
        counter.close()


@pytest.fixture
def private_dir():
    directory = Path(tempfile.mkdtemp(prefix="nodeflow-chaos-"))
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


# Documents.

def document(nodes, edges):
    from workflows.services import with_node_versions

    # A name of its own: compiled workflows are cached per process by their content.
    return with_node_versions({"api_version": "nodeflow/v1", "name": f"chaos {uuid.uuid4().hex[:8]}",
                               "nodes": nodes, "edges": edges})


def http_node(node_id, counter):
    return {"id": node_id, "type": "http.request",
            "params": {"method": "POST", "url": counter.url(node_id), "body": {"execution": "{{ execution.id }}"},
                       "idempotency_key": True}}


def chain_and_fan_out(counter, sleep_s=0.5):
    """start → a (sleep) → {h1, h2 (HTTP), s (sleep)} → join → done: a chain, then a fan-out and its join."""
    nodes = [
        {"id": "start", "type": "trigger.manual"},
        {"id": "a", "type": "test.sleep", "params": {"seconds": sleep_s}},
        http_node("h1", counter),
        http_node("h2", counter),
        {"id": "s", "type": "test.sleep", "params": {"seconds": sleep_s}},
        {"id": "join", "type": "flow.merge"},
        {"id": "done", "type": "flow.terminal", "params": {"result": "{{ input.n }}"}},
    ]
    edges = [{"from": "start", "to": "a"}] + [{"from": "a", "to": n} for n in ("h1", "h2", "s")]
    edges += [{"from": n, "to": "join"} for n in ("h1", "h2", "s")] + [{"from": "join", "to": "done"}]
    return document(nodes, edges)


def wait_document(counter, seconds):
    """start → wait (flow.wait `seconds`) → h (HTTP) → done."""
    return document(
        [{"id": "start", "type": "trigger.manual"},
         {"id": "wait", "type": "flow.wait", "params": {"seconds": seconds}},
         http_node("h", counter),
         {"id": "done", "type": "flow.terminal", "params": {"result": "{{ nodes.wait.output }}"}}],
        [{"from": "start", "to": "wait"}, {"from": "wait", "to": "h"}, {"from": "h", "to": "done"}])


def hook_document(counter):
    """hook (async webhook) → set → h (HTTP) → done."""
    return document(
        [{"id": "hook", "type": "trigger.webhook", "params": {"response": "async"}},
         {"id": "set", "type": "data.set", "params": {"vars": {"n": "{{ input.body.n }}"}}},
         http_node("h", counter),
         {"id": "done", "type": "flow.terminal", "params": {"result": "{{ vars.n }}"}}],
        [{"from": "hook", "to": "set"}, {"from": "set", "to": "h"}, {"from": "h", "to": "done"}])


# What the experiments watch.

NODES = ("start", "a", "h1", "h2", "s", "join", "done")
HTTP_NODES = ("h1", "h2")


def running_on(ids, hostname=None, using="default"):
    """How many node runs that take a while (sleeps, HTTP calls) of these executions are running (on `hostname`)."""
    from executions.models import NodeRun

    runs = NodeRun.objects.using(using).filter(execution_id__in=ids, status="running",
                                               node_id__in=("a", "h1", "h2", "s", "h"))
    return runs.filter(worker=hostname).count() if hostname else runs.count()


def hostname_of(worker):
    return worker.name.replace("%h", os.uname().nodename)


def held_messages(deployment):
    """Messages the broker handed to a worker and holds unacknowledged (kombu's `unacked` hash)."""
    import redis

    client = redis.Redis.from_url(service_env(**deployment.env)["REDIS_URL"])
    try:
        return client.hlen(f"{deployment.env['NODEFLOW_BROKER_PREFIX']}unacked")
    finally:
        client.close()


# What every experiment checks.

def wait_all_succeeded(ids, *, since, bound_s=BOUND_S, using="default"):
    """Wait until every execution is finished; seconds from `since` (the fault's end, a monotonic
    time) to the last one. Fails when one did not succeed, or when any is unfinished (or, for a
    webhook the door accepted, not yet created) at the bound."""
    from executions.models import Execution

    while True:
        statuses = dict(Execution.objects.using(using).filter(pk__in=ids).values_list("pk", "status"))
        missing = len(set(ids)) - len(statuses)
        unfinished = [pk for pk, status in statuses.items() if status not in EXECUTION_FINAL]
        if missing and time.monotonic() - since > bound_s:
            raise AssertionError(f"{missing} executions have no row {bound_s} s after the fault ended")
        if not unfinished and not missing:
            elapsed = time.monotonic() - since
            failed = {str(pk): status for pk, status in statuses.items() if status != "succeeded"}
            assert not failed, f"executions that did not succeed: {failed}; {_describe(list(failed), using)}"
            return elapsed
        if time.monotonic() - since > bound_s:
            raise AssertionError(f"{len(unfinished)} of {len(ids)} executions unfinished {bound_s} s after the fault "
                                 f"ended: {_describe(unfinished, using)}")
        time.sleep(0.2)


def _describe(ids, using):
    """The node runs of some executions that are not completed, for a failure message."""
    from executions.models import NodeRun

    runs = (NodeRun.objects.using(using).filter(execution_id__in=ids[:5]).exclude(status="completed")
            .values_list("execution_id", "node_id", "status", "due_at", "attempt", "error"))
    return [f"{str(e)[:8]} {node} {status} due_at={due_at} attempt={attempt} error={error}"
            for e, node, status, due_at, attempt, error in runs]


def assert_each_node_completed_once(ids, node_ids, using="default"):
    """No node that completed ran twice: exactly one NODE_STATE_CHANGED `completed` per node of each execution."""
    from executions.models import ExecutionEvent

    events = ExecutionEvent.objects.using(using).filter(execution_id__in=ids, type="NODE_STATE_CHANGED",
                                                        data__status="completed")
    completions = Counter(events.values_list("execution_id", "node_id"))
    expected = {(uuid.UUID(str(pk)), node_id) for pk in ids for node_id in node_ids}
    missing = expected - set(completions)
    twice = {(str(pk), node): n for (pk, node), n in completions.items() if n != 1}
    assert not missing and not twice, f"not completed: {sorted(missing)[:5]}; completed more than once: {twice}"


def assert_http_called_once_unless_lost(ids, http_node_ids, counter, using="default"):
    """An HTTP node whose run was never lost (worker_lost, result_not_recorded) was called exactly once;
    one that was lost, at most once more per loss. Every call of a node carried one Idempotency-Key."""
    from executions.models import NodeRun

    runs = NodeRun.objects.using(using).filter(execution_id__in=ids, node_id__in=http_node_ids)
    wrong, repeated = [], 0
    for execution_id, node_id, attempts in runs.values_list("execution_id", "node_id", "attempts"):
        path = f"/{execution_id}/{node_id}"
        lost = sum(1 for attempt in attempts or [] if (attempt.get("error") or {}).get("code") in LOST)
        calls = counter.calls[path]
        repeated += calls - 1
        if not (calls == 1 if lost == 0 else 1 <= calls <= lost + 1) or len(counter.keys[path]) != 1:
            wrong.append((path, {"calls": calls, "lost": lost, "keys": len(counter.keys[path])}))
    assert len(runs) == len(ids) * len(http_node_ids)
    assert not wrong, f"HTTP nodes called more often than they were lost: {wrong[:10]}"
    return repeated


def lost_runs(ids, using="default"):
    """How many node runs were run again after a loss (worker_lost or result_not_recorded), by code."""
    from executions.models import NodeRun

    codes = Counter()
    for attempts in NodeRun.objects.using(using).filter(execution_id__in=ids).values_list("attempts", flat=True):
        for attempt in attempts or []:
            code = (attempt.get("error") or {}).get("code")
            if code in LOST:
                codes[code] += 1
    return dict(codes)


def wait_until(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout} s"
        time.sleep(0.05)


def report(experiment, **measures):
    """Keep an experiment's measures in test-artifacts/chaos/results.jsonl (and print them, for -s)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    line = json.dumps({"experiment": experiment, "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **measures})
    with open(ARTIFACTS / "results.jsonl", "a") as results:
        results.write(line + "\n")
    print(line)
