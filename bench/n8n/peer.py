"""N8N: n8n measured beside NodeFlow on the same machine, with the same client, in the same run.

Optional. NODEFLOW_BENCH_N8N_DIR names a directory where n8n is installed
(`bench/n8n/install.sh DIR`); without it, or without n8n in it, the step says why and
skips, and so it does when n8n does not start (with n8n's error). Otherwise it

1. creates a database of n8n's own for the run on NodeFlow's PostgreSQL server
   (`n8n_bench_<random>`, dropped at the end: every run starts from an empty n8n, which its
   first command migrates in a few seconds);
2. imports three workflows with `n8n import:workflow` and activates each with
   `n8n update:workflow --id=ID --active=true`:
   Webhook → Set, whose webhook answers at once (responseMode onReceived), and Webhook → 40 Set
   and Webhook → 40 Code (fibo(10) in JavaScript), whose webhooks answer with the last node's
   output (responseMode lastNode);
3. starts `n8n start`: one main process, regular execution mode, its defaults otherwise (it
   stores each execution once, at its end), with expressions on the legacy engine and Code
   nodes in-process (N8N_RUNNERS_ENABLED=false: its task runner's isolated-vm does not build on
   Node.js 20); and NodeFlow's server as P5 runs it, with the same shapes published: P5's
   webhook → data.set → flow.terminal (async), and sync webhooks → 40 data.set or 40 code.python
   → flow.terminal;
4. measures both with bench/webhooks.py's client: accepted/s with 20 clients, then the time to
   the last of those executions finished (every execution checked on both sides); then ms per
   node of the two chains, one request at a time, the two products taking turns. Each answer is
   checked (the chain of Set nodes answers {"n": n + 39}, the chain of code nodes {"n": 55}).

Rows put NodeFlow's figure in "nodeflow" and n8n's in "baseline": the ratio is NodeFlow / n8n."""

import contextlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import psycopg
from django.db import connection
from psycopg import sql

from bench.support import fibo_code, free_port
from bench.webhooks import (CLIENTS, SERVER_WORKERS, nodeflow_server, post_all, published_hook, wait_finished,
                            webhook_set_doc)

DIR_VARIABLE = "NODEFLOW_BENCH_N8N_DIR"
CHAIN = 40
FIBO_JS = ("function fibo(n) {\n  return n <= 1 ? n : fibo(n - 1) + fibo(n - 2);\n}\n"
           "return [{ json: { n: fibo(10) } }];\n")
WARM_TURNS = 2 * SERVER_WORKERS  # requests to each product before the chains are measured
# n8n's workflow ids are 16 characters.
WORKFLOW_IDS = {"set": "NodeFlowBenchSet", "set40": "NodeFlowBenchS40", "code40": "NodeFlowBenchC40"}
FINAL_STATUSES = ("success", "error", "crashed", "canceled")


class N8nUnavailable(RuntimeError):
    """n8n could not be prepared or started here: the step is skipped with this message."""


def n8n_peer(quick, note):
    executable, why = find_n8n()
    if why:
        note(f"N8N: skipped: {why}")
        return []
    database = f"n8n_bench_{uuid.uuid4().hex[:8]}"
    folder = tempfile.mkdtemp(prefix="nodeflow-bench-n8n-")
    n8n = N8n(executable, database, folder)
    try:
        n8n.prepare()
        note(f"N8N: n8n {n8n.version} from {executable.parent.parent.parent}, log {n8n.log_path}")
        with n8n.running(), nodeflow_server() as port:
            return _measure(quick, port, n8n)
    except N8nUnavailable as exc:
        note(f"N8N: skipped: {exc}")
        return []
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        try:
            n8n.drop_database()
        except psycopg.Error as exc:
            note(f"N8N: n8n's database {database} could not be dropped: {exc}")


