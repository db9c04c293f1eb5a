"""How many round trips to the database the engine spends: starting an execution, and per node of a chain.

These are the engine's per-node cost (PERFORMANCE.md P1, P2): a change that adds a round
trip to every node shows here before it shows in a benchmark."""

import uuid

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from executions import starting
from executions.compiled import SMALL_GRAPH
from executions.inline import InlineDispatcher
from executions.models import Execution
from tests.executions.test_local_runs import chain

pytestmark = pytest.mark.django_db


def opens_transaction(sql):
    return sql == "BEGIN" or sql.startswith("SAVEPOINT")  # a savepoint inside the test's own transaction


def statements(queries):
    """The statements that do work, without those that open and close transactions."""
    return [q["sql"] for q in queries
            if not (opens_transaction(q["sql"]) or q["sql"] == "COMMIT" or q["sql"].startswith("RELEASE SAVEPOINT"))]


def test_starting_an_execution_is_one_round_trip():
    from executions.models import Definition

    doc = chain({"id": "a", "type": "flow.noop"}, {"id": "b", "type": "flow.noop"})
    for turn in ("new", "stored"):
        with CaptureQueriesContext(connection) as queries:
            execution = starting.start_execution(doc, dispatcher=InlineDispatcher())
        sql = statements(queries.captured_queries)
        # The definition unless it is stored, the execution, its node runs and its first event, together.
        assert len(sql) == 1, (turn, sql)
        assert [s.split()[2] for s in sql[0].split("; ")] == [
            "executions_definition", "executions_execution", "executions_noderun", "executions_executionevent"]
        stored = Execution.objects.get(pk=execution.pk)
        assert stored.definition.document == doc and Definition.objects.count() == 1, turn
    assert stored.last_seq == 2 and stored.status == "queued"
    # The log opens with the execution, then its trigger node moves.
    assert list(stored.events.order_by("seq").values_list("type", "node_id")) == [
        ("EXECUTION_STATE_CHANGED", ""), ("NODE_STATE_CHANGED", "start")]
    assert dict(stored.node_runs.values_list("node_id", "status")) == {"start": "queued", "a": "pending", "b": "pending"}


def test_a_chain_of_instant_nodes_runs_in_one_transaction_whatever_its_length():
    for length in (5, 40, 100):
        doc = chain(*[{"id": f"n{i}", "type": "flow.noop"} for i in range(length)]) | {"name": uuid.uuid4().hex}
        dispatcher = InlineDispatcher()
        execution = starting.start_execution(doc, dispatcher=dispatcher)
        with CaptureQueriesContext(connection) as queries:
            dispatcher.drain()
        assert Execution.objects.get(pk=execution.pk).status == "succeeded"
        transactions = sum(1 for q in queries.captured_queries if opens_transaction(q["sql"]))
        sql = statements(queries.captured_queries)
        # The trigger's delivery: it is claimed, run and finished with the whole chain in one transaction.
        assert transactions == 1, length
        # It locks the execution and loads the trigger, or every run of a small graph (its delivery
        # says so: compiled.SMALL_GRAPH); a longer chain then loads what the chain may touch (here all
        # of it: every node is instant); it reads the result it reports (settling: with every run
        # loaded, it need not ask which are still open); and writes every run, event and the execution
        # in one round trip.
        small = length + 1 <= SMALL_GRAPH
        assert len(sql) == (3 if small else 4), (length, sql)
        assert not [s for s in sql if s.startswith("SELECT DISTINCT status")], sql
        events = list(execution.events.order_by("seq").values_list("type", "node_id", "data__status"))
        completed = [node_id for type_, node_id, status in events if status == "completed" and type_ == "NODE_STATE_CHANGED"]
        assert completed == ["start"] + [f"n{i}" for i in range(length)]  # in order, each once


def test_values_reach_the_database_as_they_were_whatever_they_hold():
    # The transition's long statements are bound here (store._execute_bound), not by psycopg's parse:
    # placeholders in values, quotes, backslashes and non-ASCII text must arrive unchanged.
    awkward = {"text": "%s %(x)s %% ' '' \\ \" ; DROP TABLE x; --", "emoji": "naïve ☃ 😀", "nested": [None, 1.5, True]}
    doc = chain({"id": "copy", "type": "data.set", "params": {"output": {"got": "{{ input }}"}}})
    dispatcher = InlineDispatcher()
    execution = starting.start_execution(doc, dispatcher=dispatcher, input_data=awkward)
    dispatcher.drain()
    stored = Execution.objects.get(pk=execution.pk)
    assert stored.status == "succeeded" and stored.input == awkward
    assert stored.node_runs.get(node_id="copy").output == {"got": awkward}


