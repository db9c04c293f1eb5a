"""NodeFlow code-node zygote: runs inside the jail and forks one child per run.

This file is the only NodeFlow code inside the jail. It is bind-mounted read-only and
started as ``python -I -S -B -X utf8 zygote.py`` by ``sandbox.zygote``; it imports the
standard library only (no NodeFlow package, no site-packages).

Protocol, on the SOCK_SEQPACKET control socket whose fd number is argv[1]:
  parent -> zygote  init: JSON {"allowed_modules", "bpf" (base64 or null), "python_guards"}
  zygote -> parent  JSON {"ready": true, "preloaded": [...], "failed": {...}}
  parent -> zygote  one message per run: JSON {"limits": {...}} plus 5 fds (SCM_RIGHTS):
                    input (read end), stdout, stderr, result (write ends), run socket.
On the run socket the zygote answers b"P" with the child's pidfd (so the parent can
SIGKILL it across the pid namespace), then b"S" + the raw wait status once the child
has been reaped.

The child reads {"code", "ctx"} (JSON) from fd 0, writes print() output to fd 1,
stderr to fd 2 and one result document to fd 3: an 8-byte big-endian length, then
JSON {"ok": true, "value", "vars"} or {"ok": false, "error": {...}}.
"""

import array
import base64
import builtins
import gc
import io
import json
import os
import resource
import select
import signal
import socket
import struct
import sys
import time

USER_FILENAME = "<code>"
# Child fds after setup; everything above RESULT_FD is closed before user code runs.
INPUT_FD, STDOUT_FD, STDERR_FD, RESULT_FD = 0, 1, 2, 3
# Exit status of a child that could not even report a MemoryError.
EXIT_OUT_OF_MEMORY = 71
SLACK_BYTES = 16 * 1024 * 1024  # room for the runner itself above the zygote's size

# Lazily imported by allow-listed modules or by the runner: loaded once here, because
# after seccomp an import that reaches the file system kills the child.
RUNNER_MODULES = ("ctypes", "traceback", "linecache", "collections.abc", "_strptime",
                  # imported inside functions of allow-listed modules (singledispatch,
                  # Counter.most_common, re's \N{...}, namedtuple, uuid, hashlib):
                  "typing", "types", "heapq", "weakref", "warnings", "unicodedata",
                  "operator", "copyreg", "numbers", "bisect", "contextvars", "locale",
                  "calendar", "keyword", "reprlib",
                  "encodings.idna", "encodings.latin_1", "encodings.ascii",
                  "encodings.utf_16", "encodings.utf_32", "encodings.cp1252",
                  "encodings.unicode_escape", "encodings.raw_unicode_escape",
                  "encodings.hex_codec", "encodings.base64_codec", "encodings.punycode")
WARM_CODECS = ("utf-8", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "latin-1",
               "ascii", "cp1252", "idna", "unicode_escape", "raw_unicode_escape",
               "hex", "base64", "punycode")

# Audit events that end the run at once. The import allow-list and seccomp stand
# behind this; the hook exists to name the operation in a friendly message.
DENIED_EVENT_PREFIXES = (
    "os.", "subprocess.", "socket.", "ctypes.", "gc.", "marshal.", "mmap.",
    "shutil.", "pty.", "fcntl.", "resource.", "syslog.", "tempfile.", "glob.",
    "urllib.", "http.", "ftplib.", "smtplib.", "poplib.", "imaplib.", "nntplib.",
    "telnetlib.", "webbrowser.", "sqlite3.", "pickle.", "shelve.", "dbm.",
    "cpython.", "winreg.", "msvcrt.", "_winapi.", "signal.", "faulthandler.",
    "sys.set", "sys.add", "sys._", "code.__new__", "function.__new__", "import",
    "open", "builtins.input", "builtins.breakpoint", "setopencodehook",
)
ALLOWED_EVENTS = frozenset({"exec", "compile", "builtins.id", "object.__setattr__",
                            "object.__delattr__", "time.sleep", "random.seed",
                            "array.__new__", "sys.excepthook", "sys.unraisablehook"})
