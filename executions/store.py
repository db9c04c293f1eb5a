"""How transitions read and write their rows: the engine's per-node hot path.

On PostgreSQL a transition costs two round trips besides BEGIN and COMMIT: one locks the
execution row and loads the node runs it needs, one writes the changed node runs, the new
events and the execution, as several statements sent together. The statements are
written here rather than built by the ORM, which costs three to five times more per
statement than the database itself (PERFORMANCE.md); values still go through each
field's own conversions, so what is stored is what `Model.save()` would store. Other
databases (SQLite, embedded mode) take the plain ORM path."""

import json
import threading
import uuid
from contextlib import contextmanager
from datetime import datetime
from itertools import chain

from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models.base import ModelState
from django.utils import timezone

from executions.models import Definition, Execution, ExecutionEvent, NodeRun

# Execution fields a transition does not need to lock and change the row (they load on first use;
# the error, small and read when an execution ends, comes with the row).
EXECUTION_PAYLOADS = ("input", "result", "artifacts")
# Node run fields transitions never read: the params and the output.
RUN_PAYLOADS = ("input", "output")

# In the model's order, which Model.from_db() expects.
_EXECUTION_FIELDS = [f for f in Execution._meta.concrete_fields if f.name not in EXECUTION_PAYLOADS]
_INPUT_EXECUTION_FIELDS = [f for f in Execution._meta.concrete_fields if f.name == "input" or f in _EXECUTION_FIELDS]
_ALL_EXECUTION_FIELDS = list(Execution._meta.concrete_fields)
_RUN_FIELDS = [f for f in NodeRun._meta.concrete_fields if f.name not in RUN_PAYLOADS]
_RUN_NODE_ID, _RUN_STATUS = ([f.name for f in _RUN_FIELDS].index(name) for name in ("node_id", "status"))


_quoted = {}


def _columns(fields):
    """The quoted column list of `fields`, worked out once per list of fields (the hot path's statements
    repeat the same few)."""
    key = tuple(fields)
    columns = _quoted.get(key)
    if columns is None:
        columns = _quoted[key] = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    return columns


# The values of these field types that the database takes as they are: Field.get_db_prep_save would
# return them unchanged, at a cost that the hot path (thousands of values per transition of a
# long chain) paid more than once over; other values (JSON, a naive datetime) go through it.
_AS_THEY_ARE = {name: kinds for kinds, names in (
    ((str,), ("CharField", "TextField", "SlugField")),
    ((int,), ("IntegerField", "PositiveIntegerField", "PositiveSmallIntegerField", "SmallIntegerField",
              "BigIntegerField", "PositiveBigIntegerField", "AutoField", "BigAutoField")),
    ((bool,), ("BooleanField",)),
    ((uuid.UUID,), ("UUIDField",)),
) for name in names}
_preparers = {}


def _preparer(field):
    """How to prepare a value of `field` for the database: as Field.get_db_prep_save does, faster."""
    prepare = _preparers.get(field)
    if prepare is None:
        target = field.target_field if field.is_relation else field
        internal = target.get_internal_type()
        kinds = _AS_THEY_ARE.get(internal)
        slow = field.get_db_prep_save
        if internal == "DateTimeField":
            def prepare(value, db, slow=slow):
                return value if value is None or (type(value) is datetime and value.tzinfo is not None) else slow(value, db)
        elif kinds is not None:  # (PostgreSQL: a UUID is a native type, taken as it is)
            def prepare(value, db, slow=slow, kinds=kinds):
                return value if value is None or type(value) in kinds else slow(value, db)
        else:
            prepare = slow
        _preparers[field] = prepare
    return prepare


def _db():
    """The connection itself: django.db.connection is a proxy that looks it up again on every
    attribute, and the hot path reads it once per value."""
    return connections[DEFAULT_DB_ALIAS]


def fast():
    """Whether the hand-written statements apply (PostgreSQL)."""
    return connection.vendor == "postgresql"


