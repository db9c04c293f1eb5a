"""Per-run resource limits and their clamping to the server-wide maxima."""

from dataclasses import asdict, dataclass, fields


@dataclass(frozen=True)
class SandboxLimits:
    """Limits of one code-node run; per-node values are clamped to the server maxima."""

    cpu_ms: int = 250
    wall_ms: int = 1000
    memory_mb: int = 128
    output_bytes: int = 1_048_576

    def as_dict(self) -> dict:
        return asdict(self)


LIMIT_NAMES = tuple(f.name for f in fields(SandboxLimits))
# Below these a run cannot even start its interpreter child; they are floors, not defaults.
MINIMA = SandboxLimits(cpu_ms=10, wall_ms=50, memory_mb=16, output_bytes=1024)


def coerce_limits(limits) -> SandboxLimits:
    """Accept SandboxLimits, a (partial) dict such as a node's `limits` param, or None."""
    if limits is None:
        return SandboxLimits()
    if isinstance(limits, SandboxLimits):
        return limits
    if isinstance(limits, dict):
        unknown = set(limits) - set(LIMIT_NAMES)
        if unknown:
            raise ValueError(f"unknown sandbox limit(s): {', '.join(sorted(unknown))}")
        values = {}
        for name, value in limits.items():
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise ValueError(f"sandbox limit {name} must be a positive number, got {value!r}")
            values[name] = int(value)
        return SandboxLimits(**values)
    raise TypeError(f"limits must be SandboxLimits, dict or None, not {type(limits).__name__}")


def clamp_limits(limits: SandboxLimits, maxima: SandboxLimits) -> SandboxLimits:
    return SandboxLimits(**{
        name: max(getattr(MINIMA, name), min(getattr(limits, name), getattr(maxima, name)))
        for name in LIMIT_NAMES
    })
