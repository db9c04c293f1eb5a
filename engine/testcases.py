"""Workflow tests (DEBUGGING.md): what a finished case's execution is checked against.

A case's `expect` may hold `status` (equal), `result` (a deep subset of the result), `nodes`
({node id: {status, output}}, each a subset match) and `assert` (JsonLogic rules over the final
context, each truthy). Every mismatch is a failure `{path, expected, actual}`, the path saying
where (`result.user.name`, `nodes.lookup.output.status`, `assert[1]`), so that a user sees at once
what differs without reading the whole execution.
"""

from engine import jsonlogic

DEFAULT_MAX_STEPS = 1000
_MISSING = object()


def subset_failures(expected, actual, path):
    """Failures of a deep subset match: every key of an expected object is in the actual one and
    matches; lists match item by item with the same length; anything else is equal (a bool is not a
    number, as in JSON)."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [failure(path, expected, actual)]
        found = []
        for key, value in expected.items():
            where = f"{path}.{key}" if path else str(key)
            if key not in actual:
                found.append(failure(where, value, _MISSING))
            else:
                found += subset_failures(value, actual[key], where)
        return found
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return [failure(path, expected, actual)]
        return [f for index, value in enumerate(expected) for f in subset_failures(value, actual[index],
                                                                                     f"{path}[{index}]")]
    if type(expected) is bool or type(actual) is bool:
        return [] if expected is actual else [failure(path, expected, actual)]
    return [] if expected == actual else [failure(path, expected, actual)]


def failure(path, expected, actual):
    """One failure; an absent actual value is shown as null with `missing: true`."""
    if actual is _MISSING:
        return {"path": path, "expected": expected, "actual": None, "missing": True}
    return {"path": path, "expected": expected, "actual": actual}


def check_case(expect, finished):
    """The failures of a case whose execution ended as `finished`: {"status", "result", "nodes":
    {node id: {"status", "output"}}, "context": the final context the asserts read}."""
    expect = expect or {}
    found = []
    if "status" in expect and expect["status"] != finished["status"]:
        found.append(failure("status", expect["status"], finished["status"]))
    if "result" in expect:
        found += subset_failures(expect["result"], finished.get("result"), "result")
    for node_id, wanted in (expect.get("nodes") or {}).items():
        run = finished["nodes"].get(node_id)
        if run is None:
            found.append(failure(f"nodes.{node_id}", wanted, _MISSING))
            continue
        found += subset_failures(wanted, run, f"nodes.{node_id}")
    for index, rule in enumerate(expect.get("assert") or []):
        try:
            value = jsonlogic.apply(rule, finished["context"])
        except Exception as exc:  # noqa: BLE001 - a rule that fails to evaluate is a failed assertion
            found.append({"path": f"assert[{index}]", "expected": True, "actual": None, "error": str(exc)})
            continue
        if not jsonlogic.truthy(value):
            found.append(failure(f"assert[{index}]", True, value))
    return found


def case_pins(document_pins, case):
    """The pins a case runs with: the document's, and the case's over them."""
    return {**(document_pins or {}), **(case.get("pins") or {})}


def max_steps(case):
    """Node runs a case may make before it is stopped as runaway."""
    return case.get("max_steps") or DEFAULT_MAX_STEPS


def report(cases):
    """The report of DEBUGGING.md from the cases' results ({"name", "ok", …} each)."""
    passed = sum(1 for case in cases if case["ok"])
    return {"passed": passed, "failed": len(cases) - passed, "cases": cases}
