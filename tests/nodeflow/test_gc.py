"""What a process made to start is frozen out of the garbage collector's way (gc.freeze): a full
collection scanned the 110,000 objects of Django and the apps, 62 ms in the middle of a request."""

import json
import os
import subprocess
import sys

from executions.starting import start_execution
from executions.tasks import dispatcher
from tests.conftest import ROOT, wait_for_execution
from tests.executions.test_local_runs import chain

PROBE = """
import gc, json, time
import nodeflow.asgi  # what uvicorn loads
gc.collect()  # what is not frozen
started = time.perf_counter()
gc.collect()
print(json.dumps({"frozen": gc.get_freeze_count(), "collect_ms": (time.perf_counter() - started) * 1000}))
"""


def test_the_web_process_freezes_what_it_made_to_start():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "nodeflow.settings"}
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    state = json.loads(done.stdout.strip().splitlines()[-1])
    assert state["frozen"] > 50_000, state
    assert state["collect_ms"] < 20, state  # 62 ms when all of it was scanned


def test_a_workers_pool_runs_nodes_with_its_start_up_frozen(celery_worker):
    execution = wait_for_execution(start_execution(chain({"id": "gc", "type": "test.gc"}), dispatcher=dispatcher).pk)
    assert execution.status == "succeeded", execution.error
    state = execution.node_runs.get(node_id="gc").output
    assert state["pid"] != os.getpid() and state["frozen"] > 50_000, state
