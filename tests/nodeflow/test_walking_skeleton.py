"""The first workflow runs end to end: production mode (PostgreSQL, Redis, a worker process) and embedded mode."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.conftest import ROOT, wait_for_execution

TINY = {
    "api_version": "nodeflow/v1",
    "name": "Tiny",
    "nodes": [
        {"id": "start", "type": "trigger.manual"},
        {"id": "pass", "type": "flow.noop"},
        {"id": "done", "type": "flow.terminal", "params": {"result": {"hello": "{{ input.name }}"}}},
    ],
    "edges": [{"from": "start", "to": "pass"}, {"from": "pass", "to": "done"}],
}

# TINY behind an async webhook.
HOOKED = {
    "api_version": "nodeflow/v1",
    "name": "Hooked",
    "nodes": [
        {"id": "hook", "type": "trigger.webhook", "params": {"response": "async"}},
        {"id": "pass", "type": "flow.noop"},
        {"id": "done", "type": "flow.terminal", "params": {"result": {"hello": "{{ input.body.name }}"}}},
    ],
    "edges": [{"from": "hook", "to": "pass"}, {"from": "pass", "to": "done"}],
}


def test_tiny_workflow_runs_on_a_worker_process_through_the_api(celery_worker, alice_client, settings):
    # Every node to the worker: with the default a run of instant nodes ends in the request
    # (tests/triggers/test_runs.py), and the worker process is what this test is about.
    settings.NODEFLOW = {**settings.NODEFLOW, "LOCAL_RUN_ON_START_S": 0}
    created = alice_client.post("/api/v1/workflows/", {"name": "Tiny", "definition": TINY}, format="json")
    assert created.status_code == 201, created.content
    workflow_id = created.json()["id"]
    started = alice_client.post(f"/api/v1/workflows/{workflow_id}/run/", {"input": {"name": "ada"}}, format="json")
    assert started.status_code == 202, started.content
    assert started.json()["status"] == "queued"
    execution_id = started.json()["execution_id"]
    wait_for_execution(execution_id)

    execution = alice_client.get(f"/api/v1/executions/{execution_id}/").json()
    assert execution["status"] == "succeeded"
    assert execution["result"] == {"hello": "ada"}
    assert execution["workflow"] == workflow_id
    assert execution["node_counts"] == {"completed": 3}
    nodes = alice_client.get(f"/api/v1/executions/{execution_id}/nodes/").json()
    assert [n["node_id"] for n in nodes] == ["start", "pass", "done"]
    assert all(n["status"] == "completed" and n["worker"].startswith("test-") for n in nodes)
    events = list(
        __import__("executions.models", fromlist=["ExecutionEvent"]).ExecutionEvent.objects.filter(
            execution_id=execution_id
        ).values_list("type", flat=True)
    )
    # The execution's own event opens the log (then the trigger is queued, then the execution starts).
    assert events[:3] == ["EXECUTION_STATE_CHANGED", "NODE_STATE_CHANGED", "EXECUTION_STARTED"]
    assert events[-1] == "EXECUTION_COMPLETED"


def test_token_endpoint_gives_a_token_that_authenticates(client, alice):
    response = client.post("/api/v1/auth/token/", {"username": "alice", "password": "alice-password-1"},
                           content_type="application/json")
    assert response.status_code == 200
    token = response.json()["token"]
    listed = client.get("/api/v1/workflows/", HTTP_AUTHORIZATION=f"Token {token}")
    assert listed.status_code == 200
    wrong = client.post("/api/v1/auth/token/", {"username": "alice", "password": "nope"}, content_type="application/json")
    assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "invalid"


def test_api_without_credentials_is_refused_with_the_error_envelope(client, db):
    response = client.get("/api/v1/workflows/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_healthz_is_503_without_workers_and_200_with_one(client, transactional_db, _session_worker):
    _session_worker.stop()
    down = client.get("/healthz")
    assert down.status_code == 503
    assert down.json()["database"]["ok"] and down.json()["broker"]["ok"] and not down.json()["workers"]["ok"]
    _session_worker.start()
    up = client.get("/healthz")
    assert up.status_code == 200, up.json()
    assert up.json()["workers"]["count"] >= 1


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _request(url, data=None, token=None, method=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Token {token}"
    body = json.dumps(data).encode() if data is not None else None
    request = urllib.request.Request(url, data=body, headers=headers, method=method)
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.loads(response.read() or b"null")


@pytest.mark.slow
def test_embedded_mode_runs_the_tiny_workflow_with_no_external_service(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "NODEFLOW_BROKER_PREFIX")}
    env.update(
        DJANGO_SETTINGS_MODULE="nodeflow.settings",
        NODEFLOW_DATA_DIR=str(tmp_path),
        DJANGO_SUPERUSER_USERNAME="admin",
        DJANGO_SUPERUSER_PASSWORD="admin-password-1",
        DJANGO_SUPERUSER_EMAIL="admin@example.com",
    )
    manage = [sys.executable, str(ROOT / "manage.py")]
    migrated = subprocess.run(manage + ["migrate", "--noinput"], env=env, capture_output=True, text=True, cwd=ROOT)
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    subprocess.run(manage + ["createsuperuser", "--noinput"], env=env, check=True, capture_output=True, cwd=ROOT)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    server = subprocess.Popen(manage + ["nodeflow", "dev", "--port", str(port)], env=env, cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        while True:
            try:
                status, health = _request(f"{base}/healthz")
                if status == 200:
                    break
            except OSError:
                pass
            assert server.poll() is None, server.stdout.read()
            assert time.monotonic() - started < 10, "embedded mode was not healthy within 10 s"
            time.sleep(0.1)
        startup_s = time.monotonic() - started
        assert health["database"]["vendor"] == "sqlite" and health["workers"]["embedded"]

        _, token = _request(f"{base}/api/v1/auth/token/", {"username": "admin", "password": "admin-password-1"})
        token = token["token"]
        status, workflow = _request(f"{base}/api/v1/workflows/", {"name": "Tiny", "definition": TINY}, token)
        assert status == 201
        status, run = _request(f"{base}/api/v1/workflows/{workflow['id']}/run/", {"input": {"name": "bo"}}, token)
        assert status == 202
        deadline = time.monotonic() + 15
        while True:
            _, execution = _request(f"{base}/api/v1/executions/{run['execution_id']}/", token=token)
            if execution["status"] in ("succeeded", "failed"):
                break
            assert time.monotonic() < deadline, execution
            time.sleep(0.05)
        assert execution["status"] == "succeeded" and execution["result"] == {"hello": "bo"}
        _, nodes = _request(f"{base}/api/v1/executions/{run['execution_id']}/nodes/", token=token)
        # Its nodes are all instant: they ran in the request that started it (executing.start_here).
        assert [n["worker"] for n in nodes] == [f"inline@{socket.gethostname()}"] * 3

        # A webhook: embedded mode mounts no webhook door (SQLite), Django's view starts the run.
        status, hooked = _request(f"{base}/api/v1/workflows/", {"name": "Hooked", "definition": HOOKED}, token)
        assert status == 201
        status, _ = _request(f"{base}/api/v1/workflows/{hooked['id']}/publish/", {}, token)
        assert status == 201
        hook_path = "/hooks/" + hooked["triggers"][0]["url"].rsplit("/", 1)[-1]
        status, accepted = _request(f"{base}{hook_path}", {"name": "hook"})
        assert status == 202
        deadline = time.monotonic() + 15
        while True:
            _, execution = _request(f"{base}/api/v1/executions/{accepted['execution_id']}/", token=token)
            if execution["status"] in ("succeeded", "failed"):
                break
            assert time.monotonic() < deadline, execution
            time.sleep(0.05)
        assert execution["status"] == "succeeded" and execution["result"] == {"hello": "hook"}
        _, nodes = _request(f"{base}/api/v1/executions/{accepted['execution_id']}/nodes/", token=token)
        assert [n["worker"] for n in nodes] == ["embedded@nodeflow"] * 3  # an async webhook's: the embedded worker
    finally:
        server.send_signal(signal.SIGINT)
        output, _ = server.communicate(timeout=20)
    assert server.returncode == 0, output
    assert f"http://127.0.0.1:{port}/" in output and "Stopped." in output
    print(f"embedded mode healthy after {startup_s:.2f} s")


def test_manage_py_check_is_clean():
    result = subprocess.run([sys.executable, "manage.py", "check", "--fail-level", "WARNING"], cwd=ROOT,
                            capture_output=True, text=True, env={**os.environ, "DJANGO_SETTINGS_MODULE": "nodeflow.settings"})
    assert result.returncode == 0, result.stdout + result.stderr


IMPORTS_PROBE = """
import json, sys, django
django.setup()
import nodeflow.urls, nodeflow.asgi, nodeflow.embedded, executions.tasks, uvicorn  # what `nodeflow dev` loads
from nodeflow.celery import app
app.loader.import_default_modules()  # every app's tasks, as the embedded worker imports them
print(json.dumps({name: sys.modules.get(name) is not None for name in ("psycopg", "cryptography", "redis")}))
"""


def test_embedded_mode_starts_without_the_libraries_only_production_or_secrets_need(tmp_path):
    # Each weighs 8–25 MB of the 100 MB embedded mode may use when idle (PERFORMANCE.md P8):
    # psycopg (SQLite needs none), cryptography (loaded when a secret is first stored or read),
    # redis (production's broker and cache).
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "NODEFLOW_BROKER_PREFIX")}
    env.update(DJANGO_SETTINGS_MODULE="nodeflow.settings", NODEFLOW_DATA_DIR=str(tmp_path))
    result = subprocess.run([sys.executable, "-c", IMPORTS_PROBE], env=env, capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-2000:]
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded == {"psycopg": False, "cryptography": False, "redis": False}
