"""The jail behind the `code.python` node (ENGINE.md §Sandbox).

Importable without Django: the Django settings glue calls configure().

    check_syntax(code) -> None | {"message", "line", "column"}
    run_code(code, ctx, limits=None) -> SandboxResult
    sandbox_status() -> {"mode": "bwrap+seccomp" | "weak" | "unavailable", "detail": str}
    configure(allowed_modules=..., max_limits=SandboxLimits(...), allow_weak=False, ...)
"""

from .launch import SandboxUnavailable, current_plan
from .limits import SandboxLimits
from .result import SandboxResult
from .runner import effective_limits, run_code
from .settings import ALLOW_WEAK_SETTING, DEFAULT_ALLOWED_MODULES, configure
from .syntax import check_syntax
from .zygote import get_zygote, shutdown

__all__ = [
    "ALLOW_WEAK_SETTING", "DEFAULT_ALLOWED_MODULES", "SandboxLimits", "SandboxResult",
    "SandboxUnavailable", "check_syntax", "configure", "effective_limits", "run_code", "sandbox_status",
    "shutdown", "warm_up",
]


def sandbox_status() -> dict:
    """Which isolation mode runs would use here, and why (for /healthz and the admin)."""
    plan = current_plan()
    return {"mode": plan.mode, "detail": plan.detail}


def warm_up() -> dict:
    """Start this process's zygote now (e.g. from Celery's worker_process_init).

    Returns sandbox_status() plus the zygote start time; never raises.
    """
    status = sandbox_status()
    if status["mode"] == "unavailable":
        return status
    try:
        zygote = get_zygote()
    except SandboxUnavailable as exc:
        return {"mode": "unavailable", "detail": str(exc)}
    return {**status, "zygote_start_ms": round(zygote.start_ms, 1)}