# sys._getframe is allowed only to these modules' own code (namedtuple, Enum and
# TypeVar read their caller's module name); user code calling it ends the run.
FRAME_TRUSTED_MODULES = frozenset({"collections", "enum", "typing"})
# Attributes that hand out frames or code: the road to the runner's globals.
DENIED_ATTRIBUTES = frozenset({"tb_frame", "gi_frame", "cr_frame", "ag_frame",
                               "gi_code", "cr_code", "ag_code", "__code__", "f_back"})

PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2


class ModuleNotAllowedError(ImportError):
    """Raised by the code node's __import__ for a module outside the allow-list."""


def main():
    if sys.argv[1] == "--once":
        return run_once(int(sys.argv[2]))
    ctrl = socket.socket(fileno=int(sys.argv[1]))
    init = json.loads(ctrl.recv(1 << 20))
    allowed = tuple(init["allowed_modules"])
    preloaded, failed = preload(allowed)
    seccomp_loader = make_seccomp_loader(init.get("bpf"))
    # Children fork from here: freezing keeps gc from touching (and copying) every
    # preloaded object in every child.
    gc.collect()
    gc.freeze()
    ctrl.send(json.dumps({"ready": True, "preloaded": preloaded, "failed": failed,
                          "pid": os.getpid(), "uid": os.getuid()}).encode())
    serve(ctrl, {"allowed": allowed, "seccomp_loader": seccomp_loader,
                 "python_guards": bool(init.get("python_guards", True)),
                 "prefork": bool(init.get("prefork", True))})


def run_once(result_fd):
    """The benchmark's baseline: a new interpreter for one run, with the same walls.

    stdin: an 8-byte length, JSON {"init", "request"}, then the run's input document.
    No preloading beyond the runner's own imports, as a per-run design would do.
    """
    header = os.read(INPUT_FD, 8)
    wanted, raw = struct.unpack("!Q", header)[0], b""
    while len(raw) < wanted:
        raw += os.read(INPUT_FD, wanted - len(raw))
    setup = json.loads(raw)
    init = setup["init"]
    config = {"allowed": tuple(init["allowed_modules"]), "python_guards": True,
              "seccomp_loader": make_seccomp_loader(init.get("bpf"))}
    os.dup2(result_fd, RESULT_FD)
    os.closerange(RESULT_FD + 1, resource.getrlimit(resource.RLIMIT_NOFILE)[0])
    sys.stdout = io.TextIOWrapper(io.FileIO(STDOUT_FD, "w", closefd=False), encoding="utf-8",
                                  errors="backslashreplace", line_buffering=True)
    sys.stderr = io.TextIOWrapper(io.FileIO(STDERR_FD, "w", closefd=False), encoding="utf-8",
                                  errors="backslashreplace", line_buffering=True)
    import linecache, traceback  # noqa: E401,F401  what the zygote preloads for the runner
    child_main(setup["request"], config, address_space_size(),
               user_builtins(config["allowed"]), Trace(False))


def preload(allowed):
    loaded, failed = [], {}
    for name in RUNNER_MODULES + allowed:
        try:
            __import__(name)
            if name in allowed:
                loaded.append(name)
        except Exception as exc:  # an allow-listed module missing here is reported
            failed[name] = f"{type(exc).__name__}: {exc}"
    warm_up()
    return loaded, failed


def warm_up():
    """Run the lazy first-use paths (imports, tz, OpenSSL, codecs) before any fork."""
    # The first compile() of a process builds the AST types: ~4 ms per child otherwise.
    compile("def run(ctx):\n    return [x for x in ctx]\n", "<warm-up>", "exec")
    time.localtime()
    time.strftime("%c")
    mods = sys.modules
    for codec in WARM_CODECS:
        try:
            __import__("codecs").lookup(codec)
        except LookupError:
            pass
    if "datetime" in mods:
        mods["datetime"].datetime.strptime("2024-01-02 03:04", "%Y-%m-%d %H:%M")
        mods["datetime"].datetime.now().astimezone()
    if "hashlib" in mods:
        hashlib = mods["hashlib"]
        for algorithm in sorted(hashlib.algorithms_guaranteed):
            try:
                hashlib.new(algorithm, b"x")
            except ValueError:
                pass
    if "uuid" in mods:
        uuid = mods["uuid"]
        uuid.getnode()
        # libuuid may talk to uuidd over a socket: keep uuid1 on the pure-Python path.
        uuid._generate_time_safe = None
        uuid.uuid1()
        uuid.uuid4()
    if "decimal" in mods:
        str(mods["decimal"].Decimal(1) / 3)
    if "statistics" in mods:
        mods["statistics"].median([1, 2, 3])
    if "random" in mods:
        mods["random"].SystemRandom().random()