def find_n8n():
    """(the n8n executable, None), or (None, why the step is skipped)."""
    directory = os.environ.get(DIR_VARIABLE)
    if not directory:
        return None, (f"{DIR_VARIABLE} is not set; install n8n with `bench/n8n/install.sh DIR` "
                      f"and set {DIR_VARIABLE}=DIR")
    executable = Path(directory).resolve() / "node_modules" / ".bin" / "n8n"
    if not executable.exists():
        return None, f"no n8n in {DIR_VARIABLE}={directory} ({executable} is missing; bench/n8n/install.sh {directory})"
    if not shutil.which("node"):
        return None, "n8n needs Node.js (node) on PATH"
    return executable, None


class N8n:
    """One n8n install, run headless on a port of its own against a database of its own."""

    def __init__(self, executable, database, folder):
        self.executable = executable
        self.database = database
        self.port = free_port()
        self.folder = Path(folder)
        self.log_path = tempfile.NamedTemporaryFile(prefix="nodeflow-bench-n8n-", suffix=".log", delete=False).name
        self.env = _environment(self.port, database, folder)
        self.version = None
        self.created = False

    def prepare(self):
        """The database, the workflows imported and activated: what must be done before `n8n start`."""
        self.version = self._cli("--version").strip().splitlines()[-1]
        try:
            with _connect(connection.settings_dict["NAME"]) as conn:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.database)))
        except psycopg.Error as exc:
            raise N8nUnavailable(f"n8n's database {self.database} could not be created: {exc}") from None
        self.created = True
        path = self.folder / "workflows.json"
        path.write_text(json.dumps(n8n_workflows(), indent=1))
        self._cli("import:workflow", f"--input={path}")
        for workflow_id in WORKFLOW_IDS.values():
            self._cli("update:workflow", f"--id={workflow_id}", "--active=true")

    @contextlib.contextmanager
    def running(self):
        """`n8n start` for the block, once every webhook answers; stopped after it."""
        with open(self.log_path, "ab") as log:
            process = subprocess.Popen([str(self.executable), "start"], cwd=self.folder, env=self.env, stdout=log,
                                       stderr=subprocess.STDOUT, start_new_session=True)
            try:
                self._wait_webhooks(process)
                yield
            finally:
                _stop(process)

    def drop_database(self):
        """Drop the run's database, if this run created it (n8n is stopped by then)."""
        if self.created:
            with _connect(connection.settings_dict["NAME"]) as conn:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(self.database)))
            self.created = False

    def url(self, key):
        return f"/webhook/{_path(key)}"

    def executions(self, key, after_id):
        """(status, stoppedAt) of the executions of workflow `key` with an id above `after_id`."""
        with _connect(self.database) as conn:
            return conn.execute('SELECT status, "stoppedAt" FROM execution_entity WHERE "workflowId" = %s AND id > %s',
                                [WORKFLOW_IDS[key], after_id]).fetchall()

    def last_execution_id(self):
        with _connect(self.database) as conn:
            return conn.execute("SELECT coalesce(max(id), 0) FROM execution_entity").fetchone()[0]

    def wait_executions(self, key, after_id, count, timeout):
        """{status: how many} of the `count` executions after `after_id` once all are final, and the last stoppedAt."""
        deadline = time.monotonic() + timeout
        while True:
            rows = self.executions(key, after_id)
            final = [row for row in rows if row[0] in FINAL_STATUSES]
            if len(final) >= count or time.monotonic() > deadline:
                statuses = {}
                for status, _ in rows:
                    statuses[status] = statuses.get(status, 0) + 1
                return statuses, max((stopped for _, stopped in final if stopped), default=None)
            time.sleep(0.2)

    def _cli(self, *args):
        try:
            result = subprocess.run([str(self.executable), *args], cwd=self.folder, env=self.env, capture_output=True,
                                    text=True, timeout=300)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise N8nUnavailable(f"`n8n {' '.join(args)}` failed: {exc}") from None
        if result.returncode:
            output = (result.stdout + result.stderr).strip()[-1500:]
            raise N8nUnavailable(f"`n8n {' '.join(args)}` exited with {result.returncode}: {output}")
        return result.stdout

    def _wait_webhooks(self, process, timeout=180):
        """Post to each webhook until it answers 200 (n8n listens before it has activated the workflows)."""
        deadline = time.monotonic() + timeout
        for key in WORKFLOW_IDS:
            while True:
                if process.poll() is not None:
                    raise N8nUnavailable(f"`n8n start` exited with {process.returncode}: {_tail(self.log_path)}")
                try:
                    request = urllib.request.Request(f"http://127.0.0.1:{self.port}{self.url(key)}", b'{"n": 0}',
                                                     {"Content-Type": "application/json"})
                    if urllib.request.urlopen(request, timeout=60).status == 200:
                        break
                except (OSError, urllib.error.HTTPError):
                    pass
                if time.monotonic() > deadline:
                    raise N8nUnavailable(f"n8n's webhook {self.url(key)} did not answer within {timeout} s: "
                                         f"{_tail(self.log_path)}")
                time.sleep(0.5)


