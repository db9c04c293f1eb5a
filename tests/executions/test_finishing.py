"""How a node run's end is recorded: unexpected crashes, results the database cannot hold, and large
outputs written before the execution's lock (executions/finishing.py)."""

import logging

import pytest
from django.db import connection

from executions import outputs
from executions.inline import run_inline
from workflows.services import with_node_versions


def chain(*nodes):
    ids = ["start"] + [n["id"] for n in nodes]
    return with_node_versions({
        "api_version": "nodeflow/v1", "name": "t", "nodes": [{"id": "start", "type": "trigger.manual"}, *nodes],
        "edges": [{"from": a, "to": b} for a, b in zip(ids, ids[1:])]})


@pytest.mark.django_db
def test_a_crashing_node_type_shows_the_user_a_reference_and_keeps_the_traceback_in_the_log(caplog):
    with caplog.at_level(logging.ERROR, logger="nodeflow.engine"):
        execution = run_inline(chain({"id": "bug", "type": "test.crash"}))
    assert execution.status == "failed"
    error = execution.node_runs.get(node_id="bug").error
    assert error["code"] == "node_crashed" and "traceback" not in error
    assert "RuntimeError" in error["message"] and "/" not in error["message"]
    assert "unexpected state" not in error["message"]  # the exception's own text may carry internals
    reference = error["details"]["reference"]
    logged = [r for r in caplog.records if reference in r.getMessage()]
    assert logged and logged[0].exc_info and "unexpected state in" in str(logged[0].exc_info[1])


@pytest.mark.django_db
def test_nan_in_an_output_fails_the_node_through_on_error_instead_of_leaving_it_running():
    execution = run_inline(chain(
        {"id": "bad", "type": "test.echo", "params": {"nan_at": "score"}, "on_error": "continue"},
        {"id": "done", "type": "flow.terminal", "params": {"result": "{{ nodes.bad.output.error.code }}"}}))
    assert execution.status == "succeeded", execution.error
    assert execution.result == "result_not_storable"
    run = execution.node_runs.get(node_id="bad")
    assert run.status == "completed" and "$.score" in run.error["message"] and "NaN" in run.error["message"]


@pytest.mark.django_db(transaction=True)
def test_large_outputs_are_written_before_the_execution_lock_is_taken(monkeypatch, settings):
    settings.NODEFLOW = {**settings.NODEFLOW, "OUTPUT_INLINE_MAX_BYTES": 1000}
    seen = []
    store_if_large = outputs.store_if_large

    def spy(execution_id, key, value):
        seen.append((key, connection.in_atomic_block))
        return store_if_large(execution_id, key, value)

    monkeypatch.setattr(outputs, "store_if_large", spy)
    execution = run_inline(chain({"id": "big", "type": "test.echo", "params": {"value": "x" * 5000}}))
    assert execution.status == "succeeded"
    # test.echo runs between its claim and its finish: both its files are written outside any
    # transaction (instant nodes, run inside one, are bounded by LOCAL_RUN_BUDGET_S instead).
    assert [(key, in_transaction) for key, in_transaction in seen if key.startswith("big-")] == [
        ("big-1", False), ("big-1-input", False)]
    assert outputs.is_reference(execution.node_runs.get(node_id="big").output)
