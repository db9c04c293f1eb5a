"""Golden workflows run inline and on a real Celery worker with identical results."""

import json

import pytest

from executions import contexts, starting
from executions.inline import run_inline
from executions.models import Execution
from executions.replay import rebuild_state, stored_state
from executions.tasks import dispatcher
from tests.conftest import FIXTURES, load_workflow, wait_for_execution
from workflows.services import with_node_versions
from nodes.validation import validate_document

GOLDEN = sorted(p.name[: -len(".expected.json")] for p in (FIXTURES / "workflows").glob("*.expected.json"))


def expected(name):
    return json.loads((FIXTURES / "workflows" / f"{name}.expected.json").read_text())


def summary(execution):
    return {
        "status": execution.status,
        "result": execution.result,
        "nodes": dict(execution.node_runs.values_list("node_id", "status")),
    }


def assert_matches(execution, name):
    want = expected(name)
    assert summary(execution) == {"status": want["status"], "result": want["result"], "nodes": want["nodes"]}


@pytest.mark.parametrize("name", GOLDEN)
def test_golden_workflow_is_valid(name):
    assert validate_document(with_node_versions(load_workflow(name))) == []


@pytest.mark.django_db
@pytest.mark.parametrize("name", GOLDEN)
def test_golden_workflow_inline(name):
    execution = run_inline(with_node_versions(load_workflow(name)), input_data=expected(name)["input"])
    assert_matches(execution, name)


@pytest.mark.parametrize("name", GOLDEN)
def test_golden_workflow_on_celery_matches_inline(name, celery_worker):
    document = with_node_versions(load_workflow(name))
    started = starting.start_execution(document, dispatcher=dispatcher, input_data=expected(name)["input"])
    on_celery = wait_for_execution(started.pk)
    assert_matches(on_celery, name)
    inline = run_inline(document, input_data=expected(name)["input"])
    assert summary(inline) == summary(on_celery)
    outputs = lambda e: dict(e.node_runs.values_list("node_id", "output"))  # noqa: E731
    assert outputs(inline) == outputs(on_celery)
    assert {r.worker.split("@")[0] for r in on_celery.node_runs.exclude(worker="")} == {celery_worker.name.split("@")[0]}


@pytest.mark.django_db
@pytest.mark.parametrize("name", GOLDEN)
def test_events_rebuild_the_stored_state(name):
    execution = run_inline(with_node_versions(load_workflow(name)), input_data=expected(name)["input"])
    events = list(execution.events.order_by("seq"))
    assert rebuild_state(events) == stored_state(execution)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))


@pytest.mark.django_db
def test_rebuild_detects_a_gap_in_the_event_log():
    execution = run_inline(with_node_versions(load_workflow("chain")), input_data={"name": "x", "count": 1})
    events = list(execution.events.order_by("seq"))
    del events[2]
    with pytest.raises(ValueError, match="gap"):
        rebuild_state(events)


@pytest.mark.django_db
def test_each_node_output_is_stored_once_and_the_context_is_computed_from_outputs():
    execution = run_inline(with_node_versions(load_workflow("chain")), input_data={"name": "ada", "count": 1})
    node_id, context = contexts.context_after(execution, "second")
    assert node_id == "second"
    assert context["vars"] == {"greeting": "hello ada", "count": 2}
    assert set(context["nodes"]) == {"start", "first", "second"}
    assert context["nodes"]["second"]["output"] == {"was": 1, "greeting": "hello ada"}
    # Only nodes that write variables store them; the others point at the state they inherited.
    stored = dict(execution.node_runs.values_list("node_id", "vars_from"))
    assert stored == {"start": "", "first": "first", "second": "second", "done": "second"}
    assert Execution.objects.count() == 1