def make_seccomp_loader(bpf_b64):
    """Return a function that installs the exported BPF program, or None."""
    if not bpf_b64:
        return None
    import ctypes
    program = base64.b64decode(bpf_b64)

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = SockFprog(len(program) // 8, ctypes.addressof(buffer))
    libc = ctypes.CDLL(None, use_errno=True)
    prctl = libc.prctl
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p, ctypes.c_ulong,
                      ctypes.c_ulong]
    fprog_pointer = ctypes.addressof(fprog)

    def load():
        if prctl(PR_SET_NO_NEW_PRIVS, 1, None, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "PR_SET_NO_NEW_PRIVS failed")
        if prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, fprog_pointer, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "PR_SET_SECCOMP failed")

    load.keepalive = (buffer, fprog)
    return load


# --------------------------------------------------------------------------- zygote

def recv_request(sock):
    fds = array.array("i")
    msg, ancdata, _flags, _addr = sock.recvmsg(1 << 16, socket.CMSG_SPACE(8 * fds.itemsize))
    for level, kind, data in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(data[: len(data) - (len(data) % fds.itemsize)])
    return msg, list(fds)


class Spare:
    """A child forked before its request arrives, waiting on its own socket.

    Forking and the request-independent setup happen while the previous run is
    still going, so a request only pays for handing over its fds.
    """

    def __init__(self, config):
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        pid = os.fork()
        if pid == 0:
            try:
                ours.close()
                spare_main(theirs, config)
            except MemoryError:
                os._exit(EXIT_OUT_OF_MEMORY)
            finally:
                os._exit(70)
        theirs.close()
        self.pid = pid
        self.pidfd = os.pidfd_open(pid)
        self.sock = ours


def serve(ctrl, config):
    poller = select.poll()
    poller.register(ctrl, select.POLLIN)
    running = {}  # pidfd -> (pid, run socket or None for the spare)
    spare = None

    def new_spare():
        fresh = Spare(config)
        running[fresh.pidfd] = (fresh.pid, None)
        poller.register(fresh.pidfd, select.POLLIN)
        return fresh

    spare = new_spare() if config["prefork"] else None
    while True:
        for fd, _events in poller.poll():
            if fd == ctrl.fileno():
                msg, fds = recv_request(ctrl)
                if not msg:
                    return  # the worker closed the control socket: shut down
                if len(fds) != 5:
                    for extra in fds:
                        os.close(extra)
                    continue
                if spare is None:
                    spare = new_spare()
                hand_over(spare, msg, fds, running)
                spare = new_spare() if config["prefork"] else None
            else:
                pid, run_sock = running.pop(fd)
                poller.unregister(fd)
                _, status = os.waitpid(pid, 0)
                if run_sock is None:  # the spare died idle
                    if spare is not None and spare.pid == pid:
                        spare.sock.close()
                        spare = None
                else:
                    try:
                        run_sock.send(b"S" + struct.pack("!i", status))
                    except OSError:
                        pass
                    run_sock.close()
                os.close(fd)


def hand_over(spare, msg, fds, running):
    child_fds, run_sock = fds[:4], socket.socket(fileno=fds[4])
    try:
        spare.sock.sendmsg([msg], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                                    array.array("i", child_fds))])
    except OSError:
        pass  # the spare is gone: its exit status reaches the worker below
    for fd in child_fds:
        os.close(fd)
    spare.sock.close()
    running[spare.pidfd] = (spare.pid, run_sock)
    try:
        run_sock.sendmsg([b"P"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                                   array.array("i", [spare.pidfd]))])
    except OSError:  # the worker gave up on this run already
        os.kill(spare.pid, signal.SIGKILL)


# --------------------------------------------------------------------------- child

