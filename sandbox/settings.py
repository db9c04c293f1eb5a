"""Process-wide sandbox settings, set once by `sandbox.configure()` (Django glue)."""

import os
import threading
from dataclasses import dataclass, field, replace

from .limits import SandboxLimits

DEFAULT_ALLOWED_MODULES = (
    "math", "json", "re", "datetime", "time", "statistics", "decimal", "fractions",
    "itertools", "functools", "collections", "random", "string", "copy", "hashlib",
    "base64", "uuid", "textwrap",
)
# The name users see in errors and in /healthz; the Django setting maps onto it.
ALLOW_WEAK_SETTING = "the environment variable NODEFLOW_SANDBOX_ALLOW_WEAK_ISOLATION_UNSAFE"
NOBODY = 65534


@dataclass(frozen=True)
class SandboxSettings:
    """What configure() sets; every field has a safe default."""

    allowed_modules: tuple = DEFAULT_ALLOWED_MODULES
    max_limits: SandboxLimits = SandboxLimits()
    default_limits: SandboxLimits = SandboxLimits()
    # Weak mode = whatever layers exist when bubblewrap or seccomp do not. Off by default.
    allow_weak: bool = False
    bwrap_path: str | None = None  # None: look up "bwrap" on PATH
    # uid/gid the zygote runs as when the worker is root.
    run_as_uid: int = NOBODY
    run_as_gid: int = NOBODY
    # Tests only: switch layers off to prove that the ones left are walls on their own.
    python_guards: bool = True
    seccomp: bool = True
    zygote_start_timeout_s: float = 30.0
    # Keep one child forked and prepared ahead of the next request (see jail/zygote.py).
    prefork: bool = True
    extra: dict = field(default_factory=dict)


_lock = threading.Lock()
_settings = SandboxSettings()
_generation = 0  # bumped by configure(); a zygote of an older generation is retired


def current() -> SandboxSettings:
    return _settings


def generation() -> int:
    return _generation


def configure(**changes) -> SandboxSettings:
    """Change process-wide settings (allowed_modules, max_limits, allow_weak, ...).

    Unknown names raise TypeError. A running zygote is replaced on the next run.
    """
    global _settings, _generation
    if "allowed_modules" in changes:
        modules = tuple(changes["allowed_modules"])
        for name in modules:
            if not isinstance(name, str) or not all(p.isidentifier() for p in name.split(".")):
                raise ValueError(f"not a module name: {name!r}")
        changes["allowed_modules"] = modules
    for key in ("max_limits", "default_limits"):
        if isinstance(changes.get(key), dict):
            changes[key] = SandboxLimits(**changes[key])
    with _lock:
        _settings = replace(_settings, **changes)
        _generation += 1
    return _settings


def _after_fork_in_child():
    global _lock
    _lock = threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)


def reset() -> None:
    """Back to the defaults (tests)."""
    global _settings, _generation
    with _lock:
        _settings = SandboxSettings()
        _generation += 1