def _environment(port, database, folder):
    db = connection.settings_dict
    env = dict(os.environ)
    env.update(
        N8N_PORT=str(port), N8N_LISTEN_ADDRESS="127.0.0.1", N8N_HOST="127.0.0.1", N8N_PROTOCOL="http",
        WEBHOOK_URL=f"http://127.0.0.1:{port}/", N8N_USER_FOLDER=str(folder),
        N8N_ENCRYPTION_KEY="nodeflow-bench-n8n",  # no credentials are stored; a fixed key for every run's folder
        DB_TYPE="postgresdb", DB_POSTGRESDB_HOST=db["HOST"] or "127.0.0.1", DB_POSTGRESDB_PORT=str(db["PORT"] or 5432),
        DB_POSTGRESDB_DATABASE=database, DB_POSTGRESDB_USER=db["USER"] or "postgres",
        DB_POSTGRESDB_PASSWORD=db["PASSWORD"] or "",
        # The recipe of issue 20: n8n's `vm` expression engine and its task runners need
        # isolated-vm, which does not build on Node.js 20 (installed with --ignore-scripts).
        N8N_EXPRESSION_ENGINE="legacy", N8N_RUNNERS_ENABLED="false", EXECUTIONS_MODE="regular",
        # Headless and offline: no telemetry, no calls home, no browser session.
        N8N_DIAGNOSTICS_ENABLED="false", N8N_VERSION_NOTIFICATIONS_ENABLED="false", N8N_TEMPLATES_ENABLED="false",
        N8N_PERSONALIZATION_ENABLED="false", N8N_HIRING_BANNER_ENABLED="false", N8N_COMMUNITY_PACKAGES_ENABLED="false",
        N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS="false", N8N_SECURE_COOKIE="false", N8N_LOG_LEVEL="warn",
        N8N_GRACEFUL_SHUTDOWN_TIMEOUT="5",
    )
    return env


def _connect(database):
    db = connection.settings_dict
    return psycopg.connect(host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"] or "postgres",
                           password=db["PASSWORD"] or None, dbname=database, autocommit=True)


def _stop(process):
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


def _tail(path, size=1500):
    return Path(path).read_text(errors="replace")[-size:].strip()


# The workflows: n8n's, and NodeFlow's of the same shapes.

def _path(key):
    return f"nodeflow-bench-{key}"


def n8n_workflows():
    """The three workflows in n8n's export format."""
    workflows = []
    for key, workflow_id in WORKFLOW_IDS.items():
        response = "onReceived" if key == "set" else "lastNode"
        nodes = [_n8n_node(key, "Webhook", "n8n-nodes-base.webhook", 2, 0, {
            "httpMethod": "POST", "path": _path(key), "responseMode": response, "options": {}},
            webhookId=_uuid(f"{key}-hook"))]
        if key == "set":
            nodes.append(_n8n_set_node(key, "Set", "={{ $json.body.n }}", 200))
        elif key == "set40":
            nodes += [_n8n_set_node(key, f"Set {i}", "={{ $json.body.n }}" if i == 0 else "={{ $json.n + 1 }}",
                                    200 * (i + 1)) for i in range(CHAIN)]
        else:
            nodes += [_n8n_node(key, f"Code {i}", "n8n-nodes-base.code", 2, 200 * (i + 1), {"jsCode": FIBO_JS})
                      for i in range(CHAIN)]
        connections = {a["name"]: {"main": [[{"node": b["name"], "type": "main", "index": 0}]]}
                       for a, b in zip(nodes, nodes[1:])}
        workflows.append({"id": workflow_id, "name": f"nodeflow bench: {key}", "active": False, "nodes": nodes,
                          "connections": connections, "settings": {"executionOrder": "v1"}, "pinData": {}})
    return workflows


