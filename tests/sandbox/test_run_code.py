"""run_code / check_syntax: the contract the code.python node relies on."""

import math
from datetime import datetime

import pytest

import sandbox
from sandbox import SandboxLimits, check_syntax, configure, run_code

from .conftest import assert_next_run_works, make_ctx


def test_check_syntax_accepts_code_that_defines_run():
    assert check_syntax("def run(ctx):\n    return ctx['input']\n") is None


def test_check_syntax_reports_line_and_column():
    problem = check_syntax("def run(ctx):\n    return (1 +\n\nx = ]\n")
    assert problem["line"] == 4
    assert problem["column"] == 4
    assert "SyntaxError" in problem["message"]


def test_check_syntax_reports_a_missing_run_function():
    assert check_syntax("def main(ctx):\n    return 1\n") == {
        "message": "The code must define a function run(ctx)", "line": 1, "column": 0}


def test_check_syntax_refuses_an_async_run():
    assert check_syntax("x = 1\nasync def run(ctx):\n    return 1\n") == {
        "message": "run(ctx) must be a plain def, not async def", "line": 2, "column": 0}


def test_syntax_error_fails_the_run_with_its_position_before_anything_runs():
    result = run_code("print('ran')\ndef run(ctx):\n    return )\n", make_ctx())
    assert not result.ok
    assert result.error["class"] == "permanent"
    assert (result.error["line"], result.error["column"]) == (3, 11)
    assert result.logs == []


def test_return_value_vars_and_logs():
    code = (
        "import statistics\n"
        "def run(ctx):\n"
        "    print('mean of', ctx['input']['xs'])\n"
        "    print('second line')\n"
        "    ctx['vars']['mean'] = statistics.mean(ctx['input']['xs'])\n"
        "    del ctx['vars']['old']\n"
        "    return {'n': len(ctx['input']['xs']), 'node': ctx['nodes']['a']['output']}\n"
    )
    ctx = make_ctx(xs=[1, 2, 3, 6])
    ctx["vars"] = {"old": 1, "kept": "yes"}
    ctx["nodes"] = {"a": {"output": {"k": "v"}, "status": "completed"}}
    result = run_code(code, ctx)
    assert result.ok, result.error
    assert result.value == {"n": 4, "node": {"k": "v"}}
    assert result.vars == {"mean": 3, "kept": "yes"}
    assert [(log["level"], log["message"]) for log in result.logs] == [
        ("info", "mean of [1, 2, 3, 6]"), ("info", "second line")]
    assert all(datetime.fromisoformat(log["ts"]).tzinfo for log in result.logs)
    assert ctx["vars"] == {"old": 1, "kept": "yes"}, "the caller's context was changed"
    assert result.duration_ms > 0


def test_stderr_goes_to_error_logs():
    code = "import statistics\ndef run(ctx):\n    print('bad', file=statistics.sys.stderr)\n"
    result = run_code(code, make_ctx())
    assert result.ok, result.error
    assert [(log["level"], log["message"]) for log in result.logs] == [("error", "bad")]


def test_user_exception_is_permanent_with_a_traceback_of_user_lines_only():
    code = (
        "def helper(x):\n"
        "    raise ValueError(f'bad value {x}')\n"
        "def run(ctx):\n"
        "    print('before')\n"
        "    return helper(ctx['input']['x'])\n"
    )
    result = run_code(code, make_ctx(x=7))
    assert not result.ok
    error = result.error
    assert error["class"] == "permanent"
    assert error["message"] == "ValueError: bad value 7"
    assert error["line"] == 2
    assert 'line 5, in run\n    return helper(ctx[\'input\'][\'x\'])' in error["traceback"]
    assert "line 2, in helper\n    raise ValueError(f'bad value {x}')" in error["traceback"]
    assert "zygote" not in error["traceback"] and "nodeflow" not in error["traceback"]
    assert [log["message"] for log in result.logs] == ["before"]


@pytest.mark.parametrize("code, fragment", [
    ("def run(ctx):\n    return {1, 2}\n", "set is not JSON serializable"),
    ("def run(ctx):\n    return float('nan')\n", "Out of range float values"),
    ("def run(ctx):\n    ctx['vars']['when'] = object()\n    return 1\n", "object is not JSON"),
])
def test_non_json_output_is_a_permanent_error(code, fragment):
    result = run_code(code, make_ctx())
    assert not result.ok
    assert result.error["class"] == "permanent"
    assert "not JSON-serialisable" in result.error["message"]
    assert fragment in result.error["message"]


