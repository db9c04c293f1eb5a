"""Executing claimed node runs: render the params, call the node type, and go on.

`run_nodes` is what a worker does with a delivery: claim (executions.claiming), execute
here outside any transaction, finish (executions.finishing). The instant nodes a finish
makes ready (flow, data, logic: no network, no sandbox) come back claimed for this worker
and run here next, with no broker trip, until LOCAL_RUN_BUDGET_S has passed."""

import logging
import socket
import time
import uuid
from contextlib import ExitStack, contextmanager
from datetime import datetime, timezone

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import DataError, IntegrityError, InterfaceError, OperationalError, connection

from engine import expressions
from engine.context import LazyNodes, build_context
from engine.errors import PERMANENT, TIMEOUT, NodeError
from engine.globals import Snapshot
from engine.pins import pin_outcome
from engine.redaction import redact
from executions import leases, stoppable, tracing
from executions.contexts import load_node_entries
from executions.dispatch import send
from executions.finishing import Outcome, claim_and_run, finish_nodes, run_start_here
from nodes.registry import NodeCall, NodeResult, NotHere
from variables import services as variables

logger = logging.getLogger("nodeflow.engine")

# What "the node ran out of its time" looks like in a worker: Celery's soft time limit.
TIMEOUT_EXCEPTIONS = (SoftTimeLimitExceeded,)
# What "the database is unreachable" looks like: the connection failed or broke.
DATABASE_UNREACHABLE = (OperationalError, InterfaceError)


def worker_name():
    return f"inline@{socket.gethostname()}"


def run_node(execution_id, node_id, *, dispatcher, worker=None, whole=False):
    """Claim, execute and finish one node run. Returns False when there was nothing to run."""
    return run_nodes(execution_id, [node_id], dispatcher=dispatcher, worker=worker, whole=whole)


def run_nodes(execution_id, node_ids, *, dispatcher, worker=None, whole=False):
    """Claim queued node runs of one execution in one transaction and run them here.

    Several come at once when a fan-out of instant nodes is wider than one local batch: its
    remainder is sent in tasks of up to LOCAL_RUN_BATCH nodes each, which workers share.
    Instant nodes run inside the transaction that claims them, with what they make ready;
    the others run between their claim and their finish, whose transaction runs the instant
    nodes they make ready. After LOCAL_RUN_BUDGET_S seconds the rest goes through the broker,
    so one long run of instant nodes does not hold this worker from other executions."""
    worker = worker or worker_name()
    deadline = time.monotonic() + settings.NODEFLOW["LOCAL_RUN_BUDGET_S"]
    try:
        claimed, batch = claim_and_run(execution_id, node_ids, dispatcher=dispatcher, worker=worker,
                                       execute=_execute_in_transaction, deadline=deadline, whole=whole)
    except (DataError, IntegrityError):  # a result of an instant node the database refused: run them one by one
        claimed, batch = claim_and_run(execution_id, node_ids, dispatcher=dispatcher, worker=worker)
    if not claimed:
        return False
    while batch:
        outcomes = _execute_batch(batch)
        local_worker = worker if time.monotonic() < deadline else None
        batch = _finish(list(zip(batch, outcomes)), dispatcher, local_worker, deadline)
    return True


