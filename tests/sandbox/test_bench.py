"""sandbox.bench: the P4 figures are produced, and the zygote beats a fresh interpreter."""

from sandbox import bench


def test_measure_reports_isolation_and_new_interpreter_percentiles(require_full_sandbox):
    figures = bench.measure(n=20, baseline_n=5)
    for side in ("isolation", "new_interpreter"):
        assert figures[side]["n"] == (20 if side == "isolation" else 5)
        assert 0 < figures[side]["p50_ms"] <= figures[side]["p95_ms"]
    assert figures["isolation"]["p50_ms"] < figures["new_interpreter"]["p50_ms"]
    assert figures["mode"] == "bwrap+seccomp"
    assert "child_seccomp" in figures["isolation_child_stages_ms"]
