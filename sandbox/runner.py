"""run_code(): one code-node run, from the worker's side of the wall.

The worker, not the child, enforces the wall-time and output limits: anything inside
the child can be bypassed by code that writes straight to its file descriptors.
"""

import array
import fcntl
import json
import os
import select
import signal
import socket
import struct
import time

from . import settings as sandbox_settings
from .launch import SandboxUnavailable, current_plan
from .limits import clamp_limits, coerce_limits
from .result import SandboxResult, failure, log_entry, make_error
from .syntax import check_syntax, find_forbidden_attribute
from .zygote import ZygoteDead, get_zygote

F_SETPIPE_SZ = 1031
PIPE_SIZE = 1 << 20
READ_CHUNK = 1 << 16
# After a SIGKILL the child's exit is near-instant; longer means the zygote is stuck.
REAP_GRACE_S = 2.0
# How long to wait for the zygote to fork before calling it stuck (on top of wall).
START_GRACE_S = 2.0
EXIT_OUT_OF_MEMORY = 71
# A zygote found dead before it forked a run is replaced this many times, silently.
RESTARTS_BEFORE_A_RUN = 2  # jail/zygote.py: the child could not even report a MemoryError


def effective_limits(limits=None):
    """The SandboxLimits a run given `limits` (a node's `limits` param, or None) gets: the configured
    defaults where it says nothing, each clamped to the server maxima. TypeError or ValueError for
    limits that are not valid."""
    current = sandbox_settings.current()
    return clamp_limits(coerce_limits(limits if limits is not None else current.default_limits), current.max_limits)


def run_code(code: str, ctx: dict, limits=None, *, trace: dict | None = None) -> SandboxResult:
    """Run `code`'s run(ctx) in the sandbox; never raises for anything the code does.

    `trace` (benchmarks): a dict that receives the worker-side stage times and the
    child's own stage times and page faults.
    """
    started = time.perf_counter()
    current = sandbox_settings.current()

    def elapsed():
        return (time.perf_counter() - started) * 1000

    try:
        effective = effective_limits(limits)
    except (TypeError, ValueError) as exc:
        return failure(make_error("permanent", f"Invalid sandbox limits: {exc}"),
                       duration_ms=elapsed())
    problem = check_syntax(code)
    if problem:
        return failure(make_error("permanent", problem["message"], line=problem["line"],
                                  column=problem["column"]), duration_ms=elapsed())
    if current.python_guards:
        forbidden = find_forbidden_attribute(code)
        if forbidden:
            return failure(make_error("sandbox", forbidden["message"], limit="operation",
                                      line=forbidden["line"], column=forbidden["column"]),
                           duration_ms=elapsed())
    if not isinstance(ctx, dict):
        return failure(make_error("permanent", "The context must be a dict"),
                       duration_ms=elapsed())
    ctx = {"input": {}, "vars": {}, "nodes": {}, "execution": {}, **ctx}
    try:
        payload = json.dumps({"code": code, "ctx": ctx}, allow_nan=False).encode()
    except (TypeError, ValueError, RecursionError) as exc:
        return failure(make_error("permanent", f"The context is not JSON-serialisable: {exc}"),
                       duration_ms=elapsed())
    result = _execute(payload, effective, trace)
    result.duration_ms = elapsed()
    return result


def _execute(payload: bytes, limits, trace=None) -> SandboxResult:
    header = json.dumps({"limits": limits.as_dict(), "trace": trace is not None}).encode()
    for attempt in range(1 + RESTARTS_BEFORE_A_RUN):
        try:
            zygote = get_zygote()
        except SandboxUnavailable as exc:
            return failure(make_error("sandbox", f"The sandbox is not available: {exc}"))
        run = _Run(zygote, payload, limits)
        try:
            run.submit(header)
            result = run.collect()
            if trace is not None:
                run.report_trace(trace, result)
            return result
        except ZygoteDead as exc:
            zygote.kill()  # never reused: the next get_zygote() starts a fresh one
            if run.pidfd is None and attempt < RESTARTS_BEFORE_A_RUN:
                continue  # it died before forking this run: nothing ran yet, retry
            return failure(make_error("sandbox",
                                      f"The sandbox process died during the run: {exc}"),
                           logs=run.logs)
        finally:
            run.close()
    return failure(make_error("sandbox", "The sandbox zygote could not be (re)started"))