def _n8n_node(key, name, kind, version, x, parameters, **extra):
    return {"id": _uuid(f"{key}-{name}"), "name": name, "type": kind, "typeVersion": version, "position": [x, 0],
            "parameters": parameters, **extra}


def _n8n_set_node(key, name, value, x):
    """A Set node (v3.4) that outputs {"n": value} alone."""
    assignment = {"id": _uuid(f"{key}-{name}-n"), "name": "n", "value": value, "type": "number"}
    return _n8n_node(key, name, "n8n-nodes-base.set", 3.4, x,
                     {"mode": "manual", "assignments": {"assignments": [assignment]}, "options": {}})


def _uuid(seed):
    """A stable id: the same workflow file in every run."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"nodeflow-bench-n8n/{seed}"))


def nodeflow_chain_doc(key):
    """NodeFlow's side of a chain: a sync webhook → 40 data.set (key "set40") or 40 code.python → flow.terminal."""
    nodes = [{"id": "hook", "type": "trigger.webhook", "params": {"response": "sync", "timeout_s": 120}}]
    if key == "set40":
        nodes += [{"id": f"s{i}", "type": "data.set",
                   "params": {"vars": {"n": "{{ input.body.n }}" if i == 0 else "{{ vars.n + 1 }}"}}}
                  for i in range(CHAIN)]
        result = {"n": "{{ vars.n }}"}
    else:
        nodes += [{"id": f"c{i}", "type": "code.python", "params": {"code": fibo_code(1)}} for i in range(CHAIN)]
        result = {"n": f"{{{{ nodes.c{CHAIN - 1}.output }}}}"}
    nodes.append({"id": "done", "type": "flow.terminal", "params": {"result": result}})
    return {"api_version": "nodeflow/v1", "name": f"bench: webhook → {CHAIN} nodes ({key})", "nodes": nodes,
            "edges": [{"from": a["id"], "to": b["id"]} for a, b in zip(nodes, nodes[1:])]}


# Measuring.

def _measure(quick, port, n8n):
    from django.contrib.auth import get_user_model

    user, _ = get_user_model().objects.get_or_create(username="bench")
    rows = _webhook_rows(quick, port, n8n, user)
    rounds = 5 if quick else 20
    for key, what in (("set40", f"{CHAIN} chained Set nodes (data.set / n8n Set)"),
                      ("code40", f"{CHAIN} chained code nodes computing fibo(10) (code.python / n8n Code, JavaScript)")):
        token, workflow = published_hook(user, nodeflow_chain_doc(key))
        expected = {"n": CHAIN - 1} if key == "set40" else {"n": 55}  # the client posts {"n": 0}
        urls = {"nodeflow": (port, f"/hooks/{token}"), "n8n": (n8n.port, n8n.url(key))}
        latencies = {"nodeflow": [], "n8n": []}
        # The first turns warm both up: NodeFlow's server runs SERVER_WORKERS processes, and a request
        # may land on either, so one turn left a process cold for the measured ones.
        for turn in range(rounds + WARM_TURNS):
            for product, (product_port, url) in urls.items():
                sample = post_all(product_port, url, 1, clients=1).samples[0]
                if sample["status"] != 200 or json.loads(sample["answer"]) != expected:
                    raise RuntimeError(f"N8N: {product}'s {key} answered {sample['status']} "
                                       f"{sample['answer'][:300]!r}, not {expected}")
                if turn >= WARM_TURNS:
                    latencies[product].append(sample["latency_ms"] / CHAIN)
        rows.append({"id": f"N8N/{key}", "scenario": f"{what} behind a sync webhook: ms per node, median of {rounds} "
                                                     "(baseline: n8n)",
                     "unit": "ms/node", "nodeflow": statistics.median(latencies["nodeflow"]),
                     "baseline": statistics.median(latencies["n8n"]), "target": "below n8n", "lower_is_better": True,
                     "n8n_version": n8n.version, "runs_ms_per_node": latencies,
                     # The same executions from NodeFlow's own rows (accepted → finished), without the
                     # sync webhook's wait, which reads the execution's row at 5 ms, then up to 50 ms, pauses.
                     "nodeflow_execution_ms_per_node": _execution_ms_per_node(workflow)})
    return rows


