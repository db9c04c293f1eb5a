"""What the benchmark's modules share: workflow documents, running them, measuring, and the processes' setup.

The bottom layer of bench/: ops and webhooks (the scenarios that start servers), scenarios
(the registry of P1…P9) and runner (`nodeflow bench`) import it; it imports none of them.

bench/webhooks.py imports this module in the uvicorn server it starts, before Django is set
up, so it loads no model at import time: whatever needs the app registry (executions,
workflows) is imported inside the function that uses it."""

import os
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


# Workflow documents.

def doc(nodes, edges):
    from workflows.services import with_node_versions

    return with_node_versions({"api_version": "nodeflow/v1", "name": "bench", "nodes": nodes, "edges": edges})


def chain_doc(length, node_type="flow.noop", params=None):
    nodes = [{"id": "start", "type": "trigger.manual"}]
    nodes += [{"id": f"n{i}", "type": node_type, **({"params": params} if params else {})} for i in range(length - 1)]
    return doc(nodes, [{"from": a["id"], "to": b["id"]} for a, b in zip(nodes, nodes[1:])])


def fan_out_doc(width):
    nodes = [{"id": "start", "type": "trigger.manual"}] + [{"id": f"b{i}", "type": "flow.noop"} for i in range(width)]
    nodes.append({"id": "join", "type": "flow.merge"})
    edges = [{"from": "start", "to": f"b{i}"} for i in range(width)] + [{"from": f"b{i}", "to": "join"} for i in range(width)]
    return doc(nodes, edges)


def small_doc():
    return doc(
        [{"id": "start", "type": "trigger.manual"},
         {"id": "set", "type": "data.set", "params": {"vars": {"n": "{{ input.n }}"}}},
         {"id": "done", "type": "flow.terminal", "params": {"result": "{{ vars.n }}"}}],
        [{"from": "start", "to": "set"}, {"from": "set", "to": "done"}],
    )


def fibo_code(times):
    """A code.python node's code computing Windmill's task, recursive fibo(10), `times` times; returns 55."""
    return ("def run(ctx):\n"
            "    def fibo(n):\n"
            "        return n if n <= 1 else fibo(n - 1) + fibo(n - 2)\n"
            f"    return [fibo(10) for _ in range({times})][-1]\n")


# Running them on the benchmark's workers.

def wait_executions(ids, timeout):
    from executions.models import Execution

    deadline = time.monotonic() + timeout
    pending = set(ids)
    while pending:
        done = set(Execution.objects.filter(pk__in=list(pending), status__in=["succeeded", "failed"]).values_list("pk", flat=True))
        pending -= done
        if pending:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(pending)} executions unfinished after {timeout} s")
            time.sleep(0.005 if len(pending) == 1 else 0.05)
    failed = Execution.objects.filter(pk__in=list(ids), status="failed").count()
    if failed:
        raise RuntimeError(f"{failed} benchmark executions failed")


def run_nodeflow(document, count=1, timeout=600, *, here=True):
    """Start `count` executions of `document` one after the other and wait for all: (seconds, their ids).

    They start as the API starts a run: their instant nodes run in the transaction that creates them,
    in this process (executing.start_here). `here=False` leaves every node to the workers, for the
    scenarios that measure the workers' memory (P7, P9)."""
    from executions.executing import start_here
    from executions.starting import start_execution
    from executions.tasks import dispatcher

    def start(number):
        def create(run_here):
            return start_execution(document, dispatcher=dispatcher, input_data={"n": number}, run_here=run_here)

        return start_here(create, dispatcher) if here else create(None)

    started = time.perf_counter()
    ids = [start(i).pk for i in range(count)]
    wait_executions(ids, timeout)
    return time.perf_counter() - started, ids


# Measuring.

def machine_cpu_s():
    """CPU time the whole machine has spent busy so far (every process: this one, the workers, PostgreSQL,
    Redis), in seconds, from /proc/stat; None where there is none. A difference over a scenario, divided by
    what it did, is what that costs the machine, wherever it ran."""
    ticks = cpu_ticks()
    if not ticks:
        return None
    busy = sum(ticks[kind] for kind in ("user", "nice", "system", "irq", "softirq", "steal"))
    return busy / os.sysconf("SC_CLK_TCK")


_CPU_KINDS = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")


def cpu_ticks():
    """The machine's CPU time so far by kind ({"user": ticks, …, "steal": ticks}) from /proc/stat; {} where there
    is none."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return {}
    return dict(zip(_CPU_KINDS, (int(value) for value in fields)))


def stolen_share(before, after):
    """Of the machine's CPU time between two cpu_ticks(), the share its hypervisor gave to other machines
    (steal), 0 to 1; None where unknown. A virtual machine's host that is busy takes it: up to half of this
    machine's at times, when every latency measured is a slower machine's."""
    if not before or not after:
        return None
    total = sum(after.values()) - sum(before.values())
    return (after["steal"] - before["steal"]) / total if total > 0 else None


def percentile(values, fraction):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * fraction))]


def rss_mb(pids):
    """Resident memory of processes (and their children), in MB; also the peak (VmHWM) of each."""
    total = peak = 0
    for pid in pids:
        for proc in [pid] + _children(pid):
            try:
                status = Path(f"/proc/{proc}/status").read_text()
            except OSError:
                continue
            fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
            total += int(fields.get("VmRSS", "0 kB").split()[0])
            peak = max(peak, int(fields.get("VmHWM", "0 kB").split()[0]))
    return total / 1024, peak / 1024


def _children(pid):
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


# The processes the benchmark starts.

# The most wall time a code node of the benchmark may ask for (P7's ask for 10 s: ten thousand
# items through a code node on a loaded 2-core machine can take more than the default second).
# A node's `limits` above NODEFLOW_SANDBOX_MAX_WALL_MS are lowered to it, so the workers get it.
CODE_MAX_WALL_MS = 10_000


def environment(prefix):
    """The environment of the workers and servers the benchmark starts: this database, Redis under `prefix`."""
    env = dict(os.environ)
    env.update(DJANGO_SETTINGS_MODULE="nodeflow.settings", NODEFLOW_BROKER_PREFIX=prefix,
               CELERY_RESULT_BACKEND=settings.REDIS_URL, DATABASE_URL=database_url())
    configured = settings.NODEFLOW["SANDBOX"]["max_limits"]["wall_ms"]
    env["NODEFLOW_SANDBOX_MAX_WALL_MS"] = str(max(CODE_MAX_WALL_MS, configured))
    return env


def database_url():
    db = connection.settings_dict
    return f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url, timeout=30):
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:
            return  # it answered
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