def lock_and_load(execution_id, node_ids=(), with_input=False, whole=False):
    """(the execution, locked for this transaction, without its payloads but the input if asked;
    {node id: run} of `node_ids`; and when `whole`, {node id: row} of every other node run of the
    execution, read in the same round trip and made a run by run_from(row) only if one is needed:
    the finish of each node of a 40-node chain made 42 runs to use two or three)."""
    deferred = [name for name in EXECUTION_PAYLOADS if not (with_input and name == "input")]
    if not fast():
        execution = Execution.objects.select_for_update().defer(*deferred).get(pk=execution_id)
        if whole:
            return execution, {run.node_id: run for run in NodeRun.objects.defer(*RUN_PAYLOADS).filter(
                execution_id=execution_id)}, {}
        return execution, load_runs(execution_id, node_ids), {}
    fields = _INPUT_EXECUTION_FIELDS if with_input else _EXECUTION_FIELDS
    sql = f"SELECT {_columns(fields)} FROM {Execution._meta.db_table} WHERE id = %s FOR UPDATE"
    params = [execution_id]
    if whole:
        sql += f"; SELECT {_columns(_RUN_FIELDS)} FROM {NodeRun._meta.db_table} WHERE execution_id = %s"
        params.append(execution_id)
    elif node_ids:
        sql += "; " + _runs_sql()
        params += [execution_id, list(node_ids)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
        if row is None:
            raise Execution.DoesNotExist(f"no execution {execution_id}")
        execution = _from_db(Execution, fields, row)
        runs, rows = {}, {}
        if whole:
            cursor.nextset()
            rows = {row[_RUN_NODE_ID]: row for row in cursor.fetchall()}
            runs = {node_id: run_from(rows.pop(node_id)) for node_id in node_ids if node_id in rows}
        elif node_ids:
            cursor.nextset()
            runs = _runs_from(cursor.fetchall())
    return execution, runs, rows


def load_runs(execution_id, node_ids):
    """{node id: run} of `node_ids`, without their payloads."""
    if not node_ids:
        return {}
    if not fast():
        runs = NodeRun.objects.defer(*RUN_PAYLOADS).filter(execution_id=execution_id, node_id__in=list(node_ids))
        return {run.node_id: run for run in runs}
    with connection.cursor() as cursor:
        cursor.execute(_runs_sql(), [execution_id, list(node_ids)])
        return _runs_from(cursor.fetchall())


_ENTRY_FIELDS = [NodeRun._meta.get_field(name) for name in ("node_id", "output", "status", "error")]


def entry_rows(execution_id, node_ids):
    """(node id, output, status, error) of the execution's runs of `node_ids`: what a context's `nodes`
    holds, read for every code node of a chain about all the nodes before it."""
    if not fast():
        return NodeRun.objects.filter(execution_id=execution_id, node_id__in=list(node_ids)).values_list(
            "node_id", "output", "status", "error")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {_columns(_ENTRY_FIELDS)} FROM {NodeRun._meta.db_table} "
                       "WHERE execution_id = %s AND node_id = ANY(%s)", [execution_id, list(node_ids)])
        return [_converted(_ENTRY_FIELDS, row) for row in cursor.fetchall()]


def open_statuses(execution_id, open_statuses, exclude=()):
    """The statuses, among `open_statuses`, of the execution's node runs other than those in `exclude`."""
    if not fast():
        runs = NodeRun.objects.filter(execution_id=execution_id, status__in=list(open_statuses))
        return set(runs.exclude(node_id__in=list(exclude)).values_list("status", flat=True).distinct())
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT DISTINCT status FROM {NodeRun._meta.db_table} "
                       "WHERE execution_id = %s AND status = ANY(%s) AND NOT (node_id = ANY(%s))",
                       [execution_id, list(open_statuses), list(exclude)])
        return {status for (status,) in cursor.fetchall()}


