"""How the zygote is started: which walls are available, and the command that builds them.

Modes:
  bwrap+seccomp  bubblewrap (all namespaces, read-only /usr + interpreter + runner, no
                 /etc, no network) around an unprivileged zygote, seccomp in each child.
  weak           some layer is missing and the weak-mode setting allows running anyway.
  unavailable    a layer is missing and weak mode is not allowed: runs are refused.
"""

import os
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass, field

from . import settings as sandbox_settings
from .seccomp_filter import build_child_filter, seccomp_problem

JAIL_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "jail")
JAIL_MOUNT = "/nodeflow"
ZYGOTE_SCRIPT = "zygote.py"
PROBE_TIMEOUT_S = 15
# Candidate mount points for the root-only staging tmpfs (see STAGE_SCRIPT).
STAGE_CANDIDATES = ("/mnt", "/media", "/srv", "/opt", "/run", "/var/tmp", "/tmp")

# As root, the interpreter may live under a directory the unprivileged uid cannot
# traverse (pyenv under /root). In a private mount namespace, still as root, bind each
# such directory onto a fresh tmpfs that uid can reach, then drop privileges and exec
# bwrap, which binds them back to their real paths inside the jail. Nothing of this
# is visible outside the namespace.
STAGE_SCRIPT = r"""
set -eu
stage=$1; shift
mount -t tmpfs -o mode=0755,size=64k,nosuid,nodev nodeflow-jail "$stage"
n=0
while [ "$1" != "--" ]; do
  mkdir "$stage/$n"
  mount --bind "$1" "$stage/$n"
  n=$((n + 1))
  shift
done
shift
exec "$@"
"""


class SandboxUnavailable(RuntimeError):
    """No acceptable way to start the zygote under the current settings."""


@dataclass
class LaunchPlan:
    """A mode, why, and how to start a zygote (or a probe) in it."""

    mode: str
    detail: str
    use_bwrap: bool = False
    bpf: bytes | None = None
    drop_to: tuple | None = None  # (uid, gid) when the worker is root
    stage: bool = False  # root only: stage the interpreter through a private tmpfs
    python_home: str = ""
    python_exe: str = ""
    bwrap: str | None = None
    layers: list = field(default_factory=list)

    def command(self, python_args: list) -> tuple[list, dict]:
        """argv and extra Popen keyword arguments running `python <python_args>` jailed."""
        env = {"TZ": "UTC", "LANG": "C.UTF-8", "PATH": "/usr/bin:/bin"}
        if not self.use_bwrap:
            kwargs = {"env": env, "cwd": "/"}
            if self.drop_to:
                kwargs.update(user=self.drop_to[0], group=self.drop_to[1], extra_groups=[])
            jail_script = os.path.join(JAIL_DIR, ZYGOTE_SCRIPT)
            args = [a if a != "@ZYGOTE@" else jail_script for a in python_args]
            return [self.python_exe, *args], kwargs
        binds = []  # (source on the host, path inside the jail)
        if not _under(self.python_home, "/usr"):
            binds.append((self.python_home, self.python_home))
        binds.append((JAIL_DIR, JAIL_MOUNT))
        stage_dir = _stage_dir([src for src, _ in binds]) if self.stage else None
        jail = [self.bwrap, "--unshare-all", "--new-session", "--clearenv",
                "--setenv", "TZ", "UTC", "--setenv", "LANG", "C.UTF-8",
                "--uid", str(sandbox_settings.NOBODY), "--gid", str(sandbox_settings.NOBODY),
                "--hostname", "nodeflow-sandbox", "--ro-bind", "/usr", "/usr"]
        for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
            path = "/" + name
            if os.path.islink(path):
                jail += ["--symlink", os.readlink(path), path]
            elif os.path.isdir(path):
                jail += ["--ro-bind", path, path]
        jail += ["--proc", "/proc"]
        for index, (source, target) in enumerate(binds):
            jail += ["--ro-bind", f"{stage_dir}/{index}" if stage_dir else source, target]
        jail += ["--chdir", "/", "--", self.python_exe]
        jail += [a if a != "@ZYGOTE@" else f"{JAIL_MOUNT}/{ZYGOTE_SCRIPT}" for a in python_args]
        kwargs = {"env": env, "cwd": "/"}
        if stage_dir:
            uid, gid = self.drop_to
            drop = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups",
                    "--inh-caps=-all"]
            argv = ["unshare", "--mount", "--propagation", "private", "--",
                    "/bin/sh", "-c", STAGE_SCRIPT, "nodeflow-stage", stage_dir,
                    *[src for src, _ in binds], "--", *drop, *jail]
            return argv, kwargs
        if self.drop_to:
            kwargs.update(user=self.drop_to[0], group=self.drop_to[1], extra_groups=[])
        return jail, kwargs


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def _stage_dir(sources: list) -> str:
    for candidate in STAGE_CANDIDATES:
        if os.path.isdir(candidate) and not os.path.islink(candidate) and not any(
                _under(src, candidate) for src in sources):
            return candidate
    raise SandboxUnavailable("no directory to stage the interpreter on")


