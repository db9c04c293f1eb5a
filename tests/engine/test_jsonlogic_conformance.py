"""The JsonLogic compatibility suites (json-logic/compat-tables, Apache-2.0).

`compatible.json` (the classic jsonlogic.com set) must pass case by case. Every other
suite file runs in one test that prints a pass table and fails when a file passes
fewer cases than recorded in MINIMUM_PASSED, so a regression cannot hide.

The suites are read from $NODEFLOW_JSONLOGIC_SUITES, else tests/fixtures/jsonlogic/,
else acceptance/jsonlogic/ in the shared folder ($NODEFLOW_SHARED_DIR, default ../shared
beside the checkout; see tests/support/shared.py)."""

import json
import math
import os
from pathlib import Path

import pytest

from engine import jsonlogic
from tests.support.shared import shared_dir


def _suites_dir():
    candidates = [
        os.environ.get("NODEFLOW_JSONLOGIC_SUITES"),
        Path(__file__).resolve().parent.parent / "fixtures" / "jsonlogic",
        shared_dir() / "acceptance" / "jsonlogic",
    ]
    for candidate in candidates:
        if candidate and (Path(candidate) / "index.json").is_file():
            return Path(candidate)
    return None


SUITES = _suites_dir()

# Cases passed per file when this was written (all of them); lower means a regression.
MINIMUM_PASSED = {
    "compatible.json": 278,
    "arithmetic/plus.json": 32,
    "arithmetic/plus.extra.json": 3,
    "arithmetic/multiply.json": 28,
    "arithmetic/multiply.extra.json": 3,
    "arithmetic/minus.json": 22,
    "arithmetic/minus.extra.json": 3,
    "arithmetic/divide.json": 31,
    "arithmetic/divide.extra.json": 3,
    "arithmetic/modulo.json": 31,
    "arithmetic/modulo.extra.json": 2,
    "comparison/greaterThan.json": 35,
    "comparison/greaterThanEquals.json": 28,
    "comparison/lessThan.json": 45,
    "comparison/lessThanEquals.json": 20,
    "comparison/softEquals.json": 35,
    "comparison/softNotEquals.json": 34,
    "comparison/strictEquals.json": 31,
    "comparison/strictNotEquals.json": 30,
    "control/and.json": 25,
    "control/if.json": 44,
    "control/or.json": 24,
    "control/not.json": 23,
    "control/doublebang.json": 23,
    "string/in.json": 8,
    "string/cat.json": 9,
    "string/substr.json": 12,
    "array/map.json": 14,
    "array/filter.json": 12,
    "array/reduce.json": 9,
    "array/merge.json": 8,
    "array/all.json": 12,
    "array/some.json": 13,
    "array/none.json": 13,
    "truthiness.json": 13,
    "additional.json": 4,
    "coalesce.json": 15,
    "chained.json": 7,
    "iterators.extra.json": 34,
    "exists.json": 8,
    "scopes.json": 4,
    "throw.json": 3,
    "try.json": 18,
    "try.extra.json": 1,
    "val.json": 13,
    "val.extra.json": 3,
    "val-compat.json": 60,
    "var.extra.json": 12,
}


def load_cases(name):
    """The test cases of one suite file; strings in the files are section comments."""
    return [case for case in json.loads((SUITES / name).read_text()) if isinstance(case, dict)]


def same_json(actual, expected, *, decimal=False):
    """JSON equality that tells true from 1; `decimal` cases compare numbers approximately."""
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(actual) is type(expected) and actual == expected
    if isinstance(expected, (int, float)):
        if not isinstance(actual, (int, float)):
            return False
        return math.isclose(actual, expected, rel_tol=1e-9, abs_tol=1e-12) if decimal else actual == expected
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(actual) == len(expected)
            and all(same_json(a, e, decimal=decimal) for a, e in zip(actual, expected))
        )
    if isinstance(expected, dict):
        return (
            isinstance(actual, dict)
            and actual.keys() == expected.keys()
            and all(same_json(actual[k], expected[k], decimal=decimal) for k in expected)
        )
    return type(actual) is type(expected) and actual == expected


def run_case(case):
    """(passed, what happened) for one suite case."""
    try:
        result = jsonlogic.apply(case["rule"], case.get("data"))
    except jsonlogic.JsonLogicError as exc:
        passed = "error" in case and exc.error == case["error"]
        return passed, f"raised {type(exc).__name__} {exc.error}: {exc}"
    passed = "result" in case and same_json(result, case["result"], decimal="decimal" in case)
    return passed, f"returned {json.dumps(result, default=repr)}"


def test_suites_are_present():
    assert SUITES is not None, (
        "JsonLogic suites not found: set NODEFLOW_JSONLOGIC_SUITES or NODEFLOW_SHARED_DIR, or copy them to "
        "tests/fixtures/jsonlogic/"
    )


def _compatible_cases():
    if SUITES is None:
        return []
    return [pytest.param(case, id=f"{i}-{case['description'][:60]}") for i, case in enumerate(load_cases("compatible.json"))]


@pytest.mark.parametrize("case", _compatible_cases())
def test_compatible_suite(case):
    passed, happened = run_case(case)
    expected = case.get("result", case.get("error"))
    assert passed, f"{json.dumps(case['rule'])} with {json.dumps(case.get('data'))}: expected {expected!r}, {happened}"


def test_run_case_rejects_wrong_answers():
    """The harness itself can fail: a wrong result, a wrong error type, a 1 for a true."""
    assert not run_case({"rule": {"+": [1, 1]}, "result": 3})[0]
    assert not run_case({"rule": {"/": [1, 0]}, "error": {"type": "Invalid Arguments"}})[0]
    assert not run_case({"rule": {"!!": [1]}, "result": 1})[0]
    assert not run_case({"rule": {"+": [1, 1]}, "error": {"type": "NaN"}})[0]
    assert run_case({"rule": {"/": [1, 3]}, "result": 0.3333333333, "decimal": True})[0]


def test_every_suite_file_meets_its_recorded_minimum(capsys):
    assert SUITES is not None, "JsonLogic suites not found"
    names = json.loads((SUITES / "index.json").read_text())
    rows, regressions, failures = [], [], []
    for name in names:
        cases = load_cases(name)
        passed = 0
        for case in cases:
            ok, happened = run_case(case)
            passed += ok
            if not ok:
                failures.append(f"{name}: {json.dumps(case['rule'])} -> {happened}")
        minimum = MINIMUM_PASSED.get(name, 0)
        rows.append((name, passed, len(cases), minimum))
        if passed < minimum:
            regressions.append(f"{name}: {passed} passed, at least {minimum} expected")

    total_passed = sum(row[1] for row in rows)
    total = sum(row[2] for row in rows)
    lines = [f"{'JsonLogic suite file':40} {'passed':>7} {'cases':>6} {'min':>5}"]
    lines += [f"{name:40} {passed:>7} {count:>6} {minimum:>5}" for name, passed, count, minimum in rows]
    lines.append(f"{'total':40} {total_passed:>7} {total:>6}")
    with capsys.disabled():
        print("\n" + "\n".join(lines))

    assert not regressions, "\n".join(regressions + ["failing cases:"] + failures[:40])
    unrecorded = sorted(set(names) - set(MINIMUM_PASSED))
    assert not unrecorded, f"suite files without a recorded minimum (add them to MINIMUM_PASSED): {unrecorded}"
