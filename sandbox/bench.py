"""P4 (docs/PERFORMANCE.md): a trivial code node, warm zygote vs a new interpreter per run.

    measure(n=200) -> {"isolation": {"p50_ms", "p95_ms"}, "new_interpreter": {...}, ...}

Both sides get the same walls: the baseline starts the jailed interpreter (bubblewrap,
uid drop, seccomp, rlimits, audit hook) once per run, as a design without a zygote would.
`python -m sandbox.bench [n]` prints the JSON.
"""

import base64
import json
import os
import platform
import statistics
import struct
import subprocess
import sys
import time

from . import settings as sandbox_settings
from .launch import current_plan
from .limits import SandboxLimits
from .runner import run_code
from .zygote import get_zygote

TRIVIAL_CODE = "def run(ctx):\n    return 1\n"
BENCH_CTX = {"input": {"n": 1}, "vars": {}, "nodes": {}, "execution": {"id": "bench"}}


def percentiles(samples_ms: list) -> dict:
    ordered = sorted(samples_ms)

    def at(fraction):
        return round(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))], 3)

    return {"p50_ms": at(0.50), "p95_ms": at(0.95), "min_ms": round(ordered[0], 3),
            "mean_ms": round(statistics.fmean(ordered), 3), "n": len(ordered)}


def measure_isolation(n: int, code: str = TRIVIAL_CODE) -> tuple[dict, dict]:
    """run_code() latencies with a warm zygote, and the median stage times of traced runs."""
    get_zygote()
    for _ in range(5):
        run_code(code, BENCH_CTX)
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        result = run_code(code, BENCH_CTX)
        samples.append((time.perf_counter() - started) * 1000)
        if not result.ok:
            raise RuntimeError(f"benchmark run failed: {result.error}")
    stages = {}
    for _ in range(max(10, n // 10)):
        trace = {}
        started = time.perf_counter()
        run_code(code, BENCH_CTX, trace=trace)
        stages.setdefault("total", []).append((time.perf_counter() - started) * 1000)
        stages.setdefault("worker_before_submit", []).append(trace["before_submit_ms"])
        stages.setdefault("submit_to_request_in_child", []).append(
            trace["submit_to_child_request_ms"])
        for name, value in trace.get("child", {}).items():
            if not name.startswith("t_"):  # t_* are absolute timestamps
                stages.setdefault(f"child_{name}", []).append(value[0])
        stages.setdefault("submit_to_result", []).append(trace["submit_to_result_ms"])
    breakdown = {name: round(statistics.median(values), 3) for name, values in stages.items()}
    return percentiles(samples), breakdown


def new_interpreter_run(plan, init: dict, payload: bytes, limits: SandboxLimits) -> float:
    """One run in a freshly started jailed interpreter; returns its latency in ms."""
    started = time.perf_counter()
    result_r, result_w = os.pipe()
    argv, kwargs = plan.command(["-I", "-S", "-B", "-X", "utf8", "@ZYGOTE@", "--once",
                                 str(result_w)])
    setup = json.dumps({"init": init, "request": {"limits": limits.as_dict()}}).encode()
    try:
        process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, pass_fds=[result_w], **kwargs)
    finally:
        os.close(result_w)
    try:
        process.communicate(struct.pack("!Q", len(setup)) + setup + payload,
                            timeout=limits.wall_ms / 1000 + 10)
        document = b""
        while chunk := os.read(result_r, 1 << 16):
            document += chunk
    finally:
        os.close(result_r)
        if process.poll() is None:
            process.kill()
            process.wait()
    elapsed = (time.perf_counter() - started) * 1000
    if len(document) < 8 or not json.loads(document[8:]).get("ok"):
        raise RuntimeError(f"baseline run failed: {document[:300]!r}")
    return elapsed


def measure_new_interpreter(n: int, code: str = TRIVIAL_CODE) -> dict:
    plan = current_plan()
    current = sandbox_settings.current()
    init = {"allowed_modules": list(current.allowed_modules),
            "bpf": base64.b64encode(plan.bpf).decode() if plan.bpf else None}
    payload = json.dumps({"code": code, "ctx": BENCH_CTX}).encode()
    limits = current.default_limits
    new_interpreter_run(plan, init, payload, limits)  # the page cache, once
    return percentiles([new_interpreter_run(plan, init, payload, limits) for _ in range(n)])


def measure(n: int = 200, baseline_n: int | None = None) -> dict:
    """P4: p50/p95 per trivial run, warm zygote vs new interpreter, in one process."""
    plan = current_plan()
    if plan.mode == "unavailable":
        raise RuntimeError(f"the sandbox is unavailable: {plan.detail}")
    isolation, breakdown = measure_isolation(n)
    return {
        "isolation": isolation,
        "new_interpreter": measure_new_interpreter(baseline_n or n),
        "isolation_child_stages_ms": breakdown,
        "zygote_start_ms": round(get_zygote().start_ms, 1),
        "mode": plan.mode,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "python": platform.python_version(),
                    "load_avg_1m": round(os.getloadavg()[0], 2)},
    }


if __name__ == "__main__":
    print(json.dumps(measure(int(sys.argv[1]) if len(sys.argv) > 1 else 200), indent=2))
