"""Shared test fixtures: named users, API clients, a real Celery worker process, golden workflows."""

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest

from engine.states import EXECUTION_FINAL

# Django is imported inside fixtures so that the pure engine and sandbox tests also run
# without it (`pytest -p no:django tests/engine`).

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def load_workflow(name):
    """A golden workflow document from tests/fixtures/workflows/."""
    return json.loads((FIXTURES / "workflows" / f"{name}.json").read_text())


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_user("alice", "alice@example.com", "alice-password-1")


@pytest.fixture
def bob(django_user_model):
    return django_user_model.objects.create_user("bob", "bob@example.com", "bob-password-1")


def _client_for(user):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def alice_client(alice):
    return _client_for(alice)


@pytest.fixture
def bob_client(bob):
    return _client_for(bob)


def service_env(**extra):
    """The environment a NodeFlow process started by a test needs to share this test's database and broker."""
    from django.db import connection

    env = dict(os.environ)
    # Not a pytest-xdist process: tests/settings.py would add that process's name to the prefix given here.
    env.pop("PYTEST_XDIST_WORKER", None)
    settings_dict = connection.settings_dict
    env.update(
        DJANGO_SETTINGS_MODULE="nodeflow.settings",
        DATABASE_URL=f"postgres://{settings_dict['USER'] or 'postgres'}@{settings_dict['HOST'] or '127.0.0.1'}:"
        f"{settings_dict['PORT'] or 5432}/{settings_dict['NAME']}",
        PYTHONDONTWRITEBYTECODE="1",
    )
    env.update(extra)
    return env


class WorkerProcess:
    """A real `celery worker` process against the test database and broker."""

    def __init__(self, concurrency=2, queues="default,http,sandbox", pool="prefork", env=None):
        self.env = env or {}
        self.concurrency = concurrency
        self.queues = queues
        self.pool = pool
        self.name = f"test-{uuid.uuid4().hex[:6]}@%h"
        self.process = None
        self.log_path = Path(os.environ.get("NODEFLOW_TEST_ARTIFACTS", ROOT / "test-artifacts")) / f"worker-{uuid.uuid4().hex[:6]}.log"

    def start(self, timeout=60):  # a worker starts in seconds; the suite's other test processes load the machine
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log = open(self.log_path, "wb")
        command = [
            sys.executable, "-m", "celery", "-A", "nodeflow", "worker",
            "-P", self.pool, "-c", str(self.concurrency), "-Q", self.queues, "-n", self.name,
            "--without-gossip", "--without-mingle", "-l", "WARNING",
        ]
        self.process = subprocess.Popen(command, cwd=ROOT, env=service_env(**self.env), stdout=self.log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        self._wait_ready(timeout)
        return self

    @contextmanager
    def control_app(self):
        """The Celery app that reaches this worker's broker (the test process's own)."""
        from nodeflow.celery import app

        yield app

    def _wait_ready(self, timeout):
        with self.control_app() as app:
            self._wait_for_ping(app, timeout)

    def _wait_for_ping(self, app, timeout):
        hostname = self.name.replace("%h", os.uname().nodename)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"celery worker exited with {self.process.returncode}; log: {self.log_path}")
            try:
                if app.control.ping(destination=[hostname], timeout=0.5):
                    return
            except Exception:  # noqa: BLE001 — a broker just started (again) may drop the first connections
                time.sleep(0.2)
        raise RuntimeError(f"celery worker did not answer a ping within {timeout} s; log: {self.log_path}")

    def child_pids(self):
        out = subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True).stdout
        return [int(pid) for pid in out.split()]

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def kill(self):
        """SIGKILL the whole worker (main process and pool children)."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


@pytest.fixture(scope="session")
def _session_worker(django_db_setup, django_db_blocker):
    worker = WorkerProcess()
    with django_db_blocker.unblock():
        worker.start()
    yield worker
    worker.stop()


@pytest.fixture
def celery_worker(_session_worker, transactional_db):
    """A running 2-process Celery worker; tests using it see committed data only (transactional_db)."""
    if not _session_worker.alive():
        _session_worker.start()
    return _session_worker


def wait_for_execution(execution_id, timeout=30, statuses=EXECUTION_FINAL):
    """Poll the database until the execution reaches one of `statuses`; returns it."""
    from executions.models import Execution

    deadline = time.monotonic() + timeout
    while True:
        execution = Execution.objects.get(pk=execution_id)
        if execution.status in statuses:
            return execution
        if time.monotonic() > deadline:
            raise AssertionError(f"execution {execution_id} is still {execution.status} after {timeout} s")
        time.sleep(0.02)


# Fixtures that start a real Celery worker process (acme_worker: tests/nodes/test_registered_nodes.py).
WORKER_FIXTURES = frozenset({"_session_worker", "celery_worker", "acme_worker"})


def pytest_collection_modifyitems(config, items):
    """A test that uses a worker fixture, itself or through another fixture, is marked `worker`:
    `pytest -m "not worker"` is then the fast suite without anyone remembering to mark a test."""
    for item in items:
        if WORKER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.worker)
