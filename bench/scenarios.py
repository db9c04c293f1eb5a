"""The benchmark scenarios of PERFORMANCE.md, each next to a bare-Celery baseline run in the same process."""

import statistics
import time
import uuid

import redis
from celery import chain, chord, group
from django.conf import settings

from bench import composition, ops, variables, webhooks
from bench.n8n import peer
from bench.support import chain_doc, fan_out_doc, fibo_code, machine_cpu_s, run_nodeflow, small_doc
from bench.tasks import mark, noop
from executions.models import Execution


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
    """Executions started one after the other as the API starts them (their instant nodes in the
    transaction that creates them); then the same all on the workers, as an async webhook's run or
    any run with NODEFLOW_LOCAL_RUN_ON_START_S=0 goes: the workers' own rate, next to the same baseline."""
    count = 200 if quick else 1000
    (seconds, _), here_cpu = _with_machine_cpu(lambda: run_nodeflow(small_doc(), count))
    (on_workers, _), workers_cpu = _with_machine_cpu(lambda: run_nodeflow(small_doc(), count, here=False))
    celery, celery_cpu = _with_machine_cpu(lambda: baseline_chain(3, count))
    scenario = f"{count} executions of manual → data.set → terminal"
    per_execution = {"baseline_cpu_ms_per_execution": _per(celery_cpu, count)}
    return [{"id": "P2", "scenario": f"{scenario}, started as the API starts them: executions/s", "unit": "exec/s",
             "nodeflow": count / seconds, "baseline": count / celery, "target": "≥ 250 exec/s",
             "lower_is_better": False, "node_runs_per_s": 3 * count / seconds,
             "cpu_ms_per_execution": _per(here_cpu, count), **per_execution},
            {"id": "P2/workers", "scenario": f"{scenario}, every node on the 2 worker processes: executions/s",
             "unit": "exec/s", "nodeflow": count / on_workers, "baseline": count / celery, "target": "—",
             "lower_is_better": False, "node_runs_per_s": 3 * count / on_workers,
             "cpu_ms_per_execution": _per(workers_cpu, count), **per_execution}]


def _with_machine_cpu(measure):
    """(what `measure()` returns, the machine's CPU seconds spent meanwhile, or None)."""
    before = machine_cpu_s()
    result = measure()
    after = machine_cpu_s()
    return result, (after - before if before is not None and after is not None else None)


def _per(cpu_s, count):
    """Milliseconds of the machine's CPU per execution (every process: starter, workers, PostgreSQL, Redis)."""
    return None if cpu_s is None else round(cpu_s / count * 1000, 2)


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


def w40_windmill(quick, ctx):
    """Windmill's published shape: one execution of 40 chained code.python nodes, each computing fibo(10).

    The baseline is the same 40 computations in one code node of one execution: what the work
    costs without 39 node hops. Both run on the benchmark's two worker processes; runs of the
    two alternate so that both see the same noise, and each figure is the median of its runs."""
    tasks = 40
    chained_doc = chain_doc(tasks + 1, "code.python", {"code": fibo_code(1)})
    single_doc = chain_doc(2, "code.python", {"code": fibo_code(tasks)})
    run_nodeflow(single_doc)  # the sandbox's zygotes started and warm
    chained, single, executions = [], [], []
    for _ in range(3 if quick else 7):
        seconds, ids = run_nodeflow(chained_doc)
        chained.append(seconds / tasks * 1000)
        executions += ids
        single.append(run_nodeflow(single_doc)[0] / tasks * 1000)
    per_task, baseline = statistics.median(chained), statistics.median(single)
    in_node, between = _node_times(executions, "code.python")
    return {"id": "W40", "scenario": f"Windmill's shape: {tasks} chained code.python nodes computing fibo(10), "
                                     f"one execution: ms per task (median of {len(chained)})",
            "unit": "ms/task", "nodeflow": per_task, "baseline": baseline, "target": "≤ 15 ms per task",
            "lower_is_better": True, "runs_ms_per_task": [round(x, 2) for x in chained],
            "baseline_runs_ms_per_task": [round(x, 2) for x in single],
            "overhead_ms_per_task": per_task - baseline,
            # Where a task's time goes, medians over the nodes of the chained runs: from its claim to
            # its finish (the sandbox run and the transactions around it), and from the finish of
            # the node before to this claim (the broker trip and the wait for a worker).
            "in_node_ms_p50": in_node, "between_nodes_ms_p50": between}


def _node_times(execution_ids, node_type):
    """(median ms from a node's start to its finish, median ms from its predecessor's finish to its start)."""
    in_node, between = [], []
    for execution_id in execution_ids:
        runs = list(Execution.objects.get(pk=execution_id).node_runs.order_by("started_at")
                    .values_list("type", "started_at", "finished_at"))
        for (_, _, previous_finish), (kind, start, finish) in zip(runs, runs[1:]):
            if kind == node_type and start and finish and previous_finish:
                in_node.append((finish - start).total_seconds() * 1000)
                between.append((start - previous_finish).total_seconds() * 1000)
    return statistics.median(in_node), statistics.median(between)


STOLEN_NOTE_PCT = 5  # the share of steal above which P5 says its latencies are a slower machine's


def p5_webhooks(quick, ctx):
    rows = webhooks.p5_webhooks(quick)
    paced = next(row for row in rows if row["id"] == f"P5/to-202@{webhooks.RATE}")
    stolen = max(paced["steal_pct"] or 0, paced["baseline_steal_pct"] or 0)
    if stolen >= STOLEN_NOTE_PCT:
        ctx.note(f"P5: the hypervisor took {stolen}% of this machine's CPU while it posted at {webhooks.RATE}/s "
                 "(steal, /proc/stat): its latencies are those of a slower machine")
    return rows


def p6_live(quick, ctx):
    return ops.p6_live_latency(quick, ctx.env)


def p7_large(quick, ctx):
    return ops.p7_large(quick, ctx.worker_pid)


def p8_embedded(quick, ctx):
    return ops.p8_embedded(quick)


def p9_soak(quick, ctx):
    return ops.p9_soak(quick, ctx.worker_pid)


def n8n_beside(quick, ctx):
    return peer.n8n_peer(quick, ctx.note)


SCENARIOS = {"P1": p1_chain, "P2": p2_throughput, "P3": p3_fan_out, "P4": p4_code, "P5": p5_webhooks,
             "P6": p6_live, "P7": p7_large, "P8": p8_embedded, "P9": p9_soak, "W40": w40_windmill,
             "P10": composition.p10_foreach, "P11": composition.p11_io, "P12": composition.p12_subworkflow,
             "P13": variables.p13_global_incr, "N8N": n8n_beside}
