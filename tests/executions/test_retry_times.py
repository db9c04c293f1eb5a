"""A retry resets the times of the nodes it runs again or waits for (issue 25, item 13 of the list): a node
cancelled by the failure and skipped in the retry no longer shows the first run's time."""

import pytest
from django.utils import timezone

from executions import services
from executions.inline import InlineDispatcher, run_inline
from workflows.services import with_node_versions

pytestmark = pytest.mark.django_db


def test_a_node_skipped_in_the_retry_shows_no_time_of_the_failed_run():
    doc = with_node_versions({"api_version": "nodeflow/v1", "name": "t", "nodes": [
        {"id": "start", "type": "trigger.manual"},
        {"id": "flaky", "type": "test.flaky", "params": {"failures": 1}},
        {"id": "check", "type": "logic.if", "params": {"condition": {"==": [1, 2]}}},
        {"id": "yes", "type": "flow.noop"},
        {"id": "no", "type": "flow.terminal", "params": {"result": "no"}},
    ], "edges": [{"from": "start", "to": "flaky"}, {"from": "flaky", "to": "check"},
                 {"from": "check", "port": "true", "to": "yes"}, {"from": "check", "port": "false", "to": "no"}]})
    execution = run_inline(doc)
    assert execution.status == "failed"
    cancelled = execution.node_runs.get(node_id="yes")
    assert cancelled.status == "cancelled" and cancelled.finished_at is not None
    retried_at = timezone.now()

    inline = InlineDispatcher()
    services.retry_execution(str(execution.pk), dispatcher=inline)
    inline.drain()

    execution.refresh_from_db()
    assert execution.status == "succeeded"
    skipped = execution.node_runs.get(node_id="yes")
    assert skipped.status == "skipped"
    assert skipped.started_at is None
    assert skipped.finished_at is None or skipped.finished_at >= retried_at
    ran = execution.node_runs.get(node_id="no")
    assert ran.status == "completed" and ran.started_at >= retried_at