def test_replacing_vars_with_a_non_dict_is_a_permanent_error():
    result = run_code("def run(ctx):\n    ctx['vars'] = [1]\n", make_ctx())
    assert result.error["class"] == "permanent"
    assert "ctx['vars']" in result.error["message"]


def test_context_that_is_not_json_is_refused():
    result = run_code("def run(ctx):\n    return 1\n", {"input": {1, 2}, "vars": {}})
    assert result.error["class"] == "permanent"
    assert "context is not JSON" in result.error["message"]


def test_missing_context_keys_default_to_empty():
    result = run_code("def run(ctx):\n    ctx['vars']['a'] = 1\n    return sorted(ctx)\n",
                      {"input": {"x": 1}})
    assert result.ok, result.error
    assert result.value == ["execution", "input", "nodes", "vars"]
    assert result.vars == {"a": 1}


def test_the_default_allow_list_works_inside_the_jail():
    code = (
        "import math, json, re, datetime, time, statistics, decimal, fractions, itertools\n"
        "import functools, collections, random, string, copy, hashlib, base64, uuid, textwrap\n"
        "from collections import abc, Counter\n"
        "def run(ctx):\n"
        "    return [\n"
        "        math.sqrt(16), json.dumps({'a': 1}), re.sub('a', 'b', 'aa'),\n"
        "        datetime.datetime.strptime('2024-02-03', '%Y-%m-%d').isoformat(),\n"
        "        time.time() > 0, statistics.median([3, 1, 2]),\n"
        "        str(decimal.Decimal(1) / 8), str(fractions.Fraction(2, 4)),\n"
        "        list(itertools.accumulate([1, 2, 3])), functools.reduce(max, [1, 5, 2]),\n"
        "        Counter('aab')['a'], isinstance({}, abc.Mapping), 0 <= random.random() < 1,\n"
        "        string.ascii_lowercase[:3], copy.deepcopy({'x': [1]}),\n"
        "        hashlib.sha256(b'abc').hexdigest()[:8], base64.b64encode(b'hi').decode(),\n"
        "        len(str(uuid.uuid4())), len(str(uuid.uuid1())), textwrap.dedent('  x'),\n"
        "        'é'.encode('utf-16-le').hex(), 'bücher.example'.encode('idna').decode(),\n"
        "        datetime.datetime.now(datetime.timezone.utc).year >= 2024,\n"
        "    ]\n"
    )
    result = run_code(code, make_ctx())
    assert result.ok, result.error
    assert result.value == [
        4.0, '{"a": 1}', "bb", "2024-02-03T00:00:00", True, 2, "0.125", "1/2", [1, 3, 6], 5,
        2, True, True, "abc", {"x": [1]}, "ba7816bf", "aGk=", 36, 36, "x", "e900",
        "xn--bcher-kva.example", True]


def test_random_and_uuid_differ_between_runs():
    code = "import random, uuid\ndef run(ctx):\n    return [random.random(), str(uuid.uuid4())]\n"
    first, second = run_code(code, make_ctx()), run_code(code, make_ctx())
    assert first.ok and second.ok
    assert first.value[0] != second.value[0]
    assert first.value[1] != second.value[1]


def test_module_outside_the_allow_list_fails_with_the_documented_message():
    result = run_code("import os\ndef run(ctx):\n    return 1\n", make_ctx())
    assert result.error["class"] == "sandbox"
    assert result.error["limit"] == "import"
    assert result.error["message"] == "module os is not allowed in code nodes"


def test_a_refused_import_can_be_caught_by_the_code():
    code = ("def run(ctx):\n    try:\n        import yaml\n    except ImportError as exc:\n"
            "        return str(exc)\n")
    result = run_code(code, make_ctx())
    assert result.ok
    assert result.value == "module yaml is not allowed in code nodes"


