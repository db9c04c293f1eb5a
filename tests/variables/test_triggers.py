"""trigger.variable: each committed change that alters a watched value starts one execution of the
published workflow, never an equal write; chains stop at NODEFLOW_MAX_CALL_DEPTH; a change whose
executions were not started after its commit is started by beat's sweep."""

import pytest
from django.conf import settings
from django.test import override_settings

from engine.globals import GlobalWrite
from executions.inline import InlineDispatcher
from executions.models import Execution
from nodes.validation import validate_document
from variables import services
from variables.models import VariableChange, VariableRun, VariableTrigger
from workflows import variable_triggers
from workflows.services import create_workflow, publish_workflow, unpublish_workflow, with_node_versions

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def started_executions_stay_queued(monkeypatch):
    """These tests check which executions a change starts, with what input. The executions stay
    queued here (an inline dispatcher never drained): sent to the suite's worker, they would still
    be running while the test's tables are emptied (a deadlock with the flush)."""
    monkeypatch.setattr(variable_triggers, "dispatcher", InlineDispatcher())


def watcher(key, *after):
    nodes = [{"id": "changed", "type": "trigger.variable", "params": {"key": key}}, *after]
    if not after:
        nodes.append({"id": "end", "type": "flow.terminal", "params": {"result": "{{ input }}"}})
    edges = [{"from": a["id"], "to": b["id"]} for a, b in zip(nodes, nodes[1:])]
    return with_node_versions({"api_version": "nodeflow/v1", "name": f"on {key}", "nodes": nodes, "edges": edges})


def published(owner, document):
    workflow, errors = create_workflow(owner, definition=document)
    assert errors == []
    publish_workflow(workflow)
    return workflow


def started(workflow):
    return list(Execution.objects.filter(workflow=workflow).order_by("created_at"))


def test_a_change_through_the_api_starts_one_execution_with_key_old_and_new(alice, alice_client):
    workflow = published(alice, watcher("price"))
    assert list(VariableTrigger.objects.values_list("pattern", "node_id")) == [("price", "changed")]
    alice_client.put("/api/v1/variables/price", {"value": 10}, format="json")
    alice_client.put("/api/v1/variables/price", {"value": 12}, format="json")
    alice_client.put("/api/v1/variables/unwatched", {"value": 1}, format="json")
    runs = started(workflow)
    assert [run.input for run in runs] == [
        {"key": "price", "old": None, "new": 10, "execution_id": None, "node_id": None},
        {"key": "price", "old": 10, "new": 12, "execution_id": None, "node_id": None},
    ]
    assert all(run.trigger == "variable" and run.trigger_node == "changed" for run in runs)
    change = VariableChange.objects.filter(key="price").order_by("at", "id").last()
    assert change.triggers == "done" and change.started == [str(runs[1].pk)]


def test_an_equal_write_starts_nothing(alice, alice_client):
    workflow = published(alice, watcher("price"))
    alice_client.put("/api/v1/variables/price", {"value": {"a": [1]}}, format="json")
    for _ in range(3):
        alice_client.put("/api/v1/variables/price", {"value": {"a": [1]}}, format="json")
    services.write(alice.pk, [GlobalWrite("price", "merge", {})])
    assert len(started(workflow)) == 1
    assert VariableChange.objects.filter(key="price").count() == 5  # every write is in the history
    assert VariableChange.objects.filter(key="price", triggers="pending").count() == 0


def test_a_prefix_watches_every_key_it_starts_and_deletes_count_as_changes(alice, alice_client):
    workflow = published(alice, watcher("order_*"))
    alice_client.put("/api/v1/variables/order_1", {"value": "new"}, format="json")
    alice_client.put("/api/v1/variables/orders", {"value": "not it"}, format="json")
    alice_client.delete("/api/v1/variables/order_1")
    assert [(run.input["key"], run.input["old"], run.input["new"]) for run in started(workflow)] == [
        ("order_1", None, "new"), ("order_1", "new", None)]


def test_another_owners_change_starts_nothing(alice, bob, bob_client):
    workflow = published(alice, watcher("price"))
    bob_client.put("/api/v1/variables/price", {"value": 1}, format="json")
    assert started(workflow) == []


