"""The zygote's life: restart after death, one per process across fork, thread safety."""

import json
import os
import signal
import threading
import time

import sandbox
from sandbox import configure, run_code
from sandbox.zygote import current_zygote, get_zygote

from .conftest import TRIVIAL, assert_next_run_works, make_ctx


def descendants(pid):
    """Host pids of every process below `pid` (the jail's processes included)."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def running(pid):
    """Whether the process exists and is not a zombie waiting for its parent."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def zygote_processes(zygote):
    result = []
    for pid in descendants(zygote.process.pid):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                if b"zygote.py" in cmdline.read():
                    result.append(pid)
        except OSError:
            pass
    return result


def test_zygote_runs_unprivileged_inside_the_jail():
    zygote = get_zygote()
    if sandbox.sandbox_status()["mode"] == "bwrap+seccomp" or os.geteuid() != 0:
        assert zygote.info["uid"] != 0
    for pid in zygote_processes(zygote):
        with open(f"/proc/{pid}/status") as status:
            uid_line = next(line for line in status if line.startswith("Uid:"))
        if os.geteuid() == 0 and zygote.plan.drop_to:
            assert uid_line.split()[1] == str(zygote.plan.drop_to[0])


def test_a_killed_zygote_is_restarted_transparently():
    assert_next_run_works()
    first = current_zygote()
    victims = zygote_processes(first)
    assert victims, "no zygote process found"
    for pid in victims:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass  # a run's child that had just finished
    deadline = time.monotonic() + 5
    while any(running(pid) for pid in victims):
        assert time.monotonic() < deadline, "the killed zygote processes are still running"
        time.sleep(0.01)
    assert_next_run_works()
    second = current_zygote()
    assert second is not first
    assert second.process.pid != first.process.pid


def test_a_dead_zygote_does_not_linger():
    assert_next_run_works()
    old = current_zygote()
    old_processes = zygote_processes(old)
    configure(allowed_modules=("math",))  # a new configuration retires the zygote
    assert_next_run_works()
    deadline = time.monotonic() + 5
    while any(os.path.exists(f"/proc/{pid}") for pid in old_processes):
        assert time.monotonic() < deadline, "the retired zygote is still running"
        time.sleep(0.05)
    assert old.process.poll() is not None


def test_a_forked_worker_gets_its_own_zygote():
    assert_next_run_works()
    parent_zygote = current_zygote()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # a Celery prefork child, in effect
        try:
            os.close(read_end)
            inherited = current_zygote()
            result = run_code("def run(ctx):\n    return ctx['input']['x'] * 2\n", make_ctx(x=21))
            mine = current_zygote()
            os.write(write_end, json.dumps({
                "inherited": inherited is not None, "value": result.value,
                "same": mine.process.pid == parent_zygote.process.pid}).encode())
            sandbox.shutdown()
        finally:
            os._exit(0)
    os.close(write_end)
    report = json.loads(os.read(read_end, 4096))
    os.close(read_end)
    os.waitpid(pid, 0)
    assert report == {"inherited": False, "value": 42, "same": False}
    assert current_zygote() is parent_zygote
    assert_next_run_works()


def test_runs_from_many_threads_at_once():
    code = ("import time\ndef run(ctx):\n    time.sleep(0.01)\n"
            "    print('thread', ctx['input']['t'])\n    return [ctx['input']['t'], ctx['input']['i']]\n")
    results, errors = {}, []

    def worker(t):
        for i in range(8):
            result = run_code(code, make_ctx(t=t, i=i))
            if not result.ok or result.value != [t, i] or \
                    [log["message"] for log in result.logs] != [f"thread {t}"]:
                errors.append((t, i, result))
            results[(t, i)] = result

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(results) == 48


def test_a_run_killed_for_time_does_not_disturb_a_concurrent_run():
    outcome = {}

    def slow():
        outcome["slow"] = run_code("import time\ndef run(ctx):\n    time.sleep(5)\n",
                                   make_ctx(), {"wall_ms": 300})

    thread = threading.Thread(target=slow)
    thread.start()
    fast = [run_code(TRIVIAL, make_ctx()) for _ in range(20)]
    thread.join()
    assert outcome["slow"].error["limit"] == "wall"
    assert all(result.ok and result.value == 2 for result in fast)
