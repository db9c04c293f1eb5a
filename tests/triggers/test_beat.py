"""Schedules through a real `celery beat` process (database scheduler) and a real worker."""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from executions.models import Execution
from tests.conftest import ROOT, service_env
from tests.triggers.support import LIST, create, publish, schedule_doc

pytestmark = [pytest.mark.worker, pytest.mark.slow]


class BeatProcess:
    """`celery beat` with NodeFlow's scheduler (django-celery-beat's database scheduler, schedule fires
    started in beat itself), checking for changes every second."""

    def __init__(self):
        artifacts = Path(os.environ.get("NODEFLOW_TEST_ARTIFACTS", ROOT / "test-artifacts"))
        artifacts.mkdir(parents=True, exist_ok=True)
        self.log_path = artifacts / f"beat-{uuid.uuid4().hex[:6]}.log"
        self.process = None

    def start(self):
        self.log = open(self.log_path, "wb")
        command = [sys.executable, "-m", "celery", "-A", "nodeflow", "beat", "-l", "INFO", "--max-interval", "1",
                   "-S", "workflows.beat:Scheduler", "--pidfile="]
        self.process = subprocess.Popen(command, cwd=ROOT, env=service_env(), stdout=self.log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        return self

    def sent(self, task_name):
        """How many times beat sent the entry so far (its log says "Sending due task <name>")."""
        return self.log_path.read_text(errors="replace").count(f"Sending due task {task_name} ")

    def changes(self):
        """How many times beat has seen its entries change in the database so far."""
        return self.log_path.read_text(errors="replace").count("DatabaseScheduler: Schedule changed.")

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        if self.process is not None:
            self.log.close()


def _wait(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {timeout} s")
        time.sleep(0.1)


def test_a_schedule_every_2_seconds_fires_through_beat_and_stops_after_unpublish(celery_worker, alice_client):
    beat = BeatProcess().start()  # running before the publish: picking the schedule up needs no restart
    try:
        workflow = create(alice_client, schedule_doc(every=2, unit="seconds"))
        publish(alice_client, workflow["id"])
        runs = Execution.objects.filter(workflow_id=workflow["id"])
        entry = f"nodeflow:schedule:{workflow['id']}:tick"
        _wait(lambda: runs.filter(status="succeeded").count() >= 2, 15,
              f"two scheduled runs did not succeed (beat log: {beat.log_path})")
        first, second = runs.order_by("created_at")[:2]
        assert (first.trigger, first.trigger_node, first.version) == ("schedule", "tick", 1)
        assert first.input["schedule"] == {"every": 2, "unit": "seconds", "timezone": "UTC"}
        assert first.result == first.input["fired_at"]
        assert 1.0 < (second.created_at - first.created_at).total_seconds() < 3.5

        changes = beat.changes()
        assert alice_client.post(f"{LIST}{workflow['id']}/unpublish/").status_code == 200
        _wait(lambda: beat.changes() > changes, 15, f"beat did not see the unpublish (beat log: {beat.log_path})")
        sent, started = beat.sent(entry), runs.count()
        watch_until = time.monotonic() + 3.0  # one and a half periods
        while time.monotonic() < watch_until:
            assert beat.sent(entry) == sent, "beat still sends the unpublished schedule"
            time.sleep(0.1)
        assert beat.sent(entry) == sent, "beat still sends the unpublished schedule"
        assert runs.count() == started
        assert beat.process.poll() is None  # the same beat process throughout
    finally:
        beat.stop()
