"""code.python through real workflow runs: output, variable writes, logs, and each kind of failure."""

import pytest

from executions import starting
from executions.inline import run_inline
from executions.tasks import dispatcher
from tests.conftest import wait_for_execution
from workflows.services import with_node_versions
from nodes.validation import validate_document


def code_workflow(code, **node):
    return with_node_versions({"api_version": "nodeflow/v1", "name": "code", "nodes": [
        {"id": "start", "type": "trigger.manual"},
        {"id": "prep", "type": "data.set", "params": {"vars": {"base": 10}, "output": {"items": [1, 2, 3]}}},
        {"id": "code", "type": "code.python", "params": {"code": code}, **node},
        {"id": "done", "type": "flow.terminal", "params": {"result": {"out": "{{ nodes.code.output }}", "vars": "{{ vars }}"}}}],
        "edges": [{"from": "start", "to": "prep"}, {"from": "prep", "to": "code"}, {"from": "code", "to": "done"}]})


SCORE = """import statistics

def run(ctx):
    items = ctx["nodes"]["prep"]["output"]["items"]
    print("scoring", len(items), "items for", ctx["input"]["who"])
    ctx["vars"]["score"] = ctx["vars"]["base"] * statistics.mean(items)
    del ctx["vars"]["base"]
    return {"mean": statistics.mean(items), "execution": ctx["execution"]["id"]}
"""


@pytest.mark.django_db
def test_code_reads_the_context_writes_vars_and_prints_to_the_logs():
    execution = run_inline(code_workflow(SCORE), input_data={"who": "ada"})
    assert execution.status == "succeeded", execution.error
    assert execution.result["out"] == {"mean": 2, "execution": str(execution.pk)}
    assert execution.result["vars"] == {"score": 20}  # base was deleted, score written
    run = execution.node_runs.get(node_id="code")
    assert [line["message"] for line in run.logs] == ["scoring 3 items for ada"]
    assert run.logs[0]["level"] == "info"


def test_code_runs_in_a_prefork_worker_process(celery_worker):
    execution = starting.start_execution(code_workflow(SCORE), dispatcher=dispatcher, input_data={"who": "bo"})
    execution = wait_for_execution(execution.pk, timeout=60)
    assert execution.status == "succeeded", execution.error
    assert execution.result["vars"] == {"score": 20}


def test_a_syntax_error_is_a_validation_error_with_line_and_column():
    errors = validate_document(code_workflow("def run(ctx):\n    return (1,\n"))
    assert [(e["code"], e["node_id"]) for e in errors] == [("invalid_params", "code")]
    assert "line 2, column" in errors[0]["message"] and errors[0]["path"].endswith("params.code")


@pytest.mark.django_db
def test_a_syntax_error_fails_the_node_with_line_and_column_before_running():
    execution = run_inline(code_workflow("def run(ctx):\n    print('ran')\n    return (1,\n"), input_data={"who": "x"})
    run = execution.node_runs.get(node_id="code")
    assert run.status == "failed" and run.error["code"] == "syntax_error"
    assert run.error["message"].startswith("line 3") and run.logs == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("code", "limit", "message"),
    [
        ("import socket\ndef run(ctx):\n    return 1\n", "import", "module socket is not allowed in code nodes"),
        ("def run(ctx):\n    while True:\n        pass\n", "cpu", "CPU time limit"),
        ("def run(ctx):\n    return open('/etc/passwd').read()\n", "operation", "not allowed"),
        ("def run(ctx):\n    return 'x' * (200 * 1024 * 1024)\n", "memory", "Memory limit of 128 MB"),
    ],
)
def test_a_sandbox_violation_fails_the_node_as_a_sandbox_error(code, limit, message):
    execution = run_inline(code_workflow(code), input_data={"who": "x"})
    assert execution.status == "failed"
    error = execution.node_runs.get(node_id="code").error
    assert error["class"] == "sandbox", error
    assert error["details"]["limit"] == limit and message in error["message"]


@pytest.mark.django_db
def test_a_user_exception_fails_the_node_with_a_traceback_of_user_code():
    execution = run_inline(code_workflow("def run(ctx):\n    raise ValueError('bad row')\n"), input_data={"who": "x"})
    error = execution.node_runs.get(node_id="code").error
    assert error["class"] == "permanent" and "bad row" in error["message"]
    assert "line 2" in error["traceback"] and "sandbox" not in error["traceback"]


@pytest.fixture
def sandbox_settings_from(settings):
    """Configure the code node's sandbox from NODEFLOW["SANDBOX"] = the given limits, then back to the defaults."""
    from nodes.code_python import v1
    from sandbox import settings as sandbox_settings

    def apply(default_limits, max_limits):
        settings.NODEFLOW = {**settings.NODEFLOW, "SANDBOX": {"default_limits": default_limits,
                                                              "max_limits": max_limits}}
        v1._configured = False  # the node configures the sandbox once per process

    yield apply
    sandbox_settings.reset()
    v1._configured = False


ALLOCATE_64_MB = "def run(ctx):\n    return len(bytearray(64 * 1024 * 1024))\n"


@pytest.mark.django_db
@pytest.mark.parametrize(("node_limits", "outcome"), [
    (None, "memory limit"),  # the default from the settings: 32 MB
    ({"memory_mb": 128}, "succeeded"),  # within the maximum
    ({"memory_mb": 10**6}, "succeeded"),  # clamped to the maximum, which is enough
])
def test_the_code_node_takes_its_sandbox_defaults_and_maxima_from_the_settings(sandbox_settings_from, node_limits,
                                                                               outcome):
    sandbox_settings_from({"memory_mb": 32}, {"memory_mb": 160})
    node = {"params": {"code": ALLOCATE_64_MB, **({"limits": node_limits} if node_limits else {})}}

    execution = run_inline(code_workflow(ALLOCATE_64_MB, **node), input_data={"who": "x"})

    run = execution.node_runs.get(node_id="code")
    if outcome == "succeeded":
        assert execution.status == "succeeded", run.error
        assert run.output == 64 * 1024 * 1024
    else:
        assert run.status == "failed" and run.error["details"]["limit"] == "memory", run.error
        assert "Memory limit of 32 MB" in run.error["message"]


@pytest.mark.django_db
def test_a_node_cannot_ask_for_more_than_the_maximum_in_the_settings(sandbox_settings_from):
    sandbox_settings_from({"memory_mb": 32}, {"memory_mb": 32})
    node = {"params": {"code": ALLOCATE_64_MB, "limits": {"memory_mb": 128}}}

    execution = run_inline(code_workflow(ALLOCATE_64_MB, **node), input_data={"who": "x"})

    run = execution.node_runs.get(node_id="code")
    assert run.status == "failed" and "Memory limit of 32 MB" in run.error["message"], run.error