class StartHere:
    """What starting.start_execution calls (`run_here`) to run a new execution's instant nodes in the
    transaction that creates it, in this thread, as a worker would after a trip through the broker:
    a workflow of instant nodes started by the API or a sync webhook (start_here), or accepted by the
    webhook door (triggers.accepted), has ended when its start commits, written once (its node runs
    inserted as they ended, not inserted and then updated). What is not instant is sent to the workers
    after the commit. `finish()`, after the commit, runs the instant runs it had claimed when its
    `deadline` (time.monotonic()) passed, without claiming more; starts made in one transaction share
    one. `worker`: the name its node runs are claimed under (this process's, worker_name(), when None)."""

    def __init__(self, deadline, worker=None):
        self.left = []
        self.deadline = deadline
        self.worker = worker or worker_name()

    def __call__(self, transition):
        _prepared, self.left = run_start_here(transition, self.worker, _execute_in_transaction, self.deadline)
        transition.settle()

    def finish(self, dispatcher):
        """Never raises: what it could not run (the database went away), their leases hand to the workers."""
        batch, self.left = self.left, []
        try:
            while batch:
                outcomes = _execute_batch(batch)
                batch = _finish(list(zip(batch, outcomes)), dispatcher, None, self.deadline)
        except Exception:  # noqa: BLE001 - started and committed: their leases hand them to the workers
            logger.warning("a new execution's last instant nodes were not run where it started; the workers take "
                           "them when their leases expire", exc_info=True)


def start_here(start, dispatcher):
    """`start(run_here)`, a start_execution or run_workflow with its other arguments bound, made to run
    the new execution's instant nodes in the transaction that creates it, in this thread (StartHere),
    for up to LOCAL_RUN_ON_START_S (0: not at all): what a run started through the API and a sync
    webhook do. A workflow of instant nodes has then ended when this returns, written once, without a
    trip through the broker or a transaction of its own in a worker; what is not instant, or not run
    within that time, goes to the workers. (The bound keeps the answer prompt, and a long run of
    instant nodes, pure Python, from taking the GIL from the web process's other requests for long.)

    A result the database refuses rolls that transaction back: the start is made again without, and
    the workers run the nodes. The instant runs claimed when the time ran out run here after the
    commit; should that fail, their leases hand them to the workers."""
    budget = min(settings.NODEFLOW["LOCAL_RUN_ON_START_S"], settings.NODEFLOW["LOCAL_RUN_BUDGET_S"])
    if budget <= 0:
        return start(None)
    here = StartHere(time.monotonic() + budget)
    try:
        execution = start(here)
    except (DataError, IntegrityError):
        logger.warning("a new execution's instant nodes could not be written; its workers run them", exc_info=True)
        return start(None)
    here.finish(dispatcher)
    return execution


# While the database is unreachable, a finished batch waits this long (seconds, in turn) before
# each new try to record its results, its leases held; then it gives up (see _finish).
FINISH_RETRY_DELAYS_S = (0.5, 1, 2, 4, 8, 15)


def _finish(finished, dispatcher, worker, deadline):
    """finish_nodes, tried again while the database is unreachable (the results are only in memory).

    When it stays away, the runs are handed to `dispatcher.requeue_unrecorded`: they run again
    as `result_not_recorded`, instead of waiting for their leases to expire as `worker_lost`."""
    for delay in (*FINISH_RETRY_DELAYS_S, None):
        try:
            return finish_nodes(finished, dispatcher=dispatcher, worker=worker, execute=_execute_in_transaction,
                                deadline=deadline)
        except DATABASE_UNREACHABLE as exc:
            connection.close()  # the next try opens a new one
            if delay is None:
                logger.error("could not record %d result(s) of %s: %s; they run again", len(finished),
                             finished[0][0].execution_id, exc)
                for prepared, _ in finished:
                    send(f"the unrecorded result of {prepared.node_id}", lambda p=prepared: dispatcher.requeue_unrecorded(
                        p.execution_id, p.node_id, p.attempt))
                return []
            logger.warning("could not record %d result(s) of %s (%s); trying again in %s s", len(finished),
                           finished[0][0].execution_id, type(exc).__name__, delay)
            with _leases_held([prepared for prepared, _ in finished]):
                time.sleep(delay)


@contextmanager
def _leases_held(batch):
    with ExitStack() as stack:
        for prepared in batch:
            stack.enter_context(leases.held(prepared.execution_id, prepared.node_id, prepared.attempt))
        yield


