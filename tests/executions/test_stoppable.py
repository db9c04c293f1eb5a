"""Node timeouts that really stop the work: in embedded mode a node runs where it can be killed.

End to end: `nodeflow run --inline` in embedded mode (SQLite, no Redis: NODEFLOW_STOPPABLE_NODES is
on by default) on a node that loops for ever; and the same through the runtime in this process."""

import json
import os
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT
from tests.nodes.support import node, run, workflow


def _gone(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def _spinning(pid_file, timeout_s=1, **extra):
    return {**node("spin", "test.spin", pid_file=str(pid_file)), "timeout_s": timeout_s, **extra}


@pytest.mark.slow
def test_in_embedded_mode_a_node_that_loops_for_ever_is_stopped_at_its_timeout(tmp_path):
    pid_file = tmp_path / "spin.pid"
    document = workflow([_spinning(pid_file)])
    (tmp_path / "spin.json").write_text(json.dumps(document))
    env = {key: value for key, value in os.environ.items() if key not in ("REDIS_URL", "DATABASE_URL")}
    env.update(DJANGO_SETTINGS_MODULE="nodeflow.settings", NODEFLOW_DATA_DIR=str(tmp_path),
               NODEFLOW_NODE_MODULES="tests.support.nodes", PYTHONDONTWRITEBYTECODE="1")
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=300)
    started = time.monotonic()
    done = subprocess.run([*manage, "nodeflow", "run", str(tmp_path / "spin.json"), "--inline"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    took = time.monotonic() - started
    assert done.returncode == 1, done.stdout + done.stderr
    assert "the node ran longer than its timeout of 1 s and was stopped" in done.stdout
    assert took < 15  # the interpreter's start and the run, not a minute of spinning
    assert _gone(int(pid_file.read_text()))


@pytest.mark.django_db
def test_the_spinning_process_is_killed_at_the_timeout_and_its_cpu_counted(tmp_path, settings):
    settings.NODEFLOW = {**settings.NODEFLOW, "STOPPABLE_NODES": True}
    pid_file = tmp_path / "spin.pid"
    started = time.monotonic()
    execution, runs = run(workflow([_spinning(pid_file, timeout_s=0.5)]))
    assert 0.5 <= time.monotonic() - started < 5
    assert execution.status == "failed"
    assert runs["spin"].error["code"] == "node_timeout" and runs["spin"].error["class"] == "timeout"
    assert _gone(int(pid_file.read_text()))
    assert runs["spin"].resources["cpu_ms"] >= 20  # the CPU it burned until it was killed (a busy machine gives less)


@pytest.mark.django_db
def test_a_stoppable_node_that_ends_in_time_returns_its_output_logs_and_errors(settings, tmp_path):
    settings.NODEFLOW = {**settings.NODEFLOW, "STOPPABLE_NODES": True}
    quick = {**node("nap", "test.sleep", seconds=0.1, output={"a": [1, 2]}), "timeout_s": 5}
    execution, runs = run(workflow([quick, node("done", "flow.terminal", result="{{ nodes.nap.output.output }}")]))
    assert execution.status == "succeeded", runs["nap"].error
    assert execution.result == {"a": [1, 2]}
    assert runs["nap"].output["pid"] != os.getpid()  # it ran in a child

    crashing = {**node("boom", "test.crash"), "timeout_s": 5}
    execution, runs = run(workflow([crashing]))
    assert execution.status == "failed" and runs["boom"].error["code"] == "node_crashed"
    assert "(RuntimeError)" in runs["boom"].error["message"]

    flaky = {**node("flaky", "test.flaky", failures=5), "timeout_s": 5}
    execution, runs = run(workflow([flaky]))
    assert runs["flaky"].error["class"] == "transient"


@pytest.mark.django_db
def test_outside_embedded_mode_nodes_run_in_the_worker_as_before(tmp_path):
    quick = {**node("nap", "test.sleep", seconds=0), "timeout_s": 5}
    _, runs = run(workflow([quick]))
    assert runs["nap"].output["pid"] == os.getpid()
