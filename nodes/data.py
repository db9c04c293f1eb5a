"""Writing variables and shaping data."""

from engine import globals as g
from engine.errors import PERMANENT, NodeError
from nodes.registry import NodeResult, register_node

RUN, GLOBAL = "run", "global"


def _check_set(params):
    """What the schema cannot say: ops and keys of global writes."""
    problems = []
    scope, op, variables = params.get("scope", RUN), params.get("op", g.SET), params.get("vars")
    if scope == RUN and op != g.SET:
        problems.append(("op", f"op {op!r} writes global variables: set scope to \"global\" (run variables are set)"))
    if scope == GLOBAL and isinstance(variables, dict):
        problems += [("vars", g.key_problem(key)) for key in variables if g.key_problem(key)]
    if op == g.COMPARE_AND_SET and "expected_version" not in params:
        problems.append(("expected_version", "compare_and_set needs the version the value must still be at"))
    return problems


@register_node(
    "data.set",
    instant=True,
    title="Set",
    category="data",
    check_params=_check_set,
    description=(
        "Writes keys into the run's `vars` and/or sets its own output. Values are JSON or expressions; "
        "a value that is exactly one `{{ … }}` keeps its JSON type (number, list, object…). With scope "
        "`global` the keys are the owner's global variables (read as `globals.<key>`), written when the node "
        "completes with `op`: set, incr (adds the value, 1 when null), append (to a list), merge (into an object) "
        "or compare_and_set (only when the key is still at `expected_version`, else the node fails with a "
        "`conflict` error)."
    ),
    params_schema={
        "type": "object",
        "properties": {
            "vars": {"type": "object", "title": "Variables to write"},
            "output": {"title": "Output"},
            "scope": {"type": "string", "enum": [RUN, GLOBAL], "default": RUN, "title": "Scope",
                      "description": "run: this execution's vars; global: the owner's global variables"},
            "op": {"type": "string", "enum": list(g.OPS), "default": g.SET, "title": "Operation (global scope)"},
            "expected_version": {
                "title": "Expected version (compare_and_set)",
                "description": "The version each key must still be at (0: must not exist yet), or {key: version}",
                "oneOf": [{"type": "integer", "minimum": 0},
                          {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}}],
            },
        },
        "additionalProperties": False,
    },
)
def set_(call):
    variables = call.params.get("vars")
    if variables is None:
        variables = {}
    if not isinstance(variables, dict):
        raise NodeError(
            f"vars must be an object of variable names to values, not {type(variables).__name__}",
            PERMANENT,
            code="data.invalid_params",
        )
    if call.params.get("scope", RUN) == GLOBAL:
        writes = _global_writes(call.params, variables)
        if writes:
            call.log(f"{call.params.get('op', g.SET)} globals: {', '.join(variables)}")
        return NodeResult(output=call.params.get("output"), globals=writes)
    if variables:
        call.log(f"set vars: {', '.join(variables)}")
    return NodeResult(output=call.params.get("output"), vars=dict(variables))


def _global_writes(params, variables):
    op, expected = params.get("op", g.SET), params.get("expected_version")
    writes = []
    for key, value in variables.items():
        problem = g.key_problem(key)
        if problem:
            raise NodeError(problem, PERMANENT, code="data.invalid_params")
        version = None
        if op == g.COMPARE_AND_SET:
            version = expected.get(key) if isinstance(expected, dict) else expected
            if not isinstance(version, int) or isinstance(version, bool) or version < 0:
                raise NodeError(f"compare_and_set of {key!r} needs expected_version, a version number (0: the key "
                                f"must not exist yet), not {version!r}", PERMANENT, code="data.invalid_params")
        writes.append(g.GlobalWrite(key, op, value, version))
    return writes
