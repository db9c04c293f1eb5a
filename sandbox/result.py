"""The outcome of one code-node run, as the engine stores it."""

from dataclasses import dataclass, field
from datetime import datetime, timezone


@dataclass
class SandboxResult:
    """ok + value + vars (+ globals) on success; error (class, message, limit, ...) otherwise."""

    ok: bool
    value: object = None
    vars: dict = field(default_factory=dict)
    # ctx["globals"] as the code left it (None when the context had none).
    globals: dict | None = None
    logs: list = field(default_factory=list)
    error: dict | None = None
    duration_ms: float = 0.0
    # What the child used, as it reported it: {"cpu_ms", "peak_memory_kb"} (None when it was killed first).
    resources: dict | None = None


def make_error(error_class: str, message: str, limit: str | None = None,
               traceback: str | None = None, line: int | None = None,
               column: int | None = None) -> dict:
    return {"class": error_class, "message": message, "limit": limit,
            "traceback": traceback, "line": line, "column": column}


def failure(error: dict, logs=None, duration_ms: float = 0.0) -> SandboxResult:
    return SandboxResult(ok=False, error=error, logs=list(logs or []),
                         duration_ms=duration_ms)


def log_entry(level: str, message: str) -> dict:
    return {"ts": datetime.now(timezone.utc).isoformat(), "level": level, "message": message}
