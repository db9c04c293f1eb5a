"""Issue 21, finding 5: X-Forwarded-For from a client does not move the login lockout.

The attack, from loopback: uvicorn trusts X-Forwarded-For from 127.0.0.1 by default, so
wrong passwords sent with a changing header never locked the name, and the right one
then returned a token. These tests start the web server the way the Procfile and
embedded mode do, and attack it over real HTTP."""

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import ROOT, service_env

ATTEMPTS = 5
LIMIT = 3
# A short window: the counters of this attack must not lock 127.0.0.1 for other tests.
WINDOW_S = 20


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def procfile_command(name):
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith(f"{name}:"):
            return line.split(":", 1)[1].strip()
    raise AssertionError(f"the Procfile has no {name} process")


class Server:
    def __init__(self, command, env, port):
        self.port = port
        artifacts = Path(os.environ.get("NODEFLOW_TEST_ARTIFACTS", ROOT / "test-artifacts"))
        artifacts.mkdir(parents=True, exist_ok=True)
        self.log = open(artifacts / f"server-{port}.log", "wb")
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                        start_new_session=True)

    def wait(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"the server exited with {self.process.returncode}"
            try:
                requests.get(f"http://127.0.0.1:{self.port}/healthz", timeout=2)
                return self
            except requests.ConnectionError:
                time.sleep(0.2)
        raise AssertionError(f"the server did not answer within {timeout} s; log: {self.log.name}")

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


def attack(port, username, password):
    """(statuses of the wrong passwords, status of the right one), each from a new X-Forwarded-For."""
    url = f"http://127.0.0.1:{port}/api/v1/auth/token/"
    wrong = [requests.post(url, json={"username": username, "password": f"guess-{i}"},
                           headers={"X-Forwarded-For": f"203.0.113.{i + 1}"}, timeout=10).status_code
             for i in range(ATTEMPTS)]
    right = requests.post(url, json={"username": username, "password": password},
                          headers={"X-Forwarded-For": "203.0.113.200"}, timeout=10)
    return wrong, right.status_code, right.text


LIMITS = {"NODEFLOW_LOGIN_FAILURE_LIMIT": str(LIMIT), "NODEFLOW_LOGIN_FAILURE_WINDOW_S": str(WINDOW_S),
          "NODEFLOW_THROTTLE_AUTH": "none", "ALLOWED_HOSTS": "127.0.0.1,localhost"}


@pytest.mark.slow
def test_the_procfile_web_server_does_not_let_x_forwarded_for_dodge_the_lockout(transactional_db, django_user_model):
    username, password = f"xff-{secrets.token_hex(4)}", "the-right-password-1"
    django_user_model.objects.create_user(username, password=password)
    port = free_port()
    env = service_env(PORT=str(port), WEB_DB_POOL_SIZE="2", **LIMITS)
    env.pop("NODEFLOW_NUM_PROXIES", None)
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"
    server = Server(["sh", "-c", f"exec env {procfile_command('web')}"], env, port)
    try:
        server.wait()
        wrong, right, text = attack(port, username, password)
    finally:
        server.stop()

    assert wrong == [400] * LIMIT + [429] * (ATTEMPTS - LIMIT), wrong
    assert right == 429 and "token" not in text


@pytest.mark.slow
def test_embedded_mode_does_not_let_x_forwarded_for_dodge_the_lockout(tmp_path):
    username, password = f"xff-{secrets.token_hex(4)}", "the-right-password-1"
    port = free_port()
    env = {key: value for key, value in os.environ.items()
           if key not in ("REDIS_URL", "CELERY_BROKER_URL", "NODEFLOW_NUM_PROXIES")}
    env.update(DJANGO_SETTINGS_MODULE="nodeflow.settings", NODEFLOW_DATA_DIR=str(tmp_path),
               DATABASE_URL=f"sqlite:///{tmp_path}/nodeflow.sqlite3", DJANGO_SUPERUSER_USERNAME=username,
               DJANGO_SUPERUSER_EMAIL="x@example.com", DJANGO_SUPERUSER_PASSWORD=password, **LIMITS)
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run([*manage, "createsuperuser", "--noinput"], cwd=ROOT, env=env, check=True, capture_output=True)
    server = Server([*manage, "nodeflow", "dev", "--port", str(port)], env, port)
    try:
        server.wait()
        wrong, right, text = attack(port, username, password)
    finally:
        server.stop()

    assert wrong == [400] * LIMIT + [429] * (ATTEMPTS - LIMIT), wrong
    assert right == 429 and "token" not in text