def spare_main(sock, config):
    """Prepare what does not depend on the request, wait for it, then run it."""
    # Keep 0-2 (their numbers are about to be reused) and the request socket only.
    os.closerange(3, sock.fileno())
    os.closerange(sock.fileno() + 1, resource.getrlimit(resource.RLIMIT_NOFILE)[0])
    base_size = address_space_size()
    stdout = io.TextIOWrapper(io.FileIO(STDOUT_FD, "w", closefd=False), encoding="utf-8",
                              errors="backslashreplace", line_buffering=True)
    stderr = io.TextIOWrapper(io.FileIO(STDERR_FD, "w", closefd=False), encoding="utf-8",
                              errors="backslashreplace", line_buffering=True)
    builtins_for_user = user_builtins(config["allowed"])
    msg, fds = recv_request(sock)
    if not msg or len(fds) != 4:
        os._exit(0)  # the zygote is gone
    sock.close()
    trace = Trace(json.loads(msg).get("trace"))
    move_fds(fds)
    sys.stdout, sys.stderr = stdout, stderr
    child_main(json.loads(msg), config, base_size, builtins_for_user, trace)


def child_main(request, config, base_size, builtins_for_user, trace):
    """Set up the walls, run the user's code, write the result; never returns."""
    limits = request["limits"]
    apply_rlimits(limits, base_size)
    # ITIMER_PROF counts user+system CPU time with millisecond precision; its default
    # SIGPROF action kills the child. RLIMIT_CPU (whole seconds) is the backstop.
    signal.setitimer(signal.ITIMER_PROF, limits["cpu_ms"] / 1000.0)
    trace.mark("rlimits")
    reporter = Reporter(limits)
    try:
        payload = read_input()
        code, ctx = payload["code"], payload["ctx"]
        code_object = compile(code, USER_FILENAME, "exec", dont_inherit=True)
    except MemoryError:
        reporter.fail("sandbox", "memory", memory_message(limits))
    except SyntaxError as exc:
        reporter.fail("permanent", None, f"SyntaxError: {exc.msg}", line=exc.lineno)
    trace.mark("input+compile")
    if config["seccomp_loader"] is not None:
        config["seccomp_loader"]()
    trace.mark("seccomp")
    hide_runner_modules()
    guard = Guard(reporter) if config["python_guards"] else None
    if guard is not None:
        sys.addaudithook(guard.hook)
    user_globals = {"__name__": "__nodeflow_code__", "__doc__": None,
                    "__builtins__": builtins_for_user}
    sys.modules["linecache"].cache[USER_FILENAME] = (
        len(code), None, code.splitlines(True), USER_FILENAME)
    trace.mark("guards")
    try:
        exec(code_object, user_globals)
        run = user_globals.get("run")
        if not callable(run):
            reporter.fail("permanent", None, "The code must define a function run(ctx)",
                          line=1)
        value = run(ctx)
    except BaseException as exc:  # the user's code raised: report it, never re-raise
        reporter.user_exception(exc, guard)
    trace.mark("run")
    trace.emit()
    reporter.success(value, ctx)


class Trace:
    """Stage timings (ms) and page faults of one child, written to stderr (benchmarks)."""

    def __init__(self, enabled):
        self.enabled = bool(enabled)
        self.marks = [("request", time.perf_counter(), minor_faults())] if enabled else []

    def mark(self, name):
        if self.enabled:
            self.marks.append((name, time.perf_counter(), minor_faults()))

    def emit(self):
        if self.enabled:
            steps = zip(self.marks, self.marks[1:])
            stages = {b[0]: [round((b[1] - a[1]) * 1000, 3), b[2] - a[2]] for a, b in steps}
            stages["t_request"] = self.marks[0][1]
            stages["t_end"] = time.perf_counter()
            os.write(STDERR_FD, ("nodeflow-trace " + json.dumps(stages) + "\n").encode())


def minor_faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def move_fds(fds):
    """dup2 the four run fds onto 0..3 whatever numbers they arrived with."""
    high = [os.dup(fd) for fd in fds]
    for fd in fds:
        os.close(fd)
    for target, fd in enumerate(high):
        os.dup2(fd, target, inheritable=False)
        os.close(fd)


def address_space_size():
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 256 * 1024 * 1024


