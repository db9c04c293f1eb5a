"""How transitions read and write their rows: the engine's per-node hot path.

On PostgreSQL a transition costs two round trips besides BEGIN and COMMIT: one locks the
execution row and loads the node runs it needs, one writes the changed node runs, the new
events and the execution, as several statements sent together. The statements are
written here rather than built by the ORM, which costs three to five times more per
statement than the database itself (PERFORMANCE.md); values still go through each
field's own conversions, so what is stored is what `Model.save()` would store. Other
databases (SQLite, embedded mode) take the plain ORM path."""

from django.db import connection

from executions.models import Execution, ExecutionEvent, NodeRun

# Execution fields a transition does not need to lock and change the row (they load on first use;
# the error, small and read when an execution ends, comes with the row).
EXECUTION_PAYLOADS = ("input", "result", "artifacts")
# Node run fields transitions never read: the params and the output.
RUN_PAYLOADS = ("input", "output")

# In the model's order, which Model.from_db() expects.
_EXECUTION_FIELDS = [f for f in Execution._meta.concrete_fields if f.name not in EXECUTION_PAYLOADS]
_INPUT_EXECUTION_FIELDS = [f for f in Execution._meta.concrete_fields if f.name == "input" or f in _EXECUTION_FIELDS]
_RUN_FIELDS = [f for f in NodeRun._meta.concrete_fields if f.name not in RUN_PAYLOADS]
_EVENT_FIELDS = [ExecutionEvent._meta.get_field(name) for name in ("execution", "seq", "type", "node_id", "ts", "data")]


def _columns(fields):
    return ", ".join(connection.ops.quote_name(f.column) for f in fields)


def _fast():
    return connection.vendor == "postgresql"


def lock_and_load(execution_id, node_ids=(), with_input=False):
    """(the execution, locked for this transaction, without its payloads but the input if asked;
    {node id: run} of `node_ids`)."""
    deferred = [name for name in EXECUTION_PAYLOADS if not (with_input and name == "input")]
    if not _fast():
        execution = Execution.objects.select_for_update().defer(*deferred).get(pk=execution_id)
        return execution, load_runs(execution_id, node_ids)
    fields = _INPUT_EXECUTION_FIELDS if with_input else _EXECUTION_FIELDS
    sql = f"SELECT {_columns(fields)} FROM {Execution._meta.db_table} WHERE id = %s FOR UPDATE"
    params = [execution_id]
    if node_ids:
        sql += "; " + _runs_sql()
        params += [execution_id, list(node_ids)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
        if row is None:
            raise Execution.DoesNotExist(f"no execution {execution_id}")
        execution = _from_db(Execution, fields, row)
        runs = {}
        if node_ids:
            cursor.nextset()
            runs = _runs_from(cursor.fetchall())
    return execution, runs


def load_runs(execution_id, node_ids):
    """{node id: run} of `node_ids`, without their payloads."""
    if not node_ids:
        return {}
    if not _fast():
        runs = NodeRun.objects.defer(*RUN_PAYLOADS).filter(execution_id=execution_id, node_id__in=list(node_ids))
        return {run.node_id: run for run in runs}
    with connection.cursor() as cursor:
        cursor.execute(_runs_sql(), [execution_id, list(node_ids)])
        return _runs_from(cursor.fetchall())


def open_statuses(execution_id, open_statuses, exclude=()):
    """The statuses, among `open_statuses`, of the execution's node runs other than those in `exclude`."""
    if not _fast():
        runs = NodeRun.objects.filter(execution_id=execution_id, status__in=list(open_statuses))
        return set(runs.exclude(node_id__in=list(exclude)).values_list("status", flat=True).distinct())
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT DISTINCT status FROM {NodeRun._meta.db_table} "
                       "WHERE execution_id = %s AND status = ANY(%s) AND NOT (node_id = ANY(%s))",
                       [execution_id, list(open_statuses), list(exclude)])
        return {status for (status,) in cursor.fetchall()}