def take_unstarted_children(parent_id, node_id, count, while_parent_runs=False):
    """Remove and return (as unsaved executions) up to `count` children of the node not started yet,
    first by index, skipping rows another transaction holds: starting one writes it whole again
    (Transition.creating, one INSERT with its node runs and events) instead of updating it.

    `while_parent_runs`: for a caller that does not hold the parent's lock (children._start_early),
    only while the parent is running or waiting and its node waits for children, as read when the
    statement runs; a pause or cancel committed after it is for the caller to find under the lock."""
    fields = _ALL_EXECUTION_FIELDS
    table, runs = Execution._meta.db_table, NodeRun._meta.db_table
    if not fast():
        unstarted = Execution.objects.select_for_update(skip_locked=True).filter(
            parent_id=parent_id, parent_node_id=node_id, status="queued", last_seq=0)
        if while_parent_runs and not NodeRun.objects.filter(
                execution_id=parent_id, node_id=node_id, status="waiting",
                execution__status__in=["running", "waiting"]).exists():
            return []
        rows = list(unstarted.order_by("parent_index")[:count])
        Execution.objects.filter(pk__in=[row.pk for row in rows]).delete()
    else:
        running = (f" AND EXISTS (SELECT 1 FROM {table} p JOIN {runs} n ON n.execution_id = p.id WHERE p.id = %s "
                   "AND p.status IN ('running', 'waiting') AND n.node_id = %s AND n.status = 'waiting')"
                   if while_parent_runs else "")
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {table} WHERE id IN (SELECT id FROM {table} WHERE parent_id = %s AND parent_node_id = %s "
                f"AND status = 'queued' AND last_seq = 0{running} ORDER BY parent_index LIMIT %s FOR UPDATE SKIP "
                f"LOCKED) RETURNING {_columns(fields)}",
                [parent_id, node_id, *([parent_id, node_id] if while_parent_runs else []), count])
            rows = [_from_db(Execution, fields, row) for row in cursor.fetchall()]
    for row in rows:
        row._state.adding = True
    return sorted(rows, key=lambda row: row.parent_index or 0)


def _execute_bound(cursor, sql, params):
    """cursor.execute(sql, params) for the long statements of a transition, the values quoted by
    psycopg's own adapters as its client-side binding does, without its parse of the query: a
    regular expression over the whole text, not cached past 50 parameters, which took longer
    than everything else in the write of a 40-node chain. `sql` is written in this module and
    has no `%` but its `%s` placeholders."""
    from psycopg.adapt import Transformer  # PostgreSQL only: embedded mode runs without psycopg

    parts = sql.encode().split(b"%s")
    if len(parts) != len(params) + 1:
        raise ValueError(f"{len(parts) - 1} placeholders for {len(params)} values")
    transformer = Transformer.from_context(cursor.connection)
    literals = [transformer.as_literal(value) if value is not None else b"NULL" for value in params]
    cursor.execute(b"".join(chain.from_iterable(zip(parts, literals))) + parts[-1])


def _runs_sql():
    return f"SELECT {_columns(_RUN_FIELDS)} FROM {NodeRun._meta.db_table} WHERE execution_id = %s AND node_id = ANY(%s)"


def _runs_from(rows):
    runs = (_from_db(NodeRun, _RUN_FIELDS, row) for row in rows)
    return {run.node_id: run for run in runs}


def run_from(row):
    """The node run of a row lock_and_load left as it was read."""
    return _from_db(NodeRun, _RUN_FIELDS, row)


def row_status(row):
    """The status of a node run in a row lock_and_load left as it was read."""
    return row[_RUN_STATUS]


_plans = {}


def _plan(fields):
    """[(attname, its from_db_value or None)] of `fields`, one of this module's lists of fields: keyed by
    the list itself, since hashing its fields on every row cost more than the plan saves."""
    cached = _plans.get(id(fields))
    if cached is None or cached[0] is not fields:
        cached = _plans[id(fields)] = (fields, [(f.attname, getattr(f, "from_db_value", None)) for f in fields])
    return cached[1]


def _converted(fields, row, plan=None):
    """The row's values as the ORM gives them (JSON decoded); `plan`: _plan(fields), when the caller has it."""
    db = _db()
    return [value if convert is None or value is None else convert(value, None, db)
            for (_, convert), value in zip(plan or _plan(fields), row)]


def _from_db(model, fields, row):
    """What `model.from_db()` makes of a row of `fields` (those left out are deferred, loaded on first
    use), without Model.__init__: it sets each field through its descriptor and sends the init
    signals (none has a receiver for the engine's models), which cost more than the rest of a
    whole load of a small workflow's runs (40 rows on every finish of a chain of code nodes)."""
    instance = model.__new__(model)
    state = instance._state = ModelState()
    state.adding, state.db = False, DEFAULT_DB_ALIAS
    names, plan = instance.__dict__, _plan(fields)
    for (attname, _), value in zip(plan, _converted(fields, row, plan)):
        names[attname] = value
    return instance


_defaults = {}