def _execute_batch(batch):
    """Execute claimed node runs one after the other, their leases held for the whole batch."""
    with _leases_held(batch):
        if not tracing.enabled():
            return [execute_node(prepared) for prepared in batch]
        return [_execute_traced(prepared) for prepared in batch]


def _execute_in_transaction(prepared, recorded, here_ms=None):
    """Execute an instant or contained node inside the finish transaction that claimed it
    (finishing._run_here): what it reads of the nodes finished in that transaction comes from
    `recorded`, not yet written; a contained node may take `here_ms` there (None when it needs more)."""
    if not tracing.enabled():
        return execute_node(prepared, recorded, here_ms)
    return _execute_traced(prepared, recorded, here_ms)


def _execute_traced(prepared, recorded=None, here_ms=None):
    node_type = prepared.compiled.node_types[prepared.node_id]
    with tracing.node_span(prepared.execution_id, prepared.execution_info["workflow_id"], prepared.node_id,
                           f"{node_type.type} v{node_type.version}", prepared.attempt) as span:
        outcome = execute_node(prepared, recorded, here_ms)
        if outcome is None:
            span.set_attribute("nodeflow.status", "not_here")
            return None
        span.set_attribute("nodeflow.status", outcome.status)
        if outcome.error is not None:
            span.set_attribute("nodeflow.error_class", outcome.error.error_class)
    return outcome


def execute_node(prepared, recorded=None, here_ms=None):
    """Render the params and call the node type's run function. Never raises.

    Whatever secrets the node used (its credentials) are masked in everything that
    will be stored or sent: params, output, variable writes, logs and the error.
    `here_ms`: it runs inside a finish transaction and may take that long there (NodeCall.here_ms);
    None is returned when it needed more (NotHere), for it to run after the commit."""
    secrets, resources = set(), {}
    cpu_started = time.thread_time()
    outcome = _execute(prepared, secrets, recorded, resources, here_ms)
    if outcome is None:
        return None
    outcome.resources = resources_of(resources, time.thread_time() - cpu_started)
    if secrets:
        outcome.params = redact(outcome.params, secrets)
        outcome.logs = redact(outcome.logs, secrets)
        if outcome.result is not None:
            outcome.result.output = redact(outcome.result.output, secrets)
            outcome.result.vars = redact(outcome.result.vars, secrets)
            if outcome.result.sets_result:
                outcome.result.result = redact(outcome.result.result, secrets)
        if outcome.error is not None:
            error = outcome.error
            error.message = redact(error.message, secrets)
            error.details = redact(error.details, secrets)
            error.traceback = redact(error.traceback, secrets)
    return outcome


def resources_of(reported, thread_cpu_s):
    """A node run's figures: cpu_ms (this thread's CPU time for the run, plus its sandbox child's) and
    whatever the node type reported (peak_memory_kb, bytes_in, bytes_out, sandbox_cpu_ms)."""
    figures = {key: value for key, value in reported.items() if isinstance(value, (int, float))}
    child_cpu_ms = figures.pop("process_cpu_ms", 0)  # a stoppable node's own process (executions.stoppable)
    figures["cpu_ms"] = round(thread_cpu_s * 1000 + child_cpu_ms + figures.get("sandbox_cpu_ms", 0), 3)
    return figures


