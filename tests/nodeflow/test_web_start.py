"""A web process makes at start what its first requests need: a process that met its first webhooks in a burst
answered all of them 190–240 ms late, one thread importing modules (the node types, the broker's transport)
while the others waited for the import lock."""

import json
import os
import subprocess
import sys

from tests.conftest import ROOT

PROBE = """
import json, sys
import nodeflow.asgi  # what uvicorn loads
from nodeflow.celery import app
from nodes.registry import registry

before = set(sys.modules)
registry.get("trigger.webhook")  # the door's first hook lookup
app.tasks["triggers.start_accepted"]  # its first send_start: the task, its producer and transport
app.connection_for_write().transport
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def test_the_web_process_imports_at_start_what_a_webhook_needs():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "nodeflow.settings"}
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    imported_late = json.loads(done.stdout.strip().splitlines()[-1])
    assert imported_late == []