def take_unstarted_children(parent_id, node_id, count):
    """Remove and return (as unsaved executions) up to `count` children of the node not started yet,
    first by index, skipping rows another transaction holds: starting one writes it whole again
    (Transition.creating, one INSERT with its node runs and events) instead of updating it."""
    fields = [f for f in Execution._meta.concrete_fields]
    table = Execution._meta.db_table
    if not _fast():
        rows = list(Execution.objects.select_for_update(skip_locked=True).filter(
            parent_id=parent_id, parent_node_id=node_id, status="queued", last_seq=0).order_by("parent_index")[:count])
        Execution.objects.filter(pk__in=[row.pk for row in rows]).delete()
    else:
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {table} WHERE id IN (SELECT id FROM {table} WHERE parent_id = %s AND parent_node_id = %s "
                "AND status = 'queued' AND last_seq = 0 ORDER BY parent_index LIMIT %s FOR UPDATE SKIP LOCKED) "
                f"RETURNING {_columns(fields)}", [parent_id, node_id, count])
            rows = [_from_db(Execution, fields, row) for row in cursor.fetchall()]
    for row in rows:
        row._state.adding = True
    return sorted(rows, key=lambda row: row.parent_index or 0)


def _runs_sql():
    return f"SELECT {_columns(_RUN_FIELDS)} FROM {NodeRun._meta.db_table} WHERE execution_id = %s AND node_id = ANY(%s)"


def _runs_from(rows):
    runs = (_from_db(NodeRun, _RUN_FIELDS, row) for row in rows)
    return {run.node_id: run for run in runs}


def _from_db(model, fields, row):
    values = [
        field.from_db_value(value, None, connection) if value is not None and hasattr(field, "from_db_value") else value
        for field, value in zip(fields, row)
    ]
    return model.from_db(connection.alias, [f.attname for f in fields], values)


def insert(execution, runs, events):
    """Insert a new execution, its node runs and its first events (one round trip on PostgreSQL)."""
    if not _fast():
        execution.save(force_insert=True)
        NodeRun.objects.bulk_create(runs)
        ExecutionEvent.objects.bulk_create(events)
        return
    statements, params = [], []
    _insert(statements, params, Execution, [execution])
    _insert(statements, params, NodeRun, runs, returning=True)
    _insert(statements, params, ExecutionEvent, events)
    with connection.cursor() as cursor:
        cursor.execute("; ".join(statements), params)
        cursor.nextset()  # the node runs' ids
        for run, (pk,) in zip(runs, cursor.fetchall()):
            run.pk = pk
    for instance in [execution, *runs]:
        instance._state.adding, instance._state.db = False, connection.alias


def _insert(statements, params, model, instances, returning=False):
    if not instances:
        return
    fields = [f for f in model._meta.concrete_fields if not (f.primary_key and f.db_returning)]
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    sql = f"INSERT INTO {model._meta.db_table} ({_columns(fields)}) VALUES {', '.join([row] * len(instances))}"
    if returning:
        sql += f" RETURNING {model._meta.pk.column}"
    statements.append(sql)
    for instance in instances:
        # pre_save gives auto_now_add fields their value, as Model.save() does on insert.
        params += [field.get_db_prep_save(field.pre_save(instance, True), connection) for field in fields]


def write(execution, execution_fields, runs, run_fields, events):
    """Write the changed fields of the execution and of node runs ({node id: field names}) and insert the events."""
    if not _fast():
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
    if events:
        rows = ", ".join(["(" + ", ".join(["%s"] * len(_EVENT_FIELDS)) + ")"] * len(events))
        statements.append(f"INSERT INTO {ExecutionEvent._meta.db_table} ({_columns(_EVENT_FIELDS)}) VALUES {rows}")
        for event in events:
            params += [_prepared(field, event) for field in _EVENT_FIELDS]
    if execution_fields:
        _update(statements, params, execution, execution_fields)
    if statements:
        with connection.cursor() as cursor:
            cursor.execute("; ".join(statements), params)


def _update(statements, params, instance, names):
    meta = instance._meta
    fields = [meta.get_field(name) for name in sorted(names)]
    assignments = ", ".join(f"{connection.ops.quote_name(f.column)} = %s" for f in fields)
    statements.append(f"UPDATE {meta.db_table} SET {assignments} WHERE {meta.pk.column} = %s")
    params += [_prepared(field, instance) for field in fields]
    params.append(meta.pk.get_db_prep_value(instance.pk, connection))


def _prepared(field, instance):
    return field.get_db_prep_save(getattr(instance, field.attname), connection)
