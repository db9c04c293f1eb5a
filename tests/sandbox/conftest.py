"""Fixtures for the sandbox tests: plain pytest, no Django."""

import os
import socket
import uuid

import pytest

import sandbox
from sandbox import settings as sandbox_settings

TRIVIAL = "def run(ctx):\n    return 2\n"


def make_ctx(**input_values):
    return {"input": dict(input_values), "vars": {}, "nodes": {},
            "execution": {"id": "e1", "workflow_id": "w1", "trigger": "manual"}}


def assert_next_run_works():
    """After any violation the next run must work (the zygote survived or restarted)."""
    result = sandbox.run_code(TRIVIAL, make_ctx())
    assert result.ok, result.error
    assert result.value == 2


@pytest.fixture(autouse=True)
def default_sandbox_settings():
    """Every test starts and ends with the default settings."""
    sandbox_settings.reset()
    yield
    sandbox_settings.reset()


@pytest.fixture(scope="session", autouse=True)
def warm_zygote():
    """Pay the probe and zygote start once, outside any test's timing."""
    sandbox.warm_up()
    yield
    sandbox.shutdown()


@pytest.fixture
def require_full_sandbox():
    status = sandbox.sandbox_status()
    if status["mode"] != "bwrap+seccomp":
        pytest.skip(f"needs bubblewrap and seccomp: {status['detail']}")
    return status


@pytest.fixture
def listener():
    """A TCP listener on 127.0.0.1; `.connections()` tells whether anyone came."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.setblocking(False)

    class Listener:
        port = server.getsockname()[1]

        @staticmethod
        def connections():
            count = 0
            while True:
                try:
                    conn, _ = server.accept()
                except BlockingIOError:
                    return count
                conn.close()
                count += 1

    yield Listener
    server.close()


@pytest.fixture
def marker_path():
    """A path in /tmp that escape attempts try to create; it must never appear."""
    path = f"/tmp/nodeflow-sandbox-marker-{uuid.uuid4().hex}"
    yield path
    if os.path.exists(path):
        os.unlink(path)