def test_the_hot_paths_rows_are_what_the_orm_loads():
    # store builds its model instances without Model.__init__ (store._from_db): every field as the
    # ORM gives it (JSON decoded, datetimes aware), the payloads left out loaded on first use, and
    # an instance that saves like any other.
    from executions import store
    from executions.models import NodeRun

    doc = chain({"id": "copy", "type": "data.set", "params": {"output": {"got": "{{ input }}"}}})
    dispatcher = InlineDispatcher()
    execution = starting.start_execution(doc, dispatcher=dispatcher, input_data={"n": [1, "two"]})
    dispatcher.drain()
    with transaction.atomic():
        locked, runs, rows = store.lock_and_load(execution.pk, ["copy"], whole=True)
    assert set(runs) == {"copy"} and set(rows) == {"start"}  # the others are made runs when needed
    runs["start"] = store.run_from(rows["start"])
    orm = {run.node_id: run for run in NodeRun.objects.filter(execution=execution)}
    assert set(runs) == set(orm) == {"start", "copy"}
    for node_id, run in runs.items():
        fields = [f.attname for f in NodeRun._meta.concrete_fields if f.name not in store.RUN_PAYLOADS]
        assert {name: getattr(run, name) for name in fields} == {name: getattr(orm[node_id], name) for name in fields}
        assert run.get_deferred_fields() == set(store.RUN_PAYLOADS) and not run._state.adding
    assert runs["copy"].output == {"got": {"n": [1, "two"]}}  # a deferred payload, loaded when read
    assert locked.get_deferred_fields() == set(store.EXECUTION_PAYLOADS)
    assert locked.status == "succeeded" and locked.input == {"n": [1, "two"]}
    runs["copy"].logs = ["kept"]
    runs["copy"].save(update_fields=["logs"])
    assert NodeRun.objects.get(pk=runs["copy"].pk).logs == ["kept"]
    entries = dict((row[0], row[1:]) for row in store.entry_rows(execution.pk, ["copy", "start"]))
    assert entries["copy"] == [{"got": {"n": [1, "two"]}}, "completed", None]


def test_new_instances_are_what_the_model_makes_and_are_written_as_the_orm_writes_them():
    # store.new builds events and node runs without Model.__init__: every field as the model's own
    # constructor sets it (defaults made afresh), not yet in a database, and a name that is not a
    # field refused as the constructor refuses it.
    from executions import store
    from executions.models import ExecutionEvent, NodeRun

    values = {"execution_id": uuid.uuid4(), "node_id": "n", "type": "data.set", "type_version": 1}
    built, made = store.new(NodeRun, **values), NodeRun(**values)
    names = [f.attname for f in NodeRun._meta.concrete_fields]
    assert {name: getattr(built, name) for name in names} == {name: getattr(made, name) for name in names}
    assert built.get_deferred_fields() == set() and built._state.adding and built._state.db is None
    assert built.attempts is not store.new(NodeRun, **values).attempts  # a default list per instance
    with pytest.raises(TypeError, match="colour"):
        store.new(NodeRun, colour="red", **values)
    # Written by the hot path and read back by the ORM: what the constructor's instance would store.
    doc = chain({"id": "copy", "type": "data.set", "params": {"output": {"got": "{{ input }}"}}})
    dispatcher = InlineDispatcher()
    execution = starting.start_execution(doc, dispatcher=dispatcher, input_data={"n": 1})
    dispatcher.drain()
    stored = list(ExecutionEvent.objects.filter(execution=execution).order_by("seq"))
    assert [event.seq for event in stored] == list(range(1, len(stored) + 1)) and len(stored) > 5
    assert stored[0].type == ExecutionEvent.STATE_CHANGED and stored[0].data["trigger"] == "manual"
    assert all(event.ts is not None and event.ts.tzinfo is not None for event in stored)
    assert NodeRun.objects.get(execution=execution, node_id="copy").output == {"got": {"n": 1}}


def test_a_small_workflows_finishes_make_runs_only_of_the_nodes_they_touch(monkeypatch):
    # A small workflow's node runs are all read with the lock (one round trip), and stay rows until
    # one is needed: the finish of a node of a chain of 20 non-instant nodes makes its own run and its
    # successor's, not 22. The execution still ends once the last one does (open statuses from the rows).
    from executions import store

    made = []
    real = store.run_from
    monkeypatch.setattr(store, "run_from", lambda row: made.append(store.row_status(row)) or real(row))
    length = 20
    doc = chain(*[{"id": f"s{i}", "type": "test.sleep", "params": {"seconds": 0}} for i in range(length)])
    assert len(doc["nodes"]) <= SMALL_GRAPH
    dispatcher = InlineDispatcher()
    execution = starting.start_execution(doc, dispatcher=dispatcher)
    dispatcher.drain()
    execution.refresh_from_db()
    assert execution.status == "succeeded"
    assert execution.node_runs.filter(status="completed").count() == length + 1
    # About two per node: its own run, and its successor's when it is queued (44 here; every run of
    # every transition made would be over 900, and the first claim alone making them all, 81).
    assert 0 < len(made) <= 3 * (length + 1), len(made)