def _execute(prepared, secrets, recorded=None, resources=None, here_ms=None):
    """The run's Outcome (None: NotHere); the node adds the secret values it used to `secrets`, its figures
    to `resources`."""
    compiled, node_id = prepared.compiled, prepared.node_id
    node = compiled.graph.node(node_id)
    node_type = compiled.node_types[node_id]
    started_at = datetime.now(timezone.utc)
    if prepared.merge_error is not None:
        return Outcome(error=prepared.merge_error, started_at=started_at)
    if node_id in compiled.pins:
        output, ports = pin_outcome(compiled.pins[node_id])
        return Outcome(result=NodeResult(output=output, ports=ports), started_at=started_at, pinned=True)
    nodes = LazyNodes(compiled.graph.ancestor_view(node_id), _entries_loader(prepared.execution_id, recorded))
    params = {**node_type.defaults, **(node.get("params") or {})}
    context = build_context(prepared.execution_info, prepared.input_data, dict(prepared.vars_state.values), nodes,
                            _globals_snapshot(prepared.owner_id, compiled.global_keys(node_id)))
    call = NodeCall(
        node_id=node_id,
        node=node,
        params=params,
        context=context,
        execution_id=prepared.execution_id,
        attempt=prepared.attempt,
        upstream=prepared.upstream,
        owner_id=prepared.owner_id,
        secrets=secrets,
        try_number=prepared.try_number,
        resources=resources if resources is not None else {},
        here_ms=here_ms,
    )
    try:
        rendered = {
            key: value if key in node_type.raw_params else expressions.render(value, context, path=f"params.{key}")
            for key, value in params.items()
        }
        call.params = rendered
        if node.get("timeout_s") and not node_type.instant and stoppable.enabled():
            value = stoppable.run_stoppable(node_type.run, call, node["timeout_s"])  # killed at the timeout
        else:
            value = node_type.run(call)
    except NotHere:
        return None
    except expressions.ExpressionError as exc:
        return Outcome(error=NodeError(str(exc), PERMANENT, code="expression"), params=params, logs=call.logs,
                       started_at=started_at)
    except NodeError as exc:
        return Outcome(error=exc, params=call.params, logs=call.logs, started_at=started_at)
    except TIMEOUT_EXCEPTIONS:
        error = NodeError(f"the node ran longer than its timeout of {node.get('timeout_s')} s", TIMEOUT,
                          code="node_timeout")
        return Outcome(error=error, params=call.params, logs=call.logs, started_at=started_at)
    except Exception as exc:  # a bug in a node type: the run fails, the worker does not
        return Outcome(error=crash_error(node_type, exc), params=call.params, logs=call.logs, started_at=started_at)
    result = value if isinstance(value, NodeResult) else NodeResult(output=value)
    return Outcome(result=result, params=call.params, logs=call.logs + list(result.logs), started_at=started_at)


def _globals_snapshot(owner_id, keys):
    """The owner's global variables as the node sees them, as of now (engine.globals.Snapshot)."""
    if owner_id is None:
        return None
    return Snapshot(keys, lambda wanted: variables.snapshot_with_versions(owner_id, wanted))


def _entries_loader(execution_id, recorded):
    """How the context reads `nodes.<id>`: from the database, or, inside a transaction (`recorded`),
    first from `recorded`: the runs finished in it, which the database does not have yet, and the
    entries a node run before in it read. The execution is locked meanwhile, so those can only change
    by a finish in this transaction, which records its entry there: a chain of nodes run in one
    transaction reads each earlier entry once."""
    if recorded is None:
        return lambda ids: load_node_entries(execution_id, ids)

    def load(ids):
        entries = {node_id: recorded[node_id] for node_id in ids if node_id in recorded}
        rest = [node_id for node_id in ids if node_id not in entries]
        if rest:
            loaded = load_node_entries(execution_id, rest)
            recorded.update(loaded)
            entries.update(loaded)
        return entries
    return load


def crash_error(node_type, exc):
    """The error a user sees when a node type raised something it should not have.

    The traceback and the exception's text (server paths, internals) go to the worker's log
    under a reference; the user's error names the type, the exception class and that reference."""
    reference = uuid.uuid4().hex[:12]
    logger.exception("node type %s v%s crashed (reference %s)", node_type.type, node_type.version, reference)
    return NodeError(
        f"{node_type.type} v{node_type.version} failed unexpectedly ({type(exc).__name__}); "
        f"the worker's log has the details under reference {reference}",
        PERMANENT,
        code="node_crashed",
        details={"reference": reference},
    )
