"""The escape suite (issue 6): every attempt ends as a `sandbox` error with nothing done.

Each case runs twice: with every layer on, and with the Python-level guards (audit
hook, AST check) switched off, to prove that the OS-level walls (bubblewrap, seccomp,
rlimits, the worker-side caps) stop it on their own. Escape code spells dunder names
with getattr() so that the friendly AST check does not stop it before the walls do.
After every case the next run must work.
"""

import os

import pytest

import sandbox
from sandbox import configure

from .conftest import assert_next_run_works, make_ctx

# Python 3.11 runs Python-to-Python calls without the C stack, so plain deep recursion
# ends on the CPU or memory limit; recursion through C (repr) ends on the stack limit.
DEEP_PYTHON_RECURSION = """
import statistics
def run(ctx):
    statistics.sys.setrecursionlimit(10 ** 6)
    def down(n):
        return down(n + 1) + 1
    return down(0)
"""
DEEP_C_RECURSION = """
import statistics
def run(ctx):
    statistics.sys.setrecursionlimit(10 ** 6)
    class Loop:
        def __repr__(self):
            return repr(self)
    return repr(Loop())
"""
# Walk the whole class tree from object, as the classic escapes do.
ALL_CLASSES = """
def all_classes():
    seen, todo = [], [object]
    while todo:
        cls = todo.pop()
        for sub in getattr(type, '__sub' + 'classes__')(cls):
            if sub not in seen:
                seen.append(sub)
                todo.append(sub)
    return seen
"""