def test_executions_started_together_are_inserted_in_one_round_trip(alice, monkeypatch):
    # What a worker does with a batch of accepted webhooks (triggers.accepted): their executions, node runs and
    # events go in one INSERT per table, as if each had been inserted when it started.
    from executions import store
    from executions.models import Definition, NodeRun
    from workflows.models import Workflow

    stored_doc = chain({"id": "a", "type": "flow.noop"})
    new_doc = chain({"id": "a", "type": "flow.noop"}, {"id": "b", "type": "flow.noop"})
    starting.start_execution(stored_doc, dispatcher=InlineDispatcher())
    workflow = Workflow.objects.create(owner=alice, name="together", definition=new_doc)
    written, insert_now = [], store._insert_now
    monkeypatch.setattr(store, "_insert_now", lambda inserts: (written.append(inserts), insert_now(inserts)))
    dispatcher = InlineDispatcher()
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        with store.inserted_together():
            started = [starting.start_execution(doc, dispatcher=dispatcher, owner=alice, workflow=workflow,
                                                input_data={"n": n}, savepoint=False)
                       for n, doc in enumerate([stored_doc, new_doc, new_doc, stored_doc])]
            assert not statements(queries.captured_queries)  # nothing written yet
    [inserts] = written
    runs = {(execution.pk, run.node_id): run for execution, execution_runs, _, _ in inserts for run in execution_runs}
    assert all(not run._state.adding for run in runs.values())
    assert dict(((row.execution_id, row.node_id), row.pk) for row in NodeRun.objects.filter(
        execution__in=started)) == {key: run.pk for key, run in runs.items()}  # each its own id, from RETURNING
    sql = statements(queries.captured_queries)
    assert len(sql) == 1, sql
    tables = [s.split()[2] for s in sql[0].split("; ")]
    assert tables == ["executions_definition", "executions_definition", "executions_execution", "executions_noderun",
                      "executions_executionevent"]  # each definition once, unless stored: ON CONFLICT DO NOTHING
    assert Definition.objects.count() == 2
    for n, execution in enumerate(started):
        stored = Execution.objects.get(pk=execution.pk)
        assert stored.input == {"n": n} and stored.status == "queued" and stored.last_seq == 2
        assert list(stored.events.order_by("seq").values_list("seq", "type", "node_id")) == [
            (1, "EXECUTION_STATE_CHANGED", ""), (2, "NODE_STATE_CHANGED", "start")]
    dispatcher.drain()  # the queued trigger nodes run on the rows as inserted
    assert {e.status for e in Execution.objects.filter(pk__in=[e.pk for e in started])} == {"succeeded"}


def test_a_statement_inside_inserted_together_sees_the_executions_started_before_it(alice):
    # Whatever reads the database inside the block (a concurrency limit counting what runs) finds every
    # execution started before it: the inserts waiting go first. An atomic block inside that fails takes
    # its own starts with it, and only those.
    from executions import store
    from workflows.models import Workflow

    doc = chain({"id": "a", "type": "flow.noop"}) | {"settings": {"max_concurrent": 1}}
    workflow = Workflow.objects.create(owner=alice, name="limited", definition=doc)
    with transaction.atomic(), store.inserted_together():
        first = starting.start_execution(doc, dispatcher=InlineDispatcher(), owner=alice, workflow=workflow)
        second = starting.start_execution(doc, dispatcher=InlineDispatcher(), owner=alice, workflow=workflow)
        assert Execution.objects.filter(pk__in=[first.pk, second.pk]).count() == 2
        with pytest.raises(ZeroDivisionError), transaction.atomic():
            starting.start_execution(doc, dispatcher=InlineDispatcher(), owner=alice, workflow=workflow)
            # Its insert would fail (the first's id): dropped, not written, when its block is rolled back.
            failed = starting.start_execution(doc, dispatcher=InlineDispatcher(), workflow=workflow, savepoint=False,
                                              execution_id=first.pk)
            1 / 0
        third = starting.start_execution(doc, dispatcher=InlineDispatcher(), owner=alice, workflow=workflow)
    assert (first.held, second.held, third.held) == ("", "workflow", "workflow")  # each limit counted the first
    assert set(Execution.objects.values_list("pk", flat=True)) == {first.pk, second.pk, third.pk}
    assert Execution.objects.get(pk=failed.pk).owner == alice  # the first's


def test_starts_left_unwritten_by_an_error_roll_their_transaction_back(alice):
    # An error out of inserted_together() leaves its starts unwritten: the transaction around it must not
    # commit what else it did, even if the caller catches the error.
    from django.db.transaction import TransactionManagementError

    from executions import store

    doc = chain({"id": "a", "type": "flow.noop"})
    with transaction.atomic():
        kept = starting.start_execution(doc, dispatcher=InlineDispatcher())
        with pytest.raises(ZeroDivisionError), store.inserted_together():
            starting.start_execution(doc, dispatcher=InlineDispatcher(), savepoint=False)
            1 / 0
        with pytest.raises(TransactionManagementError):
            Execution.objects.filter(pk=kept.pk).exists()
    assert not Execution.objects.filter(pk=kept.pk).exists()  # rolled back with the starts it lost