def _others_can_read(path: str) -> bool:
    """True when a uid with no special rights can reach and read `path`."""
    path = os.path.realpath(path)
    parts = path.split("/")
    for i in range(2, len(parts)):
        try:
            if not os.stat("/".join(parts[:i])).st_mode & 0o001:
                return False
        except OSError:
            return False
    try:
        return bool(os.stat(path).st_mode & 0o004)
    except OSError:
        return False


def _probe(plan: LaunchPlan) -> str | None:
    """Start the jailed interpreter once; None when it works, else what went wrong."""
    argv, kwargs = plan.command(["-I", "-S", "-B", "-c", "import ctypes, json, os; os.getuid()"])
    try:
        done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=PROBE_TIMEOUT_S, **kwargs)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"{type(exc).__name__}: {exc}"
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip().splitlines()
        return f"exit status {done.returncode}: {' / '.join(message[-3:])}"
    return None


def build_plan(current: sandbox_settings.SandboxSettings) -> LaunchPlan:
    python_exe = os.path.realpath(sys.executable)
    python_home = os.path.realpath(sys.base_prefix)
    is_root = os.geteuid() == 0
    drop_to = (current.run_as_uid, current.run_as_gid) if is_root else None
    plan = LaunchPlan(mode="unavailable", detail="", python_home=python_home,
                      python_exe=python_exe, drop_to=drop_to)
    missing = []

    if not current.seccomp:
        missing.append("seccomp (switched off by settings)")
    else:
        problem = seccomp_problem()
        if problem:
            missing.append(f"seccomp ({problem})")
        else:
            plan.bpf = build_child_filter()

    bwrap = current.bwrap_path or shutil.which("bwrap")
    bwrap_problem = None
    if not bwrap:
        bwrap_problem = "bubblewrap (bwrap) not found"
    elif not _under(python_exe, python_home) and not _under(python_exe, "/usr"):
        bwrap_problem = f"the interpreter {python_exe} is outside {python_home} and /usr"
    else:
        plan.use_bwrap, plan.bwrap = True, bwrap
        plan.stage = is_root and not (_others_can_read(python_home)
                                      and _others_can_read(JAIL_DIR))
        bwrap_problem = _probe(plan)
        if bwrap_problem:
            bwrap_problem = f"bubblewrap does not start here ({bwrap_problem})"
    if bwrap_problem:
        plan.use_bwrap, plan.stage = False, False
        missing.append(bwrap_problem)

    if not plan.use_bwrap and drop_to and not (_others_can_read(python_exe)
                                              and _others_can_read(JAIL_DIR)):
        plan.drop_to = None
        missing.append(f"privilege drop (uid {current.run_as_uid} cannot read "
                       f"{python_home}); the zygote would run as root")

    plan.layers = [layer for layer, on in (
        ("bubblewrap", plan.use_bwrap), ("seccomp", plan.bpf is not None),
        (f"uid {plan.drop_to[0]}" if plan.drop_to else "unprivileged uid",
         bool(plan.drop_to) or not is_root),
        ("rlimits+cpu timer", True), ("audit hook+import allow-list", current.python_guards),
    ) if on]
    if not missing:
        plan.mode = "bwrap+seccomp"
        plan.detail = "layers: " + ", ".join(plan.layers)
    elif current.allow_weak:
        plan.mode = "weak"
        plan.detail = (f"WEAK SANDBOX allowed by {sandbox_settings.ALLOW_WEAK_SETTING}; "
                       f"missing: {'; '.join(missing)}; layers: {', '.join(plan.layers)}")
    else:
        plan.mode = "unavailable"
        plan.detail = (f"code nodes are disabled: missing {'; '.join(missing)}. Install "
                       f"bubblewrap and libseccomp2, or set "
                       f"{sandbox_settings.ALLOW_WEAK_SETTING}=true to run with weaker "
                       "isolation")
    return plan


_plan_lock = threading.Lock()
_plan_cache: dict = {}  # (pid, settings generation) -> LaunchPlan


def _after_fork_in_child():
    global _plan_lock
    _plan_lock = threading.Lock()  # another thread may have been probing at fork time


os.register_at_fork(after_in_child=_after_fork_in_child)


def current_plan() -> LaunchPlan:
    """The plan for the current settings, probed once per process and configuration."""
    key = (os.getpid(), sandbox_settings.generation())
    plan = _plan_cache.get(key)
    if plan is None:
        with _plan_lock:
            plan = _plan_cache.get(key)
            if plan is None:
                plan = build_plan(sandbox_settings.current())
                _plan_cache.clear()
                _plan_cache[key] = plan
    return plan