class _Run:
    """The pipes of one run and the loop that reads them under the limits."""

    def __init__(self, zygote, payload: bytes, limits):
        self.created = time.monotonic()
        self.zygote = zygote
        self.payload = memoryview(payload)
        self.limits = limits
        self.logs = []
        self.pidfd = None
        self.status = None
        self.killed_for = None
        self.result = bytearray()
        self.partial = {}
        self.budget = limits.output_bytes
        self.fds = []
        self.input_r, self.input_w = self._pipe()
        self.stdout_r, self.stdout_w = self._pipe()
        self.stderr_r, self.stderr_w = self._pipe()
        self.result_r, self.result_w = self._pipe()
        self.sock, self.sock_child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)

    def _pipe(self):
        r, w = os.pipe2(os.O_CLOEXEC)
        self.fds += [r, w]
        return r, w

    def submit(self, header: bytes):
        # Most inputs fit in one pipe buffer (enlarged when needed, as far as the
        # per-user pipe quota allows): written before the child even exists.
        if len(self.payload) > 65536:
            try:
                fcntl.fcntl(self.input_w, F_SETPIPE_SZ, PIPE_SIZE)
            except OSError:
                pass
        os.set_blocking(self.input_w, False)
        self._write_input()
        child_ends = [self.input_r, self.stdout_w, self.stderr_w, self.result_w]
        try:
            self.zygote.submit(header, child_ends + [self.sock_child.fileno()])
        finally:
            for fd in child_ends:
                self._close_fd(fd)
            self.sock_child.close()
        self.submitted = time.monotonic()
        self.marks = {"submitted": self.submitted}

    def _write_input(self):
        if self.input_w is None:
            return
        try:
            while self.payload:
                self.payload = self.payload[os.write(self.input_w, self.payload):]
        except BlockingIOError:
            return
        except BrokenPipeError:
            pass
        self._close_fd(self.input_w)
        self.input_w = None

    def _close_fd(self, fd):
        if fd in self.fds:
            self.fds.remove(fd)
            os.close(fd)

    def close(self):
        for fd in list(self.fds):
            self._close_fd(fd)
        self.sock.close()
        self.sock_child.close()
        if self.pidfd is not None:
            os.close(self.pidfd)
            self.pidfd = None

    def kill(self, reason: str):
        if self.killed_for is None:
            self.killed_for = reason
            self.killed_at = time.monotonic()
        if self.pidfd is not None:
            try:
                signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def collect(self) -> SandboxResult:
        poller = select.poll()
        readers = {self.stdout_r: "info", self.stderr_r: "error", self.result_r: "result"}
        for fd in readers:
            poller.register(fd, select.POLLIN)
        poller.register(self.sock, select.POLLIN)
        if self.input_w is not None:
            poller.register(self.input_w, select.POLLOUT)
        deadline = self.submitted + self.limits.wall_ms / 1000
        open_readers = set(readers)
        # A complete result document with every pipe at EOF is the end of a run; the
        # exit status only matters when there is no document.
        while open_readers or (self.status is None and self._document() is None):
            now = time.monotonic()
            if self.killed_for is None and now >= deadline:
                self.kill("wall")
            if self.killed_for is not None:
                if self.pidfd is None and now - self.killed_at > START_GRACE_S:
                    raise ZygoteDead("the zygote did not start the run")
                if now - self.killed_at > REAP_GRACE_S:
                    raise ZygoteDead("the killed run was not reaped")
                wait = 0.05
            else:
                wait = deadline - now
            for fd, _event in poller.poll(max(wait, 0) * 1000):
                if fd == self.sock.fileno():
                    if not self._receive_control():
                        poller.unregister(self.sock)
                        if self.status is None:
                            raise ZygoteDead("the zygote closed the run socket")
                elif fd == self.input_w:
                    self._write_input()
                    if self.input_w is None:
                        poller.unregister(fd)
                else:
                    data = os.read(fd, READ_CHUNK)
                    if not data:
                        poller.unregister(fd)
                        open_readers.discard(fd)
                        self._flush_partial(fd, readers[fd])
                        continue
                    if self.killed_for is not None:
                        continue
                    self.budget -= len(data)
                    if self.budget < 0:
                        self.kill("output")
                        continue
                    self._take(fd, readers[fd], data)
        return self._outcome()

    def _receive_control(self) -> bool:
        fds = array.array("i")
        msg, ancdata, _, _ = self.sock.recvmsg(64, socket.CMSG_SPACE(fds.itemsize),
                                               socket.MSG_CMSG_CLOEXEC)
        for level, kind, data in ancdata:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(data[: len(data) - len(data) % fds.itemsize])
        if not msg:
            return False
        if msg[:1] == b"P" and fds:
            self.pidfd = fds[0]
            for extra in fds[1:]:
                os.close(extra)
            if self.killed_for is not None:
                self.kill(self.killed_for)
        elif msg[:1] == b"S":
            self.status = struct.unpack("!i", msg[1:5])[0]
        return True

    def report_trace(self, trace: dict, result: SandboxResult):
        """Worker-side stage times (ms) and the child's own, for the benchmark."""
        marks, submitted = self.marks, self.marks["submitted"]
        trace["before_submit_ms"] = (submitted - self.created) * 1000
        trace["submit_to_result_ms"] = (time.monotonic() - submitted) * 1000
        kept = []
        for entry in result.logs:
            if entry["level"] == "error" and entry["message"].startswith("nodeflow-trace "):
                trace["child"] = json.loads(entry["message"].split(" ", 1)[1])
            else:
                kept.append(entry)
        result.logs[:] = kept
        if "child" in trace:
            trace["submit_to_child_request_ms"] = (trace["child"]["t_request"] - submitted) * 1000

    def _take(self, fd, kind, data):
        if kind == "result":
            self.result += data
            return
        text = self.partial.pop(fd, b"") + data
        *lines, rest = text.split(b"\n")
        for line in lines:
            self.logs.append(log_entry(kind, line.decode("utf-8", "replace")))
        if rest:
            self.partial[fd] = rest

    def _flush_partial(self, fd, kind):
        rest = self.partial.pop(fd, b"")
        if rest and kind != "result":
            self.logs.append(log_entry(kind, rest.decode("utf-8", "replace")))

    def _outcome(self) -> SandboxResult:
        limits = self.limits
        if self.killed_for == "wall":
            return self._fail("wall", f"Wall time limit of {limits.wall_ms} ms exceeded")
        if self.killed_for == "output":
            return self._fail("output", f"Output limit of {limits.output_bytes} bytes "
                                        "(return value + logs) exceeded")
        document = self._document()
        if document is not None:
            result = self._from_document(document)
            resources = document.get("resources")
            result.resources = resources if isinstance(resources, dict) else None
            return result
        return self._from_status()

    def _from_document(self, document) -> SandboxResult:
        if document.get("ok"):
            return SandboxResult(ok=True, value=document.get("value"),
                                 vars=document.get("vars") or {}, globals=document.get("globals"),
                                 logs=self.logs)
        error = document.get("error") or {}
        return failure(make_error(
            error.get("class") if error.get("class") in ("sandbox", "permanent")
            else "sandbox",
            str(error.get("message") or "The run failed"), limit=error.get("limit"),
            traceback=error.get("traceback"), line=error.get("line")), logs=self.logs)

    def _document(self):
        if len(self.result) < 8:
            return None
        (length,) = struct.unpack("!Q", self.result[:8])
        if len(self.result) != 8 + length:
            return None
        try:
            document = json.loads(self.result[8:])
        except ValueError:
            return None
        return document if isinstance(document, dict) else None

    def _from_status(self) -> SandboxResult:
        status = self.status
        limits = self.limits
        if status is not None and os.WIFSIGNALED(status):
            sig = os.WTERMSIG(status)
            if sig == signal.SIGSYS:
                return self._fail("syscall", "A forbidden system call was attempted; the "
                                             "run was killed by the seccomp filter")
            if sig in (signal.SIGPROF, signal.SIGXCPU, signal.SIGKILL):
                return self._fail("cpu", f"CPU time limit of {limits.cpu_ms} ms exceeded")
            if sig in (signal.SIGSEGV, signal.SIGBUS):
                return self._fail("stack", "The run crashed (segmentation fault): the stack "
                                           "limit was exceeded, most likely by deep recursion")
            if sig == signal.SIGABRT:
                return self._fail("memory", "The run aborted, most likely out of memory "
                                            f"(limit {limits.memory_mb} MB)")
            return self._fail(None, f"The run was killed by signal {signal.Signals(sig).name}")
        code = os.WEXITSTATUS(status) if status is not None else None
        if code == EXIT_OUT_OF_MEMORY:
            return self._fail("memory", f"Memory limit of {limits.memory_mb} MB exceeded")
        return self._fail(None, f"The run ended without a result (exit status {code})")

    def _fail(self, limit, message) -> SandboxResult:
        return failure(make_error("sandbox", message, limit=limit), logs=self.logs)