def _execution_ms_per_node(workflow):
    from executions.models import Execution

    times = Execution.objects.filter(workflow=workflow).order_by("created_at").values_list("created_at", "finished_at")
    spans = [(finished - created).total_seconds() * 1000 / CHAIN for created, finished in times[1:] if finished]
    return statistics.median(spans) if spans else None


def _webhook_rows(quick, port, n8n, user):
    """Accepted/s with CLIENTS clients, and first post → last execution finished, NodeFlow then n8n."""
    from executions.models import Execution

    count = 200 if quick else 2000
    warm_token, _ = published_hook(user)
    token, workflow = published_hook(user, webhook_set_doc())
    timeout = 300 if quick else 1200
    # NodeFlow: warmed up and its warm-up executions finished, then measured.
    warm = post_all(port, f"/hooks/{warm_token}", CLIENTS * 4)
    wait_finished(Execution, [sample["execution_id"] for sample in warm.samples], timeout)
    hooks = post_all(port, f"/hooks/{token}", count)
    statuses = hooks.statuses()
    if statuses != {202: count}:
        raise RuntimeError(f"N8N: not every NodeFlow webhook was accepted: {statuses}")
    finished = wait_finished(Execution, [sample["execution_id"] for sample in hooks.samples], timeout)
    if Execution.objects.filter(workflow=workflow).count() != count:
        raise RuntimeError(f"N8N: {count} NodeFlow webhooks accepted but not as many executions")
    nodeflow_done = max(finished.values()).timestamp() - min(sample["sent_at"] for sample in hooks.samples)
    # n8n: the same.
    before = n8n.last_execution_id()
    warm = post_all(n8n.port, n8n.url("set"), CLIENTS * 4)
    executions, _ = n8n.wait_executions("set", before, CLIENTS * 4, timeout)
    if warm.statuses() != {200: CLIENTS * 4} or executions != {"success": CLIENTS * 4}:
        raise RuntimeError(f"N8N: n8n's warm-up failed: answers {warm.statuses()}, executions {executions}")
    before = n8n.last_execution_id()
    answers = post_all(n8n.port, n8n.url("set"), count)
    n8n_statuses = answers.statuses()
    executions, last_stopped = n8n.wait_executions("set", before, count, timeout)
    accepted = n8n_statuses.get(200, 0)
    if last_stopped is None:
        raise RuntimeError(f"N8N: n8n finished none of {count} webhook executions: {executions}, answers {n8n_statuses}")
    n8n_done = last_stopped.timestamp() - min(sample["sent_at"] for sample in answers.samples)
    common = {"n8n_version": n8n.version, "nodeflow_answers": statuses, "n8n_answers": n8n_statuses,
              "n8n_executions": executions, "n8n_lost": accepted - executions.get("success", 0)}
    return [
        {"id": "N8N/webhook", "scenario": f"webhook → Set, answered at once, {CLIENTS} clients, {count} posts: "
                                          "accepted/s (baseline: n8n)",
         "unit": "req/s", "nodeflow": count / hooks.seconds, "baseline": accepted / answers.seconds,
         "target": "above n8n; none lost", "lower_is_better": False,
         "latency_ms": {"nodeflow_p50": statistics.median(hooks.latencies_ms()),
                        "n8n_p50": statistics.median(answers.latencies_ms())}, **common},
        {"id": "N8N/webhook-done", "scenario": f"the same {count}: first post → last execution finished, "
                                               "executions/s (baseline: n8n)",
         "unit": "exec/s", "nodeflow": count / nodeflow_done, "baseline": executions.get("success", 0) / n8n_done,
         "target": "above n8n", "lower_is_better": False, **common},
    ]