def new(model, **values):
    """What `model(**values)` makes of values given by attname (the fields not given take their
    defaults), without Model.__init__, as _from_db does: a sync webhook's chain of 40 nodes builds
    210 events and 42 node runs, and __init__ cost more than writing them."""
    defaults = _defaults.get(model)
    if defaults is None:
        defaults = _defaults[model] = [(f.attname, f.get_default) for f in model._meta.concrete_fields]
    instance = model.__new__(model)
    instance._state = ModelState()  # adding, in no database yet
    names = instance.__dict__
    for attname, default in defaults:
        names[attname] = values.pop(attname) if attname in values else default()
    if values:
        raise TypeError(f"{model.__name__} has no fields {sorted(values)}")
    return instance


def insert(execution, runs, events, definition=None):
    """Insert a new execution, its node runs and its first events (one round trip on PostgreSQL), and
    its `definition` (Definition.of) unless it is stored already. Inside `inserted_together()`, with
    the other executions inserted there."""
    if not fast():
        if definition is not None:
            Definition.objects.get_or_create(sha256=definition.sha256, defaults={"document": definition.document})
        execution.save(force_insert=True)
        NodeRun.objects.bulk_create(runs)
        ExecutionEvent.objects.bulk_create(events)
        return
    together = getattr(_together, "inserts", None)
    if together is not None:
        together.add(execution, runs, events, definition)
    else:
        _insert_now([(execution, runs, events, definition)])


def _insert_now(inserts):
    """One round trip for [(execution, runs, events, definition)]: one INSERT per table."""
    statements, params = [], []
    definitions = {definition.sha256: definition for *_, definition in inserts if definition is not None}
    for definition in definitions.values():  # the JSON its digest is of, as the document (jsonb orders keys itself)
        statements.append(f"INSERT INTO {Definition._meta.db_table} (sha256, document, created_at) "
                          "VALUES (%s, %s::jsonb, %s) ON CONFLICT (sha256) DO NOTHING")
        params += [definition.sha256, definition.canonical, timezone.now()]
    executions = [execution for execution, *_ in inserts]
    runs = [run for _, runs, *_ in inserts for run in runs]
    _insert(statements, params, Execution, executions)
    returning = len(statements)  # the node runs' statement, whose RETURNING gives their ids
    _insert(statements, params, NodeRun, runs, returning=True)
    _insert(statements, params, ExecutionEvent, [event for _, _, events, _ in inserts for event in events])
    with connection.cursor() as cursor:
        _execute_bound(cursor, "; ".join(statements), params)
        if runs:
            for _ in range(returning):
                cursor.nextset()
            for run, (pk,) in zip(runs, cursor.fetchall()):
                run.pk = pk
    for instance in [*executions, *runs]:
        instance._state.adding, instance._state.db = False, connection.alias


_together = threading.local()


class _Inserts:
    """What insert() was given inside inserted_together(), not yet written."""

    def __init__(self):
        self.waiting = []

    def add(self, execution, runs, events, definition):
        self.waiting.append((execution, runs, events, definition))

    def write(self):
        waiting, self.waiting = self.waiting, []  # emptied first: the INSERT itself passes before_statement
        if waiting:
            _insert_now(waiting)

    def before_statement(self, execute, sql, params, many, context):
        """Django's execute_wrapper: any other statement on this connection sees every insert made before it.
        A rollback (to a savepoint: an atomic block that failed) drops those waiting instead: every statement
        writes them, a SAVEPOINT too, so they were all made inside what is rolled back."""
        if self.waiting:
            if isinstance(sql, str) and sql.startswith("ROLLBACK"):
                self.waiting = []
            else:
                self.write()
        return execute(sql, params, many, context)


@contextmanager
def inserted_together():
    """Within the block (in a transaction), the executions insert() is given go in one INSERT per table,
    written before the next other statement on this connection, and at the end of the block: a worker
    starting 50 accepted webhooks paid four statements and a round trip each. What comes after insert()
    reads the rows as if each had been written at once; what would use a new node run's id before the
    next statement must not run inside the block (the ids come with the write)."""
    if not fast() or not connection.in_atomic_block or getattr(_together, "inserts", None) is not None:
        yield
        return
    inserts = _together.inserts = _Inserts()
    try:
        with connection.execute_wrapper(inserts.before_statement):
            yield
            inserts.write()
    except BaseException:
        if inserts.waiting:  # not written: the transaction must not commit the rest without them
            transaction.set_rollback(True)
        raise
    finally:
        _together.inserts = None


_inserts = {}