def apply_rlimits(limits, base_size):
    mb = 1024 * 1024
    address_space = base_size + SLACK_BYTES + limits["memory_mb"] * mb
    cpu_seconds = int(limits["cpu_ms"] / 1000) + 1
    for limit, value in (
        (resource.RLIMIT_AS, address_space),
        (resource.RLIMIT_FSIZE, 0),
        (resource.RLIMIT_NPROC, 0),
        (resource.RLIMIT_CORE, 0),
        (resource.RLIMIT_STACK, 8 * mb),
        (resource.RLIMIT_MEMLOCK, 0),
        (resource.RLIMIT_MSGQUEUE, 0),
        (resource.RLIMIT_CPU, cpu_seconds),
        (resource.RLIMIT_NOFILE, RESULT_FD + 1),
    ):
        resource.setrlimit(limit, (value, value))


def read_input():
    chunks = []
    while True:
        chunk = os.read(INPUT_FD, 1 << 20)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(INPUT_FD)
    return json.loads(b"".join(chunks))


def hide_runner_modules():
    # Defence in depth only: seccomp is what stops a found ctypes or socket from
    # doing harm.
    for name in ("ctypes", "_ctypes", "ctypes._endian", "socket", "_socket", "select",
                 "array"):
        sys.modules.pop(name, None)


def user_builtins(allowed):
    real_import = builtins.__import__
    allowed_set = frozenset(allowed)

    def guarded_import(name, globals=None, locals=None, fromlist=(), level=0):
        if level:
            raise ModuleNotAllowedError("relative imports are not allowed in code nodes")
        parts = name.split(".")
        if not any(".".join(parts[:i]) in allowed_set for i in range(1, len(parts) + 1)):
            raise ModuleNotAllowedError(f"module {name} is not allowed in code nodes",
                                        name=name)
        if name not in sys.modules:
            raise ModuleNotAllowedError(f"module {name} is not available in code nodes",
                                        name=name)
        return real_import(name, globals, locals, fromlist, 0)

    namespace = dict(builtins.__dict__)
    namespace["__import__"] = guarded_import
    # `open` stays: the audit hook names it, seccomp stops it when hooks are off.
    for name in ("__loader__", "__spec__", "input", "breakpoint"):
        namespace.pop(name, None)
    return namespace


class Guard:
    """The audit hook: ends the run at the first denied event, naming it."""

    def __init__(self, reporter):
        self.reporter = reporter
        self.runner_reading_frames = False

    def hook(self, event, args):
        if event in ALLOWED_EVENTS:
            return
        if event == "sys._getframe":
            if not (self.runner_reading_frames or self.trusted_frame_caller()):
                self.deny("sys._getframe()")
            return
        if event == "object.__getattr__":
            if args[1] in DENIED_ATTRIBUTES and not self.runner_reading_frames:
                self.deny(f"access to the attribute {args[1]}")
            return
        if event.startswith(DENIED_EVENT_PREFIXES):
            self.deny(describe_event(event, args))

    def trusted_frame_caller(self):
        self.runner_reading_frames = True  # our own _getframe below re-enters the hook
        try:
            caller = sys._getframe(2)  # 0: here, 1: hook, 2: whoever called _getframe
            return caller.f_globals.get("__name__") in FRAME_TRUSTED_MODULES
        finally:
            self.runner_reading_frames = False

    def deny(self, what):
        self.reporter.fail("sandbox", "operation", f"{what} is not allowed in code nodes")


def describe_event(event, args):
    try:
        shown = ", ".join(repr(a)[:80] for a in args[:3])
    except Exception:
        shown = "..."
    return f"{event}({shown})"


def memory_message(limits):
    return f"Memory limit of {limits['memory_mb']} MB exceeded"


