"""The benchmark scenarios of PERFORMANCE.md, each next to a bare-Celery baseline run in the same process."""

import statistics
import time
import uuid

import redis
from celery import chain, chord, group
from django.conf import settings

from bench.tasks import mark, noop
from executions.starting import start_execution
from executions.models import Execution
from executions.tasks import dispatcher
from workflows.services import with_node_versions


def _doc(nodes, edges):
    return with_node_versions({"api_version": "nodeflow/v1", "name": "bench", "nodes": nodes, "edges": edges})


def chain_doc(length, node_type="flow.noop", params=None):
    nodes = [{"id": "start", "type": "trigger.manual"}]
    nodes += [{"id": f"n{i}", "type": node_type, **({"params": params} if params else {})} for i in range(length - 1)]
    return _doc(nodes, [{"from": a["id"], "to": b["id"]} for a, b in zip(nodes, nodes[1:])])


def fan_out_doc(width):
    nodes = [{"id": "start", "type": "trigger.manual"}] + [{"id": f"b{i}", "type": "flow.noop"} for i in range(width)]
    nodes.append({"id": "join", "type": "flow.merge"})
    edges = [{"from": "start", "to": f"b{i}"} for i in range(width)] + [{"from": f"b{i}", "to": "join"} for i in range(width)]
    return _doc(nodes, edges)


def small_doc():
    return _doc(
        [{"id": "start", "type": "trigger.manual"},
         {"id": "set", "type": "data.set", "params": {"vars": {"n": "{{ input.n }}"}}},
         {"id": "done", "type": "flow.terminal", "params": {"result": "{{ vars.n }}"}}],
        [{"from": "start", "to": "set"}, {"from": "set", "to": "done"}],
    )


def _wait_executions(ids, timeout):
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


def run_nodeflow(document, count=1, timeout=600):
    started = time.perf_counter()
    ids = [start_execution(document, dispatcher=dispatcher, input_data={"n": i}).pk for i in range(count)]
    _wait_executions(ids, timeout)
    return time.perf_counter() - started, ids


def _redis():
    return redis.Redis.from_url(settings.REDIS_URL)


def _wait_marks(key, count, timeout):
    client = _redis()
    for _ in range(count):
        if client.blpop(key, timeout=timeout) is None:
            raise TimeoutError(f"baseline did not finish within {timeout} s")


def baseline_chain(length, count=1, timeout=600):
    key = f"bench:{uuid.uuid4().hex}"
    started = time.perf_counter()
    for _ in range(count):
        chain(*[noop.si() for _ in range(length)], mark.si(key=key)).apply_async()
    _wait_marks(key, count, timeout)
    return time.perf_counter() - started


def baseline_chord(width, timeout=600):
    key = f"bench:{uuid.uuid4().hex}"
    started = time.perf_counter()
    chord(group(noop.si() for _ in range(width)))(mark.si(key=key))
    _wait_marks(key, 1, timeout)
    return time.perf_counter() - started


def p1_chain(quick, ctx):
    length = 100
    nodeflow = min(run_nodeflow(chain_doc(length))[0] for _ in range(2 if quick else 3))
    celery = min(baseline_chain(length) for _ in range(2 if quick else 3))
    return {"id": "P1", "scenario": f"chain of {length} flow.noop: ms per node", "unit": "ms/node",
            "nodeflow": nodeflow / length * 1000, "baseline": celery / length * 1000, "target": "≤ 2× Celery hop and ≤ 5 ms",
            "lower_is_better": True}


def p2_throughput(quick, ctx):
    count = 200 if quick else 1000
    seconds, _ = run_nodeflow(small_doc(), count)
    celery = baseline_chain(3, count)
    return {"id": "P2", "scenario": f"{count} executions of manual → data.set → terminal: executions/s", "unit": "exec/s",
            "nodeflow": count / seconds, "baseline": count / celery, "target": "≥ 250 exec/s",
            "lower_is_better": False, "node_runs_per_s": 3 * count / seconds}


def p3_fan_out(quick, ctx):
    rows = []
    for width in (10, 100) if quick else (10, 100, 1000):
        nodeflow = run_nodeflow(fan_out_doc(width))[0]
        celery = baseline_chord(width)
        rows.append({"id": f"P3/{width}", "scenario": f"fan-out of {width} flow.noop + flow.merge: wall time", "unit": "s",
                     "nodeflow": nodeflow, "baseline": celery, "target": "≤ 1.5× chord" + ("; ≤ 3 s" if width == 1000 else ""),
                     "lower_is_better": True})
    return rows


def p4_code(quick, ctx):
    import sandbox.bench

    runs = 100 if quick else 300
    isolation = sandbox.bench.measure(runs)
    length = 30 if quick else 100
    _, ids = run_nodeflow(chain_doc(length, "code.python", {"code": "def run(ctx):\n    return 1\n"}))
    durations = []
    for run in Execution.objects.get(pk=ids[0]).node_runs.filter(type="code.python"):
        durations.append(run.duration_ms)
    durations.sort()
    engine_p50 = statistics.median(durations)
    engine_p95 = durations[int(len(durations) * 0.95) - 1]
    return [
        {"id": "P4/isolation", "scenario": "code.python trivial run in isolation: p50 (p95)", "unit": "ms",
         "nodeflow": isolation["isolation"]["p50_ms"], "nodeflow_p95": isolation["isolation"]["p95_ms"],
         "baseline": isolation["new_interpreter"]["p50_ms"], "baseline_p95": isolation["new_interpreter"]["p95_ms"],
         "target": "p50 ≤ 5 ms", "lower_is_better": True},
        {"id": "P4/engine", "scenario": "code.python node run through the engine (start → finish of the run): p50 (p95)",
         "unit": "ms", "nodeflow": engine_p50, "nodeflow_p95": engine_p95,
         "baseline": isolation["new_interpreter"]["p50_ms"], "baseline_p95": isolation["new_interpreter"]["p95_ms"],
         "target": "engine overhead on top ≤ P1", "lower_is_better": True},
    ]


def p5_webhooks(quick, ctx):
    from bench.webhooks import p5_webhooks as run

    return run(quick)


def p6_live(quick, ctx):
    from bench.ops import p6_live_latency

    return p6_live_latency(quick, ctx.env)


def p7_large(quick, ctx):
    from bench.ops import p7_large as run

    return run(quick, ctx.worker_pid)


def p8_embedded(quick, ctx):
    from bench.ops import p8_embedded as run

    return run(quick)


def p9_soak(quick, ctx):
    from bench.ops import p9_soak as run

    return run(quick, ctx.worker_pid)


SCENARIOS = {"P1": p1_chain, "P2": p2_throughput, "P3": p3_fan_out, "P4": p4_code, "P5": p5_webhooks,
             "P6": p6_live, "P7": p7_large, "P8": p8_embedded, "P9": p9_soak}
