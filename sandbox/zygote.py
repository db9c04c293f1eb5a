"""The worker's handle on its zygote: start, hand over runs, notice death, restart.

One zygote per worker process. A zygote inherited across fork() (Celery prefork) is
never reused: the child forgets it and starts its own on the next run.
"""

import array
import base64
import json
import logging
import os
import select
import socket
import subprocess
import threading
import time

from . import settings as sandbox_settings
from .launch import LaunchPlan, SandboxUnavailable, current_plan

logger = logging.getLogger("nodeflow.sandbox")


class ZygoteDead(RuntimeError):
    """The zygote is gone or does not answer; the caller may restart it once."""


class Zygote:
    """A running zygote process and the control socket that feeds it runs."""

    def __init__(self, plan: LaunchPlan, current: sandbox_settings.SandboxSettings,
                 generation: int):
        self.plan = plan
        self.generation = generation
        self.owner_pid = os.getpid()
        self.dead = False
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        argv, kwargs = plan.command(["-I", "-S", "-B", "-X", "utf8", "@ZYGOTE@",
                                     str(theirs.fileno())])
        started = time.perf_counter()
        # A raw pipe read with os.read, not a Popen file object: a buffered reader's
        # lock held by the drain thread at fork() would deadlock the forked child.
        self.stderr_fd, stderr_w = os.pipe2(os.O_CLOEXEC)
        try:
            self.process = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=stderr_w, pass_fds=[theirs.fileno()], **kwargs)
        except OSError as exc:
            ours.close()
            os.close(self.stderr_fd)
            raise SandboxUnavailable(f"cannot start the sandbox zygote: {exc}") from exc
        finally:
            theirs.close()
            os.close(stderr_w)
        self.sock = ours
        self.drainer = threading.Thread(target=self._drain_stderr, daemon=True,
                                        name="sandbox-zygote-stderr")
        try:
            self.info = self._handshake(current)
        except BaseException:
            self.close()
            raise
        self.start_ms = (time.perf_counter() - started) * 1000
        self.drainer.start()
        if self.info.get("failed"):
            logger.warning("sandbox: allow-listed modules that failed to load: %s",
                           self.info["failed"])

    def _handshake(self, current) -> dict:
        init = {"allowed_modules": list(current.allowed_modules),
                "python_guards": current.python_guards,
                "prefork": current.prefork,
                "bpf": base64.b64encode(self.plan.bpf).decode() if self.plan.bpf else None}
        self.sock.send(json.dumps(init).encode())
        reply = b""
        if _readable(self.sock, current.zygote_start_timeout_s):
            reply = self.sock.recv(1 << 20)
        if not reply:
            self.process.kill()
            self.process.wait(timeout=5)
            err = b""
            os.set_blocking(self.stderr_fd, False)  # jailed processes may hold the pipe
            try:
                while chunk := os.read(self.stderr_fd, 65536):
                    err += chunk
            except BlockingIOError:
                pass
            raise SandboxUnavailable(
                "the sandbox zygote did not start: "
                + (err.decode(errors="replace").strip()[-2000:] or "no answer"))
        return json.loads(reply)

    def _drain_stderr(self):
        fd, pending = self.stderr_fd, b""
        while chunk := os.read(fd, 65536):
            *lines, pending = (pending + chunk).split(b"\n")
            for line in lines:
                logger.warning("sandbox zygote: %s", line.decode(errors="replace"))
        self.stderr_fd = None  # before the close: a fork in between must not close it
        os.close(fd)

    def alive(self) -> bool:
        if self.dead or self.process.poll() is not None:
            return False
        # The zygote never writes after its handshake: readable means EOF, it is gone
        # (bwrap may not have noticed yet).
        try:
            if _readable(self.sock, 0):
                self.dead = True
        except (ValueError, OSError):  # closed by another thread meanwhile
            self.dead = True
        return not self.dead

    def submit(self, header: bytes, fds: list) -> None:
        try:
            self.sock.sendmsg([header], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                                          array.array("i", fds))])
        except OSError as exc:
            self.dead = True
            raise ZygoteDead(f"cannot reach the sandbox zygote: {exc}") from exc

    def kill(self) -> None:
        """SIGKILL the zygote (and with it its pid namespace); for tests and a stuck zygote."""
        self.dead = True
        try:
            self.process.kill()
        except OSError:
            pass

    def close(self) -> None:
        self.dead = True
        try:
            self.sock.close()  # EOF on the control socket makes the zygote exit
        except OSError:
            pass
        if not self.drainer.is_alive() and self.stderr_fd is not None:
            os.close(self.stderr_fd)  # the handshake failed before the drainer started
            self.stderr_fd = None
        try:
            self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def forget(self) -> None:
        """In a forked child: drop the inherited copies without touching the process."""
        self.dead = True
        self.sock.close()
        if self.stderr_fd is not None:
            os.close(self.stderr_fd)
            self.stderr_fd = None


def _readable(sock, timeout_s: float) -> bool:
    # poll, not select: a busy worker's fds can be above select()'s 1024 limit.
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(timeout_s * 1000))


_lock = threading.Lock()
_zygote: Zygote | None = None


def get_zygote() -> Zygote:
    """This process's live zygote for the current settings, started if needed."""
    global _zygote
    zygote = _zygote
    if (zygote is not None and zygote.owner_pid == os.getpid() and zygote.alive()
            and zygote.generation == sandbox_settings.generation()):
        return zygote
    with _lock:
        zygote = _zygote
        generation = sandbox_settings.generation()
        if zygote is not None and zygote.owner_pid == os.getpid():
            if zygote.alive() and zygote.generation == generation:
                return zygote
            zygote.close()
        _zygote = None
        plan = current_plan()
        if plan.mode == "unavailable":
            raise SandboxUnavailable(plan.detail)
        _zygote = Zygote(plan, sandbox_settings.current(), generation)
        return _zygote


def current_zygote() -> Zygote | None:
    """The zygote started by this process, if any (no start)."""
    zygote = _zygote
    return zygote if zygote is not None and zygote.owner_pid == os.getpid() else None


def shutdown() -> None:
    global _zygote
    with _lock:
        if _zygote is not None and _zygote.owner_pid == os.getpid():
            _zygote.close()
        _zygote = None


def _after_fork_in_child():
    global _zygote, _lock
    _lock = threading.Lock()  # another thread may have held it at fork time
    if _zygote is not None:
        _zygote.forget()
    _zygote = None


os.register_at_fork(after_in_child=_after_fork_in_child)