def test_fifty_changes_in_a_burst_start_exactly_fifty_executions(alice):
    workflow = published(alice, watcher("counter"))
    for _ in range(50):
        services.write(alice.pk, [GlobalWrite("counter", "incr", 1)])
    runs = started(workflow)
    assert len(runs) == 50
    assert sorted(run.input["new"] for run in runs) == list(range(1, 51))
    # Taking them again (the sweep, another process) starts nothing more.
    assert variable_triggers.fire_changes(list(VariableChange.objects.values_list("id", flat=True))) == 0
    assert variable_triggers.sweep() == 0
    assert len(started(workflow)) == 50


def test_unpublishing_stops_the_trigger(alice, alice_client):
    workflow = published(alice, watcher("price"))
    unpublish_workflow(workflow)
    assert not VariableTrigger.objects.exists()
    alice_client.put("/api/v1/variables/price", {"value": 1}, format="json")
    assert started(workflow) == []


def test_a_change_not_started_after_its_commit_is_started_by_the_sweep(alice, monkeypatch):
    workflow = published(alice, watcher("price"))
    # The writer's process dies between the commit and starting the executions: nothing receives the signal.
    monkeypatch.setattr(services, "_announce", lambda change_ids: None)
    services.write(alice.pk, [GlobalWrite("price", "set", 3)])
    assert started(workflow) == []
    assert VariableChange.objects.get(key="price").triggers == "pending"
    assert variable_triggers.sweep() == 0  # too young: its writer may be starting it right now
    VariableChange.objects.update(at=VariableChange.objects.get().at.replace(year=2000))
    assert variable_triggers.sweep() == 1
    assert [run.input["new"] for run in started(workflow)] == [3]
    assert variable_triggers.sweep() == 0


def test_a_chain_of_variable_triggered_executions_stops_at_the_call_depth_limit(alice, monkeypatch):
    # Each execution writes the key that started it, plus one: a loop only the depth limit ends.
    loop = watcher("ping", {"id": "bump", "type": "data.set",
                            "params": {"scope": "global", "op": "incr", "vars": {"ping": 1}}})
    workflow = published(alice, loop)
    with override_settings(NODEFLOW={**settings.NODEFLOW, "MAX_CALL_DEPTH": 3}):
        # Each started execution runs here, in the order they start, until none is left.
        dispatcher = InlineDispatcher()
        monkeypatch.setattr(variable_triggers, "dispatcher", dispatcher)
        services.write(alice.pk, [GlobalWrite("ping", "set", 0)])
        dispatcher.drain()
    runs = started(workflow)
    assert len(runs) == 3
    assert sorted(VariableRun.objects.values_list("depth", flat=True)) == [1, 2, 3]
    last = VariableChange.objects.filter(key="ping").order_by("at", "id").last()
    assert last.started == [] and "NODEFLOW_MAX_CALL_DEPTH (3)" in last.trigger_error
    assert services.snapshot(alice.pk, {"ping"}) == {"ping": 3}


def test_the_trigger_key_is_checked_at_save_time():
    assert validate_document(watcher("order_*")) == []
    problems = validate_document(watcher("bad key*"))
    assert [p["code"] for p in problems] == ["invalid_params"] and "bad key" in problems[0]["message"]


def test_a_change_committed_while_the_broker_is_down_still_starts_its_execution(alice, monkeypatch):
    import socket

    from celery import Celery

    from executions.tasks import dispatcher
    from nodeflow.celery import app

    monkeypatch.setattr(variable_triggers, "dispatcher", dispatcher)  # the real sends, to a broker that is down

    workflow = published(alice, watcher("price"))
    with socket.socket() as probe:  # a port where nothing listens: Redis is down
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    down = Celery("redis-down", broker=f"redis://127.0.0.1:{port}/0", set_as_current=False)
    down.conf.update(task_publish_retry=False, broker_connection_retry=False, broker_connection_max_retries=0,
                     broker_connection_timeout=0.5)
    down.set_current()  # what the engine's sends go through, as in a worker whose Redis is down
    try:
        services.write(alice.pk, [GlobalWrite("price", "set", 7)])
    finally:
        app.set_current()
    [execution] = started(workflow)
    run = execution.node_runs.get(node_id="changed")
    assert (execution.status, run.status, execution.input["new"]) == ("queued", "queued", 7)
    assert run.due_at is not None  # recovery sends it once the broker is back
    assert VariableChange.objects.get(key="price").triggers == "done"
