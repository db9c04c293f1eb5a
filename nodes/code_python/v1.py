"""code.python v1: user code `def run(ctx): …` in the OS-level sandbox (see sandbox/)."""

from django.conf import settings

from engine.errors import PERMANENT, SANDBOX, NodeError
from engine.context import diff_vars
from engine.globals import DELETE, SET, GlobalWrite
from nodes.registry import NodeResult, NotHere, register_node


def _check_code(params):
    """Syntax errors at save time, with line and column."""
    import sandbox

    code = params.get("code")
    problem = sandbox.check_syntax(code) if isinstance(code, str) else None
    if problem:
        return [("code", f"line {problem['line']}, column {problem['column']}: {problem['message']}")]
    return []


@register_node(
    "code.python",
    title="Python code",
    category="code",
    queue="sandbox",
    contained=True,  # the sandbox lets it reach nothing outside: a run here may be stopped and run again
    raw_params=("code", "limits"),
    check_params=_check_code,
    description=(
        "Runs `def run(ctx): … return value` in a sandbox. ctx holds input, vars, nodes, execution and globals; "
        "the return value is the output, changes to ctx['vars'] are variable writes, changes to ctx['globals'] "
        "write global variables when the node completes, print() goes to the logs."
    ),
    defaults={"code": "def run(ctx):\n    return {}\n"},
    params_schema={
        "type": "object",
        "properties": {
            "code": {"type": "string", "title": "Code", "x-nodeflow-widget": "python", "maxLength": 200_000},
            "limits": {
                "type": "object",
                "title": "Limits",
                "properties": {
                    "cpu_ms": {"type": "integer", "minimum": 1},
                    "wall_ms": {"type": "integer", "minimum": 1},
                    "memory_mb": {"type": "integer", "minimum": 16},
                },
                "additionalProperties": False,
            },
        },
        "required": ["code"],
        "additionalProperties": False,
    },
)
def run_code(call):
    import sandbox

    _configure_sandbox()
    code = call.params["code"]
    problem = sandbox.check_syntax(code)
    if problem:
        raise NodeError(
            f"line {problem['line']}, column {problem['column']}: {problem['message']}",
            PERMANENT,
            code="syntax_error",
            details=problem,
        )
    context = call.context
    ctx = {
        "execution": context["execution"],
        "input": context["input"],
        "vars": context["vars"],
        "nodes": context["nodes"].materialise() if hasattr(context["nodes"], "materialise") else dict(context["nodes"]),
    }
    if "globals" in context:  # the owner's global variables, every key as of now (engine.globals.Snapshot)
        ctx["globals"] = context["globals"].materialise() if hasattr(context["globals"], "materialise") \
            else dict(context["globals"])
    limits, lowered = _limits_here(sandbox, call.params.get("limits"), call.here_ms)
    result = sandbox.run_code(code, ctx, limits)
    if lowered and not result.ok and (result.error or {}).get("limit") == "wall":
        raise NotHere(f"the code needs more than the {call.here_ms} ms it may take inside a finish")
    call.logs.extend(result.logs)
    if result.resources:  # the child's own figures (a run killed at a limit reports none)
        call.resources.update(sandbox_cpu_ms=result.resources.get("cpu_ms"),
                              peak_memory_kb=result.resources.get("peak_memory_kb"))
    if not result.ok:
        error = result.error or {}
        raise NodeError(
            error.get("message") or "the code failed",
            error.get("class") if error.get("class") in (SANDBOX, PERMANENT) else SANDBOX,
            code=f"sandbox_{error['limit']}" if error.get("limit") else "code_error",
            details={k: error[k] for k in ("limit", "line") if error.get(k) is not None} or None,
            traceback=error.get("traceback"),
        )
    changed, deleted = diff_vars(context["vars"], result.vars or {})
    versions = context["globals"].versions() if hasattr(context.get("globals"), "versions") else {}
    writes = _global_writes(ctx.get("globals"), result.globals, versions)
    if writes:
        call.log(f"writes globals: {', '.join(f'{w.key} ({w.op})' for w in writes)}")
    return NodeResult(output=result.value, vars=changed, deleted_vars=tuple(deleted), globals=writes)


def _limits_here(sandbox, limits, here_ms):
    """(the limits to run with, whether its wall time was lowered to `here_ms`): inside a finish
    transaction (NodeCall.here_ms) the run may take at most that long."""
    if here_ms is None:
        return limits, False
    try:
        own = sandbox.effective_limits(limits)
    except (TypeError, ValueError):  # the run reports them
        return limits, False
    if own.wall_ms <= here_ms:
        return limits, False
    return {**own.as_dict(), "wall_ms": here_ms}, True


def _global_writes(before, after, versions):
    """Writes for what the code changed in ctx["globals"], applied when the node completes. Each set
    expects the version the code read (0: a key that did not exist): when another execution wrote
    it meanwhile, the node fails with a transient `conflict` (a retry reads again), so no update is
    lost. Deletes are unconditional."""
    if before is None or after is None:
        return []
    changed, deleted = diff_vars(before, after)
    return [GlobalWrite(key, SET, value, versions.get(key, 0)) for key, value in changed.items()] + [
        GlobalWrite(key, DELETE) for key in deleted]


_configured = False


def _configure_sandbox():
    """Apply NODEFLOW settings to the sandbox once per process."""
    global _configured
    if _configured:
        return
    import sandbox

    sandbox.configure(allow_weak=settings.NODEFLOW["SANDBOX_ALLOW_WEAK"], **settings.NODEFLOW["SANDBOX"])
    _configured = True