def test_allow_list_is_configurable():
    configure(allowed_modules=("json", "bisect"))
    assert run_code("import bisect\ndef run(ctx):\n    return bisect.bisect([1, 3], 2)\n",
                    make_ctx()).value == 1
    refused = run_code("import math\ndef run(ctx):\n    return 1\n", make_ctx())
    assert refused.error["message"] == "module math is not allowed in code nodes"


def test_nothing_leaks_from_one_run_to_the_next():
    code = ("import math\ndef run(ctx):\n    seen = getattr(math, 'nodeflow_mark', None)\n"
            "    math.nodeflow_mark = ctx['input']['n']\n    return seen\n")
    assert run_code(code, make_ctx(n=1)).value is None
    assert run_code(code, make_ctx(n=2)).value is None


def test_suspicious_attribute_gets_an_early_friendly_error():
    result = run_code("def run(ctx):\n    return ().__class__.__base__.__subclasses__()\n",
                      make_ctx())
    assert result.error["class"] == "sandbox"
    assert result.error["limit"] == "operation"
    assert "__subclasses__" in result.error["message"]
    assert result.error["line"] == 2


def test_per_node_limits_are_clamped_to_the_server_maxima():
    configure(max_limits=SandboxLimits(cpu_ms=100, wall_ms=1000, memory_mb=64,
                                       output_bytes=10_000))
    spin = "def run(ctx):\n    while True:\n        pass\n"
    result = run_code(spin, make_ctx(), {"cpu_ms": 5000})
    assert result.error["message"] == "CPU time limit of 100 ms exceeded"
    big = "def run(ctx):\n    return 'x' * 20_000\n"
    assert run_code(big, make_ctx(), {"output_bytes": 10**9}).error["limit"] == "output"


@pytest.mark.parametrize("limits, code, limit, message", [
    ({"cpu_ms": 50}, "def run(ctx):\n    while True:\n        pass\n",
     "cpu", "CPU time limit of 50 ms exceeded"),
    ({"wall_ms": 200}, "import time\ndef run(ctx):\n    time.sleep(2)\n",
     "wall", "Wall time limit of 200 ms exceeded"),
    ({"memory_mb": 32}, "def run(ctx):\n    return len(bytearray(48 * 1024 * 1024))\n",
     "memory", "Memory limit of 32 MB exceeded"),
    ({"output_bytes": 2000}, "def run(ctx):\n    print('x' * 1500)\n    return 'y' * 1000\n",
     "output", "Output limit of 2000 bytes (return value + logs) exceeded"),
])
def test_each_limit_is_enforced_and_named(limits, code, limit, message):
    result = run_code(code, make_ctx(), limits)
    assert result.error["class"] == "sandbox"
    assert result.error["limit"] == limit
    assert result.error["message"] == message
    assert_next_run_works()


def test_memory_within_the_limit_is_usable():
    code = "def run(ctx):\n    return len(bytearray(90 * 1024 * 1024))\n"
    result = run_code(code, make_ctx())
    assert result.ok, result.error
    assert result.value == 90 * 1024 * 1024


def test_wall_limit_counts_from_the_run_not_the_cpu():
    result = run_code("import time\ndef run(ctx):\n    time.sleep(0.3)\n    return 1\n",
                      make_ctx(), {"wall_ms": 1000, "cpu_ms": 50})
    assert result.ok, result.error  # 50 ms of CPU was enough: sleeping costs none
    assert result.duration_ms >= 300


def test_large_context_and_result_round_trip():
    items = [{"id": i, "name": f"item {i}", "score": math.pi * i} for i in range(10_000)]
    code = "def run(ctx):\n    return [i['id'] for i in ctx['input']['items'] if i['id'] % 1000 == 0]\n"
    result = run_code(code, make_ctx(items=items), {"memory_mb": 128})
    assert result.ok, result.error
    assert result.value == list(range(0, 10_000, 1000))


def test_invalid_limits_are_a_permanent_error():
    result = run_code("def run(ctx):\n    return 1\n", make_ctx(), {"cpu_ms": -1})
    assert result.error["class"] == "permanent"
    assert "cpu_ms" in result.error["message"]
    with pytest.raises(TypeError):
        configure(no_such_setting=True)


def test_status_names_the_mode():
    status = sandbox.sandbox_status()
    assert status["mode"] in ("bwrap+seccomp", "weak", "unavailable")
    assert status["detail"]