CASES = {
    # name: (code, limits accepted with every layer, limits accepted with OS walls only)
    "open_etc_passwd": (
        "def run(ctx):\n    return open('/etc/passwd').read()\n",
        {"operation"}, {"syscall"}),
    "open_for_writing": (
        "def run(ctx):\n    open(ctx['input']['marker'], 'w').write('x')\n",
        {"operation"}, {"syscall"}),
    "dunder_import_os_listdir": (
        "def run(ctx):\n    return __import__('os').listdir('/')\n",
        {"import"}, {"import"}),
    "import_subprocess": (
        "import subprocess\ndef run(ctx):\n"
        "    subprocess.run(['touch', ctx['input']['marker']])\n",
        {"import"}, {"import"}),
    "os_system_through_statistics_sys_modules": (
        "import statistics\ndef run(ctx):\n"
        "    os = statistics.sys.modules['os']\n"
        "    os.system('touch ' + ctx['input']['marker'])\n",
        {"operation"}, {"syscall"}),
    "os_open_through_statistics_sys_modules": (
        "import statistics\ndef run(ctx):\n"
        "    os = statistics.sys.modules['os']\n"
        "    os.open(ctx['input']['marker'], os.O_CREAT | os.O_WRONLY)\n",
        {"operation"}, {"syscall"}),
    "listdir_through_statistics_sys_modules": (
        "import statistics\ndef run(ctx):\n"
        "    return statistics.sys.modules['os'].listdir('/')\n",
        {"operation"}, {"syscall"}),
    "subclasses_walk_to_fileio": (
        ALL_CLASSES + "def run(ctx):\n"
        "    fileio = [c for c in all_classes() if c.__name__ == 'FileIO'][0]\n"
        "    fileio(ctx['input']['marker'], 'w').write(b'x')\n",
        {"operation"}, {"syscall"}),
    "subclasses_walk_to_os_globals": (
        ALL_CLASSES + "def run(ctx):\n"
        "    wrap = [c for c in all_classes() if c.__name__ == '_wrap_close'][0]\n"
        "    os_globals = getattr(wrap.__init__, '__glo' + 'bals__')\n"
        "    os_globals['system']('touch ' + ctx['input']['marker'])\n",
        {"operation"}, {"syscall"}),
    "subclasses_walk_to_socket_class": (
        ALL_CLASSES + "def run(ctx):\n"
        "    sock_cls = [c for c in all_classes() if c.__name__ == 'socket'][0]\n"
        "    s = sock_cls(2, 1)\n"
        "    s.connect(('127.0.0.1', ctx['input']['port']))\n",
        {"operation"}, {"syscall"}),
    "import_socket_and_connect": (
        "import socket\ndef run(ctx):\n"
        "    socket.create_connection(('127.0.0.1', ctx['input']['port']))\n",
        {"import"}, {"import"}),
    "_socket_via_builtin_importer": (
        ALL_CLASSES + "def run(ctx):\n"
        "    importer = [c for c in all_classes() if c.__name__ == 'BuiltinImporter'][0]\n"
        "    _socket = importer.load_module('_socket')\n"
        "    s = _socket.socket(2, 1)\n"
        "    s.connect(('127.0.0.1', ctx['input']['port']))\n",
        {"import", "operation"}, {"import", "syscall"}),
    "_socket_via_extension_loader": (
        "import statistics\ndef run(ctx):\n"
        "    sys = statistics.sys\n"
        "    machinery = sys.modules['_frozen_importlib_external']\n"
        "    spec = machinery.PathFinder.find_spec('_socket')\n"
        "    mod = spec.loader.create_module(spec)\n"
        "    s = mod.socket(2, 1)\n"
        "    s.connect(('127.0.0.1', ctx['input']['port']))\n",
        {"operation"}, {"syscall"}),
    "import_ctypes": (
        "def run(ctx):\n    import ctypes\n"
        "    ctypes.CDLL(None).system(('touch ' + ctx['input']['marker']).encode())\n",
        {"import"}, {"import"}),
    "ctypes_found_through_gc": (
        "import statistics\ndef run(ctx):\n"
        "    gc = statistics.sys.modules['gc']\n"
        "    gc.unfreeze()\n"
        "    libs = [o for o in gc.get_objects() if type(o).__name__ == 'CDLL']\n"
        "    libs[0].system(('touch ' + ctx['input']['marker']).encode())\n"
        "    return len(libs)\n",
        {"operation"}, {"syscall"}),
    "ctypes_found_through_class_tree": (
        ALL_CLASSES + "def run(ctx):\n"
        "    cdll = [c for c in all_classes() if c.__name__ == 'CDLL'][0]\n"
        "    cdll(None).system(('touch ' + ctx['input']['marker']).encode())\n",
        {"operation"}, {"syscall"}),
    "frame_walk_to_runner_globals": (
        "def run(ctx):\n"
        "    try:\n        1 / 0\n"
        "    except ZeroDivisionError as exc:\n"
        "        frame = getattr(exc.__traceback__, 'tb_' + 'frame')\n"
        "    while getattr(frame, 'f_' + 'back'):\n"
        "        frame = getattr(frame, 'f_' + 'back')\n"
        "    runner = getattr(frame, 'f_' + 'globals')\n"
        "    runner['os'].system('touch ' + ctx['input']['marker'])\n",
        {"operation"}, {"syscall"}),
    "sys_getframe_walk_to_runner_globals": (
        "import statistics\ndef run(ctx):\n"
        "    frame = statistics.sys._getframe()\n"
        "    while getattr(frame, 'f_' + 'back'):\n"
        "        frame = getattr(frame, 'f_' + 'back')\n"
        "    getattr(frame, 'f_' + 'globals')['os'].system('touch ' + ctx['input']['marker'])\n",
        {"operation"}, {"syscall"}),
    "traceback_walk_stack_to_runner_globals": (
        "import statistics\ndef run(ctx):\n"
        "    traceback = statistics.sys.modules['traceback']\n"
        "    frames = [frame for frame, _line in traceback.walk_stack(None)]\n"
        "    getattr(frames[-1], 'f_' + 'globals')['os'].system('touch ' + ctx['input']['marker'])\n",
        {"operation"}, {"syscall"}),
    "generator_frame_walk": (
        "def run(ctx):\n"
        "    gen = (x for x in [1])\n"
        "    frame = getattr(gen, 'gi_' + 'frame')\n"
        "    return sorted(getattr(frame, 'f_' + 'globals'))\n",
        {"operation"}, None),  # without the hook this reads only the user's own globals
    "fork_loop": (
        "import statistics\ndef run(ctx):\n"
        "    os = statistics.sys.modules['os']\n"
        "    while True:\n        os.fork()\n",
        {"operation"}, {"syscall"}),
    "execv": (
        "import statistics\ndef run(ctx):\n"
        "    os = statistics.sys.modules['os']\n"
        "    os.execv('/bin/sh', ['sh', '-c', 'touch ' + ctx['input']['marker']])\n",
        {"operation"}, {"syscall"}),
    "infinite_loop": (
        "def run(ctx):\n    while True:\n        pass\n",
        {"cpu"}, {"cpu"}),
    "one_gigabyte_allocation": (
        "def run(ctx):\n    return len(bytearray(1 << 30))\n",
        {"memory"}, {"memory"}),
    "deep_python_recursion": (DEEP_PYTHON_RECURSION, {"cpu", "memory"}, {"cpu", "memory"}),
    "deep_c_recursion": (DEEP_C_RECURSION, {"stack"}, {"stack"}),
    "hundred_megabyte_return_value": (
        "def run(ctx):\n    return 'x' * (100 * 1024 * 1024)\n",
        {"output"}, {"output"}),
    "hundred_megabytes_straight_to_fd_1": (
        "import statistics\ndef run(ctx):\n"
        "    statistics.sys.modules['os'].write(1, b'x' * (100 * 1024 * 1024))\n",
        {"output"}, {"output"}),
    "print_flood": (
        "def run(ctx):\n    line = 'y' * 1000\n    while True:\n        print(line)\n",
        {"output"}, {"output"}),
    "cancel_cpu_timer_with_setitimer": (
        "import statistics\ndef run(ctx):\n"
        "    signal = statistics.sys.modules['signal']\n"
        "    signal.setitimer(signal.ITIMER_PROF, 0)\n"
        "    while True:\n        pass\n",
        {"syscall"}, {"syscall"}),
    "ignore_sigprof": (
        "import statistics\ndef run(ctx):\n"
        "    signal = statistics.sys.modules['signal']\n"
        "    signal.signal(signal.SIGPROF, signal.SIG_IGN)\n"
        "    while True:\n        pass\n",
        {"syscall", "operation"}, {"syscall"}),
    "block_sigprof": (
        "import statistics\ndef run(ctx):\n"
        "    signal = statistics.sys.modules['signal']\n"
        "    signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGPROF, signal.SIGXCPU])\n"
        "    while True:\n        pass\n",
        {"syscall", "operation"}, {"syscall"}),
    "raise_own_rlimits": (
        "import statistics\ndef run(ctx):\n"
        "    resource = statistics.sys.modules['resource']\n"
        "    resource.setrlimit(resource.RLIMIT_CPU, (100, 100))\n",
        {"operation"}, {"syscall"}),
    "sleep_past_wall_time": (
        "import time\ndef run(ctx):\n    time.sleep(5)\n",
        {"wall"}, {"wall"}),
}


@pytest.fixture(params=["all_layers", "os_walls_only"])
def layers(request, require_full_sandbox):
    if request.param == "os_walls_only":
        configure(python_guards=False)
    return request.param


@pytest.mark.parametrize("name", sorted(CASES))
def test_escape_attempt_ends_as_sandbox_error_with_nothing_done(
        name, layers, listener, marker_path):
    code, limits_all, limits_os = CASES[name]
    expected = limits_all if layers == "all_layers" else limits_os
    if expected is None:
        pytest.skip("a Python-level trick only: nothing for the OS walls to stop")

    result = sandbox.run_code(code, make_ctx(marker=marker_path, port=listener.port))

    assert not result.ok, f"escaped: {result.value!r}"
    assert result.error["class"] == "sandbox", result.error
    assert result.error["limit"] in expected, result.error
    assert result.value is None
    assert not os.path.exists(marker_path), "the escape created a file on the host"
    assert listener.connections() == 0, "the escape reached a host socket"
    assert_next_run_works()