class Reporter:
    """Writes the one result document on fd 3 and exits the child."""

    def __init__(self, limits):
        self.limits = limits

    def success(self, value, ctx):
        variables = ctx.get("vars") if isinstance(ctx, dict) else None
        if not isinstance(variables, dict):
            self.fail("permanent", None, "ctx['vars'] must stay a dict")
        global_values = ctx.get("globals")
        if global_values is not None and not isinstance(global_values, dict):
            self.fail("permanent", None, "ctx['globals'] must stay a dict")
        if json_size_exceeds((value, variables, global_values), self.limits["output_bytes"]):
            self.fail("sandbox", "output",
                      f"Output limit of {self.limits['output_bytes']} bytes exceeded: "
                      "the return value is too large")
        try:
            self.write({"ok": True, "value": value, "vars": variables, "globals": global_values})
        except MemoryError:
            self.fail("sandbox", "output",
                      f"Output limit of {self.limits['output_bytes']} bytes exceeded: "
                      "the return value is too large")
        except (TypeError, ValueError, RecursionError) as exc:
            self.fail("permanent", None,
                      f"The return value, ctx['vars'] or ctx['globals'] is not JSON-serialisable: {exc}")

    def user_exception(self, exc, guard):
        if isinstance(exc, MemoryError):
            self.fail("sandbox", "memory", memory_message(self.limits))
        if guard is not None:
            guard.runner_reading_frames = True
        frames = user_frames(exc.__traceback__)
        if guard is not None:
            guard.runner_reading_frames = False
        line = frames[-1][0] if frames else None
        try:
            summary = "".join(__import__("traceback").format_exception_only(type(exc), exc))
        except BaseException:
            summary = f"{type(exc).__name__}\n"
        text = "Traceback (most recent call last):\n" + "".join(
            f'  File "{USER_FILENAME}", line {lineno}, in {name}\n'
            + (f"    {source}\n" if source else "")
            for lineno, name, source in frames) + summary
        if isinstance(exc, ImportError):
            self.fail("sandbox", "import", summary.strip().split(": ", 1)[-1],
                      traceback=text, line=line)
        self.fail("permanent", None, summary.strip(), traceback=text, line=line)

    def fail(self, error_class, limit, message, traceback=None, line=None):
        self.write({"ok": False, "error": {"class": error_class, "limit": limit,
                                           "message": message, "traceback": traceback,
                                           "line": line}})

    def write(self, document):
        document = {**document, "resources": resources_used()}
        data = json.dumps(document, allow_nan=False, ensure_ascii=False).encode(
            "utf-8", "surrogatepass")
        if len(data) > self.limits["output_bytes"]:
            data = json.dumps({"ok": False, "error": {
                "class": "sandbox", "limit": "output", "traceback": None, "line": None,
                "message": f"Output limit of {self.limits['output_bytes']} bytes exceeded"
                           " by the return value"}}).encode()
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except BaseException:
                pass
        view = memoryview(struct.pack("!Q", len(data)) + data)
        while view:
            view = view[os.write(RESULT_FD, view):]
        # EOF now, not after the kernel has torn down the address space: the worker
        # returns as soon as it has a complete document.
        for fd in (STDOUT_FD, STDERR_FD, RESULT_FD):
            os.close(fd)
        os._exit(0)


def resources_used():
    """This child's CPU time (user + system, ms) and peak resident memory (KB), as the kernel counts them.

    CPU time starts at zero at the fork; the peak includes the pages shared with the zygote."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {"cpu_ms": round((usage.ru_utime + usage.ru_stime) * 1000, 3), "peak_memory_kb": usage.ru_maxrss}


def json_size_exceeds(value, budget):
    """True when the JSON text of `value` is surely longer than `budget` bytes.

    Cheaper than serialising a 100 MB value only to throw it away, and it keeps the
    output limit (not the CPU limit) the one that is reported.
    """
    stack, seen = [value], set()
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            budget -= len(item) + 2
        elif isinstance(item, (list, tuple, dict)):
            if id(item) in seen:
                continue  # a cycle: json.dumps reports it
            seen.add(id(item))
            budget -= 2 + len(item)
            if isinstance(item, dict):
                stack.extend(item.keys())
                stack.extend(item.values())
            else:
                stack.extend(item)
        elif isinstance(item, (bytes, bytearray)):
            continue  # not JSON: json.dumps reports it
        else:
            budget -= 1
        if budget < 0:
            return True
    return False


def user_frames(tb):
    linecache = sys.modules["linecache"]
    frames = []
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_filename == USER_FILENAME:
            source = linecache.getline(USER_FILENAME, tb.tb_lineno).strip()
            frames.append((tb.tb_lineno, code.co_name, source))
        tb = tb.tb_next
    return frames


if __name__ == "__main__":
    main()