def _insert(statements, params, model, instances, returning=False):
    """INSERT the new `instances` of `model`: their rows go as one JSON document, unpacked by
    PostgreSQL (json_to_recordset), so that a chain's hundreds of events and runs cost one
    json.dumps and one quoted value, not one adapter call per value (a sync webhook's 40-node
    chain spent more on those than on everything else it wrote). What is stored is what the
    fields' own conversions give: a JSON field's value as it is (a JSON null is SQL NULL, as
    Django stores None), a datetime in ISO form with its offset, a UUID as its text."""
    if not instances:
        return
    cached = _inserts.get(model)
    if cached is None:
        cached = _inserts[model] = _insert_plan(model)
    sql, steps = cached
    statements.append(sql + (f" RETURNING {model._meta.pk.column}" if returning else ""))
    db = _db()
    rows = []
    for instance in instances:
        names = instance.__dict__
        row = {}
        for attname, column, prepare, field, as_json in steps:
            value = names[attname] if field is None else field.pre_save(instance, True)
            if not as_json and value is not None:
                value = prepare(value, db)
                if isinstance(value, datetime):
                    value = value.isoformat()
                elif isinstance(value, uuid.UUID):
                    value = str(value)
                elif not isinstance(value, (str, int, float)):  # (str and int enums are written as their values)
                    raise TypeError(f"{model.__name__}.{attname}: {type(value).__name__} is not written by "
                                    "store._insert")
            row[column] = value
        rows.append(row)
    params.append(json.dumps(rows, separators=(",", ":")))


def _insert_plan(model):
    """(the INSERT … SELECT … FROM json_to_recordset(%s), [(attname, column, preparer, the field when its
    pre_save gives the value, whether its value is JSON as it is)]) of `model`."""
    fields = [f for f in model._meta.concrete_fields if not (f.primary_key and f.db_returning)]
    steps = []
    for f in fields:
        as_json = f.get_internal_type() == "JSONField"
        if as_json and getattr(f, "encoder", None) is not None:
            raise TypeError(f"{model.__name__}.{f.name}: a JSON field with an encoder is not written by store._insert")
        # pre_save gives auto_now(_add) fields their value, as Model.save() does on insert; the
        # others' pre_save only reads the attribute.
        auto = getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
        steps.append((f.attname, f.column, _preparer(f), f if auto else None, as_json))
    columns = _columns(fields)
    record = ", ".join(f"{connection.ops.quote_name(f.column)} {f.db_type(connection)}" for f in fields)
    # In the order given: RETURNING then gives the new ids in the instances' order.
    sql = (f"INSERT INTO {model._meta.db_table} ({columns}) SELECT {columns} FROM "
           f"ROWS FROM (json_to_recordset(%s::json) AS ({record})) WITH ORDINALITY AS r({columns}, nodeflow_row) "
           "ORDER BY nodeflow_row")
    return sql, steps


def write(execution, execution_fields, runs, run_fields, events):
    """Write the changed fields of the execution and of node runs ({node id: field names}) and insert the events."""
    if not fast():
        for node_id, names in run_fields.items():
            runs[node_id].save(update_fields=sorted(names))
        if events:
            ExecutionEvent.objects.bulk_create(events)
        if execution_fields:
            execution.save(update_fields=sorted(execution_fields))
        return
    statements, params = [], []
    for node_id, names in run_fields.items():
        _update(statements, params, runs[node_id], names)
    _insert(statements, params, ExecutionEvent, events)
    if execution_fields:
        _update(statements, params, execution, execution_fields)
    if statements:
        with connection.cursor() as cursor:
            _execute_bound(cursor, "; ".join(statements), params)


_updates = {}


def _update(statements, params, instance, names):
    meta = instance._meta
    key = (meta.db_table, frozenset(names))
    cached = _updates.get(key)
    if cached is None:
        fields = [meta.get_field(name) for name in sorted(names)]
        assignments = ", ".join(f"{connection.ops.quote_name(f.column)} = %s" for f in fields)
        cached = _updates[key] = (fields, f"UPDATE {meta.db_table} SET {assignments} WHERE {meta.pk.column} = %s")
    fields, sql = cached
    statements.append(sql)
    db = _db()
    params += [_preparer(field)(getattr(instance, field.attname), db) for field in fields]
    params.append(meta.pk.get_db_prep_value(instance.pk, db))
