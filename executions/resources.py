"""Resource figures of node runs (NodeRun.resources) and of executions (their totals).

A node run's figures are measured where it runs (executions.executing.resources_of):
`cpu_ms`, the CPU time of the worker thread that ran it plus its sandbox child's; a code
node's `sandbox_cpu_ms` and `peak_memory_kb` (the child's, from getrusage); an HTTP node's
`bytes_out` and `bytes_in` (request and response bodies). An execution's figures add its node
runs' up, except the peak memory, which is the largest."""

SUMMED = ("cpu_ms", "sandbox_cpu_ms", "bytes_in", "bytes_out")
PEAKS = ("peak_memory_kb",)


def totals(figures):
    """The execution's figures from its node runs' (an iterable of dicts)."""
    total = {}
    for run in figures:
        if not isinstance(run, dict):
            continue
        for key in SUMMED:
            if isinstance(run.get(key), (int, float)):
                total[key] = total.get(key, 0) + run[key]
        for key in PEAKS:
            if isinstance(run.get(key), (int, float)):
                total[key] = max(total.get(key, 0), run[key])
    if "cpu_ms" in total:
        total["cpu_ms"] = round(total["cpu_ms"], 3)
    return total
