"""Modes, and each OS layer proven a wall on its own."""

import os

import pytest

import sandbox
from sandbox import ALLOW_WEAK_SETTING, configure, run_code

from .conftest import assert_next_run_works, make_ctx

READ_PASSWD = "def run(ctx):\n    return open('/etc/passwd').read()\n"
CONNECT = ("import statistics\ndef run(ctx):\n"
           "    socket = statistics.sys.modules['socket']\n"
           "    socket.create_connection(('127.0.0.1', ctx['input']['port']), timeout=0.5)\n")


def test_missing_bubblewrap_refuses_runs_and_names_the_weak_setting():
    configure(bwrap_path="/nonexistent/bwrap")
    status = sandbox.sandbox_status()
    assert status["mode"] == "unavailable"
    assert ALLOW_WEAK_SETTING in status["detail"]
    assert "bubblewrap" in status["detail"]
    result = run_code("def run(ctx):\n    return 1\n", make_ctx())
    assert not result.ok
    assert result.error["class"] == "sandbox"
    assert ALLOW_WEAK_SETTING in result.error["message"]


def test_missing_seccomp_refuses_runs():
    configure(seccomp=False)
    status = sandbox.sandbox_status()
    assert status["mode"] == "unavailable"
    assert "seccomp" in status["detail"]


def test_weak_mode_runs_when_allowed_and_says_so(require_full_sandbox):
    configure(bwrap_path="/nonexistent/bwrap", allow_weak=True)
    status = sandbox.sandbox_status()
    assert status["mode"] == "weak"
    assert "WEAK SANDBOX" in status["detail"] and "bubblewrap" in status["detail"]
    assert_next_run_works()


def test_seccomp_alone_stops_file_access_without_bubblewrap(require_full_sandbox):
    configure(bwrap_path="/nonexistent/bwrap", allow_weak=True, python_guards=False)
    result = run_code(READ_PASSWD, make_ctx())
    assert result.error["limit"] == "syscall"
    assert_next_run_works()


def test_bubblewrap_alone_hides_the_host_files_and_network(require_full_sandbox, listener):
    configure(seccomp=False, python_guards=False, allow_weak=True)
    assert sandbox.sandbox_status()["mode"] == "weak"
    files = run_code(READ_PASSWD, make_ctx())
    assert files.error["class"] == "permanent"
    assert "FileNotFoundError" in files.error["message"]
    listing = run_code("import statistics\ndef run(ctx):\n"
                       "    return sorted(statistics.sys.modules['os'].listdir('/'))\n",
                       make_ctx())
    assert "etc" not in listing.value and "home" not in listing.value
    assert "usr" in listing.value
    network = run_code(CONNECT, make_ctx(port=listener.port))
    assert not network.ok
    assert listener.connections() == 0
    identity = run_code("import statistics\ndef run(ctx):\n"
                        "    return statistics.sys.modules['os'].getuid()\n", make_ctx())
    assert identity.value == 65534


def test_rlimits_alone_stop_fork_and_file_writes(require_full_sandbox):
    # No seccomp, no hooks: RLIMIT_NPROC=0 and RLIMIT_NOFILE still stop these.
    configure(seccomp=False, python_guards=False, allow_weak=True)
    fork = run_code("import statistics\ndef run(ctx):\n"
                    "    return statistics.sys.modules['os'].fork()\n", make_ctx())
    assert fork.error["class"] == "permanent"
    assert "BlockingIOError" in fork.error["message"] or "Resource" in fork.error["message"]
    pipe = run_code("import statistics\ndef run(ctx):\n"
                    "    return statistics.sys.modules['os'].pipe()\n", make_ctx())
    assert "Too many open files" in pipe.error["message"]


@pytest.mark.skipif(os.geteuid() != 0, reason="the uid drop only happens for a root worker")
def test_a_root_worker_drops_the_zygote_to_an_unprivileged_uid(require_full_sandbox):
    status = sandbox.sandbox_status()
    assert "uid 65534" in status["detail"]
