"""Node types registered by an installed app (examples/acme) are found lazily and run in workers."""

import json
import os
import signal
import subprocess
import sys
import time
import uuid

import pytest
from celery import Celery

from tests.conftest import ROOT, service_env, wait_for_execution
from tests.nodes.support import node, workflow

ACME_SETTINGS = "tests.nodes.acme_settings"

CATALOG_SCRIPT = """
import json, django
django.setup()
from nodes.registry import UnknownNodeType, registry
try:
    node_type = registry.get("acme.score")
except UnknownNodeType as exc:
    print(json.dumps({"error": str(exc)}))
else:
    entry = next(e for e in registry.catalog() if e["type"] == "acme.score")
    print(json.dumps({"entry": entry, "module": node_type.run.__module__}))
"""


def registry_in_a_fresh_process(settings_module):
    """What the registry of a new Python process with these settings says about acme.score."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": settings_module}
    done = subprocess.run([sys.executable, "-c", CATALOG_SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_installed_app_node_type_is_loaded_lazily_into_the_catalog():
    answer = registry_in_a_fresh_process(ACME_SETTINGS)

    assert answer["module"] == "examples.acme.nodes"
    entry = answer["entry"]
    assert entry["version"] == 1 and entry["latest"] is True
    assert entry["category"] == "acme"
    assert entry["params_schema"]["required"] == ["email"]
    assert entry["description"].startswith("Scores a sales lead")


def test_node_type_of_an_app_that_is_not_installed_is_unknown():
    answer = registry_in_a_fresh_process("tests.settings")

    assert "unknown node type 'acme.score'" in answer["error"]


class PrefixDispatcher:
    """Sends the first node run to workers listening under our own broker key prefix (the worker
    dispatches the rest itself, with its own settings)."""

    after_commit = True

    def __init__(self, app):
        self.app = app

    def dispatch(self, execution_id, starts):
        for start in starts:
            node_id, queue = (start.node_id, start.queue) if hasattr(start, "node_id") else tuple(start)[:2]
            self.app.send_task("nodeflow.run_node", args=(execution_id, node_id), queue=queue,
                               task_id=getattr(start, "task_id", None))

    def dispatch_later(self, execution_id, node_id, eta, reason, start=None):
        raise AssertionError("the acme workflows have no timers")

    def revoke(self, task_ids):
        self.app.control.revoke(task_ids, terminate=True, signal="SIGKILL")


@pytest.fixture(scope="module")
def acme_worker(django_db_setup, django_db_blocker):
    """A real Celery worker whose settings install examples.acme, isolated by its own broker key prefix
    (the shared test worker, without the app, must not take these tasks)."""
    from django.conf import settings

    prefix = f"nodeflow-acme-{uuid.uuid4().hex[:8]}:"
    name = f"acme-{uuid.uuid4().hex[:6]}@%h"
    with django_db_blocker.unblock():
        env = service_env(DJANGO_SETTINGS_MODULE=ACME_SETTINGS, NODEFLOW_BROKER_PREFIX=prefix)
    log_dir = ROOT / "test-artifacts"
    log_dir.mkdir(exist_ok=True)
    log = open(log_dir / f"worker-{name.split('@')[0]}.log", "wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "nodeflow", "worker", "-P", "prefork", "-c", "1",
         "-Q", "default,http,sandbox", "-n", name, "--without-gossip", "--without-mingle", "-l", "WARNING"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    app = Celery("acme-tests", set_as_current=False)
    app.conf.update(broker_url=settings.CELERY_BROKER_URL, broker_transport_options={"global_keyprefix": prefix},
                    task_serializer="json", accept_content=["json"])
    try:
        hostname = name.replace("%h", os.uname().nodename)
        deadline = time.monotonic() + 60  # the suite's other test processes load the machine meanwhile
        while not app.control.ping(destination=[hostname], timeout=0.5):
            assert process.poll() is None, f"the acme worker exited; see {log.name}"
            assert time.monotonic() < deadline, f"the acme worker did not answer a ping; see {log.name}"
        yield PrefixDispatcher(app)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


@pytest.fixture
def acme_installed_here(settings):
    """examples.acme installed in this process too: starting an execution compiles the workflow here.

    The registry is already loaded in this test process, so it is told to look at the
    installed apps again, and forgets acme afterwards."""
    from nodes.registry import registry

    settings.INSTALLED_APPS = [*settings.INSTALLED_APPS, "examples.acme"]
    registry.reload()
    try:
        assert registry.get("acme.score").run.__module__ == "examples.acme.nodes"
        yield
    finally:
        registry._types.pop(("acme.score", 1), None)
        sys.modules.pop("examples.acme.nodes", None)


SCORE_WORKFLOW = workflow([
    node("score", "acme.score", email="{{ input.email }}", visits="{{ input.visits }}"),
    node("done", "flow.terminal", result={"score": "{{ vars.score }}", "output": "{{ nodes.score.output }}"}),
])


def run_on(dispatcher, document, input_data):
    from executions import starting

    started = starting.start_execution(document, dispatcher=dispatcher, input_data=input_data)
    execution = wait_for_execution(started.pk)
    return execution, {run.node_id: run for run in execution.node_runs.all()}


def test_registered_node_runs_in_a_worker_that_installs_its_app(acme_worker, transactional_db, acme_installed_here):
    execution, runs = run_on(acme_worker, SCORE_WORKFLOW, {"email": "ada@analytical.example", "visits": 3})

    assert execution.status == "succeeded", runs["score"].error
    assert execution.result == {
        "score": 80,
        "output": {"score": 80, "company": True, "domain": "analytical.example"},
    }
    assert runs["score"].type == "acme.score" and runs["score"].type_version == 1
    assert runs["score"].worker.startswith("acme-")
    assert "80 points" in runs["score"].logs[0]["message"]


def test_registered_node_errors_reach_the_execution(acme_worker, transactional_db, acme_installed_here):
    execution, runs = run_on(acme_worker, SCORE_WORKFLOW, {"email": "not an address", "visits": 1})

    assert execution.status == "failed"
    assert execution.error["code"] == "acme.invalid_email"
    assert execution.error["message"] == "'not an address' is not an email address"
