"""`nodeflow bench` in embedded mode (SQLite, no Redis) says what it needs instead of failing on an import."""

import subprocess
import sys
import uuid

import pytest

from tests.conftest import ROOT
from tests.nodeflow.test_dev_port import embedded_env


def test_the_bench_in_embedded_mode_says_it_needs_postgresql_and_redis(tmp_path):
    done = subprocess.run([sys.executable, str(ROOT / "manage.py"), "nodeflow", "bench", "--quick", "--only", "P1"],
                          env=embedded_env(tmp_path), cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "it needs PostgreSQL and Redis (set DATABASE_URL and REDIS_URL" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.django_db
def test_the_bench_says_what_earlier_runs_left_for_its_workers(alice):
    from bench import runner
    from bench.support import small_doc
    from executions.starting import start_execution
    from tests.workflows.test_services import RecordingDispatcher
    from triggers.models import AcceptedRequest, WebhookEndpoint
    from workflows.models import Workflow

    assert runner._leftovers() == ""
    start_execution(small_doc(), dispatcher=RecordingDispatcher())  # its trigger queued, never sent
    workflow = Workflow.objects.create(owner=alice, name="w", definition=small_doc())
    endpoint = WebhookEndpoint.objects.create(workflow=workflow, node_id="start")
    AcceptedRequest.objects.create(id=uuid.uuid4(), endpoint=endpoint, version=1, input={})
    assert runner._leftovers() == "1 accepted webhook requests not started and 1 queued node runs"
