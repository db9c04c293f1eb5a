"""Runs workflows on the database: the one place where executions and node runs change state.

A node run goes claim → execute → finish. Claim and finish are short transactions
that lock the execution row first, so every state change of one execution is
serialised (joins fire exactly once, event sequence numbers have no gaps) while the
node itself runs outside any transaction. The finish of a node also claims the instant
nodes it made ready (flow, data, logic), which this worker then runs itself: one
transaction per such node and no broker trip. executions.store reads and writes the
rows. Celery (executions.tasks) and the inline runner (executions.inline) are two
dispatchers around these same functions."""

import logging
import socket
import time
import traceback
import uuid
from collections import OrderedDict, namedtuple
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from threading import Lock

import jsonschema
from django.conf import settings
from django.db import transaction
from django.utils import timezone as dj_timezone

from engine import expressions
from engine.context import Branch, LazyNodes, MergeConflict, VarState, build_context, merge_branches
from engine.errors import CANCELLED, PERMANENT, TIMEOUT, NodeError
from engine.graph import ERROR_PORT, MAIN, Graph
from engine.redaction import redact
from engine.retry import backoff_delay, should_retry
from engine.scheduling import JOIN_FIRST, JoinState, first_join_losers, propagate
from engine.states import (
    EXECUTION_FINAL,
    NODE_OPEN,
    ExecutionStatus,
    NodeStatus,
    check_execution_transition,
    check_node_transition,
)
from executions import live, outputs, store, tracing
from executions.models import Definition, Execution, ExecutionEvent, NodeRun
from nodes.registry import NodeCall, NodeResult, registry

logger = logging.getLogger("nodeflow.engine")

E, N = ExecutionStatus, NodeStatus


class CompiledWorkflow:
    """A workflow document made ready to run: its graph and each node's type."""

    def __init__(self, document):
        self.document = document
        self.graph = Graph.from_document(document)
        self.node_types = {node_id: registry.for_node(node) for node_id, node in self.graph.nodes.items()}
        self.settings = document.get("settings") or {}
        self.merge_policy = self.settings.get("merge", "error")
        self._join_modes = {
            node_id: node_type.join_mode_of(self.graph.nodes[node_id]) for node_id, node_type in self.node_types.items()
        }
        routes = settings.NODEFLOW["QUEUE_ROUTES"]
        # Instant nodes run in the worker that made them ready, unless they carry a time limit
        # (only a task of their own enforces it) or an operator routed their type to a queue.
        self._local = {
            node_id for node_id, node_type in self.node_types.items()
            if node_type.instant and not self.graph.nodes[node_id].get("timeout_s") and node_type.type not in routes
        }

    def runs_locally(self, node_id):
        return node_id in self._local

    def join_mode(self, node_id):
        return self._join_modes[node_id]

    def queue(self, node_id):
        node_type = self.node_types[node_id]
        return settings.NODEFLOW["QUEUE_ROUTES"].get(node_type.type, node_type.queue)


_compiled = OrderedDict()
_compiled_lock = Lock()
_COMPILED_MAX = 64


def compiled_for(definition_sha, load_document=None):
    """The compiled workflow of a stored definition, cached per process (definitions never change)."""
    with _compiled_lock:
        compiled = _compiled.get(definition_sha)
        if compiled is not None:
            _compiled.move_to_end(definition_sha)
            return compiled
    document = load_document() if load_document else Definition.objects.get(pk=definition_sha).document
    compiled = CompiledWorkflow(document)
    with _compiled_lock:
        _compiled[definition_sha] = compiled
        while len(_compiled) > _COMPILED_MAX:
            _compiled.popitem(last=False)
    return compiled


Start = namedtuple("Start", "node_id queue timeout_s task_id instant")
Start.__doc__ = ("A node run to send to a worker: its queue, its time limit, the task id to send it under, "
                 "and whether it is instant (several may go as one task, see run_nodes).")

# Exceptions that mean "the node ran out of time" (Celery's soft time limit registers here).
TIMEOUT_EXCEPTIONS = []


def worker_name():
    return f"inline@{socket.gethostname()}"


def execution_input(execution):
    """The execution's input: loaded with the execution's row, or read now."""
    if "input" not in execution.get_deferred_fields():
        return execution.input
    return Execution.objects.filter(pk=execution.pk).values_list("input", flat=True).get()


_UNREAD = object()


# ---------------------------------------------------------------------------
# Transitions


class Transition:
    """The changes made to one execution inside one transaction.

    Creating it locks the execution row; `flush()` writes the node runs it changed,
    the events it appended (consecutive `seq`) and the execution, and registers the
    dispatches to happen after commit."""

    def __init__(self, execution_id, dispatcher, node_ids=(), with_input=False):
        """Lock the execution and load the node runs `node_ids` (one round trip on PostgreSQL)."""
        execution, runs = store.lock_and_load(execution_id, node_ids, with_input)
        self._setup(execution, dispatcher)
        self.runs.update(runs)

    @classmethod
    def creating(cls, execution, runs, dispatcher):
        """The transition that creates `execution` and its node runs (both unsaved): flush() inserts them."""
        transition = cls.__new__(cls)
        transition._setup(execution, dispatcher)
        transition.runs = {run.node_id: run for run in runs}
        transition._creating = True
        return transition

    def _setup(self, execution, dispatcher):
        self.execution = execution
        self._creating = False
        self.dispatcher = dispatcher
        self.compiled = compiled_for(self.execution.definition_id)
        self.events = []
        self.runs = {}
        self._dirty_runs = {}
        self._dirty_execution = set()
        self.to_start = []
        self.to_wake = []  # (node_id, eta, reason): "timer" wakes a waiting node, "retry" runs it again
        self.to_revoke = []  # task ids of queued or running node runs that were cancelled
        self.claimed = []  # node runs claimed here to run in this process (Prepared)

    # -- loading

    def run(self, node_id):
        run = self.runs.get(node_id)
        if run is None:
            self.runs.update(store.load_runs(self.execution.pk, [node_id]))
            run = self.runs.get(node_id)
            if run is None:
                raise NodeRun.DoesNotExist(f"no node run {node_id!r} in execution {self.execution.pk}")
        return run

    def load_runs(self, node_ids):
        missing = [node_id for node_id in node_ids if node_id not in self.runs]
        if missing:
            self.runs.update(store.load_runs(self.execution.pk, missing))
        return [self.runs[node_id] for node_id in node_ids]

    # -- changing

    def now(self):
        return dj_timezone.now()

    def event(self, type_, node_id="", **data):
        self.execution.last_seq += 1
        self._dirty_execution.add("last_seq")
        event = ExecutionEvent(
            execution_id=self.execution.pk, seq=self.execution.last_seq, type=type_, node_id=node_id, ts=self.now(), data=data
        )
        self.events.append(event)
        return event

    def set_execution(self, status=None, event_data=None, **fields):
        execution = self.execution
        if status is not None and status != execution.status:
            check_execution_transition(execution.status, status)
            previous = execution.status
            execution.status = status
            self._dirty_execution.add("status")
            if status == E.RUNNING and execution.started_at is None:
                execution.started_at = self.now()
                self._dirty_execution.add("started_at")
                self.event(ExecutionEvent.STARTED, status=status)
                limit = self.compiled.settings.get("timeout_s")
                if limit:
                    self.to_wake.append(("", execution.started_at + timedelta(seconds=float(limit)), "execution_timeout"))
            elif status in EXECUTION_FINAL:
                execution.finished_at = self.now()
                self._dirty_execution.add("finished_at")
            else:
                self.event(ExecutionEvent.STATE_CHANGED, status=status, previous=previous, **(event_data or {}))
        for name, value in fields.items():
            setattr(execution, name, value)
            self._dirty_execution.add(name)
        if status in EXECUTION_FINAL:
            unloaded = execution.get_deferred_fields() & {"result", "error"}
            if unloaded:  # the event carries them: one query for both
                execution.refresh_from_db(fields=sorted(unloaded))
            if tracing.enabled():
                transaction.on_commit(lambda: tracing.execution_finished(execution))
            self.event(
                ExecutionEvent.COMPLETED,
                status=status,
                result=execution.result,
                error=execution.error,
                duration_ms=execution.duration_ms,
            )

    def set_node(self, run, status=None, event_data=None, **fields):
        if status is not None and status != run.status:
            check_node_transition(run.status, status)
            previous = run.status
            run.status = status
            fields.setdefault("status", status)
            now = self.now()
            if status == N.QUEUED:
                run.queued_at = now
                fields["queued_at"] = now
            data = {"status": status, "previous": previous, "attempt": run.attempt}
            if event_data:
                data.update(event_data)
            self.event(ExecutionEvent.NODE_STATE_CHANGED, run.node_id, **data)
        for name, value in fields.items():
            setattr(run, name, value)
        self._dirty_runs.setdefault(run.node_id, set()).update(fields)
        self.runs[run.node_id] = run

    def flush(self):
        if self._creating:  # the execution, its node runs as they are now, and the events
            store.insert(self.execution, list(self.runs.values()), self.events)
            self._creating = False
        else:
            store.write(self.execution, self._dirty_execution, self.runs, self._dirty_runs, self.events)
        self._dirty_runs, self._dirty_execution = {}, set()
        execution_id = str(self.execution.pk)
        dispatcher = self.dispatcher
        # A message to another process must wait for the commit, or the worker may not see
        # the rows yet; the inline dispatcher only queues work for this same process.
        after_commit = transaction.on_commit if dispatcher.after_commit else _call_now
        if self.to_start and self.execution.status != E.PAUSED:  # resume sends them
            starts = [self.start_of(node_id) for node_id in self.to_start]
            after_commit(lambda: dispatcher.dispatch(execution_id, starts))
        for node_id, eta, reason in self.to_wake:
            start = self.start_of(node_id) if node_id else None
            after_commit(lambda s=start, t=eta, r=reason, n=node_id: dispatcher.dispatch_later(execution_id, n, t, r, s))
        if self.to_revoke:
            revoke = list(self.to_revoke)
            after_commit(lambda: dispatcher.revoke(revoke))
        if self.events:
            events, workflow_id = list(self.events), self.execution.workflow_id
            transaction.on_commit(lambda: live.broadcast(execution_id, workflow_id, events))

    # -- scheduling

    def queue_node(self, node_id, status=N.QUEUED):
        """Queue the node (or mark it retrying) under a new task id, sent after commit."""
        run = self.run(node_id)
        self.set_node(run, status, task_id=uuid.uuid4().hex)
        if status == N.QUEUED:
            self.to_start.append(node_id)

    def start_of(self, node_id):
        node = self.compiled.graph.node(node_id)
        return Start(node_id, self.compiled.queue(node_id), node.get("timeout_s"), self.run(node_id).task_id,
                     self.compiled.runs_locally(node_id))

    def resolve(self, node_id, ports):
        """Resolve the node's outgoing edges for the emitted ports; queue or skip what follows."""
        graph, compiled = self.compiled.graph, self.compiled
        join_states = _JoinStates(self)
        decision = propagate(graph, node_id, ports, join_states, compiled.join_mode)
        for target, state in decision.touched.items():
            run = self.run(target)
            if (run.inputs_remaining, run.inputs_taken) != (state.remaining, state.taken):
                self.set_node(run, inputs_remaining=state.remaining, inputs_taken=state.taken)
        for target in decision.skip:
            self.set_node(self.run(target), N.SKIPPED)
        for target in decision.start:
            self.queue_node(target)
            if compiled.join_mode(target) == JOIN_FIRST:
                self.cancel_first_join_losers(target)

    def cancel_first_join_losers(self, join_id):
        graph = self.compiled.graph
        upstream = graph.ancestors(join_id)
        open_upstream = [run.node_id for run in self.load_runs(upstream) if run.status in NODE_OPEN]
        losers = first_join_losers(graph, join_id, open_upstream)
        for node_id in losers:
            self.cancel_node(self.run(node_id), "another branch reached the first-mode merge first")
        for node_id in losers:
            self.resolve(node_id, ())

    def cancel_node(self, run, reason):
        if run.status in (N.QUEUED, N.RUNNING, N.RETRYING) and run.task_id:
            self.to_revoke.append(run.task_id)
        error = {"class": CANCELLED, "message": reason}
        self.set_node(run, N.CANCELLED, error=error, finished_at=self.now(), lease_expires_at=None)

    def cancel_open_nodes(self, reason):
        for run in NodeRun.objects.filter(execution_id=self.execution.pk, status__in=list(NODE_OPEN)):
            run = self.runs.get(run.node_id, run)
            if run.status in NODE_OPEN:
                self.cancel_node(run, reason)

    def open_statuses(self):
        """The statuses among the execution's open node runs: those loaded here as they are now,
        the others as stored. Every change to a run's status holds the execution's row lock,
        which this transition holds, so what is stored for the others is current."""
        here = {run.status for run in self.runs.values() if run.status in NODE_OPEN}
        return here | store.open_statuses(self.execution.pk, NODE_OPEN, exclude=list(self.runs))

    def settle(self):
        """After the changes: finish the execution when nothing is open, or mark it waiting."""
        execution = self.execution
        if execution.status in EXECUTION_FINAL or execution.status == E.PAUSED:
            return
        if self.to_start or self.claimed:
            return  # something was just queued or claimed: the execution goes on
        statuses = self.open_statuses()
        if not statuses:
            self.set_execution(E.SUCCEEDED)
            return
        busy = bool(statuses & {N.QUEUED, N.RUNNING, N.RETRYING})
        if not busy and N.WAITING in statuses:
            if execution.status != E.WAITING:
                self.set_execution(E.WAITING)
        elif busy and execution.status == E.WAITING:
            self.set_execution(E.RUNNING)

    def claim(self, node_id, worker, input_data=_UNREAD):
        """Mark a queued node run running in `worker`; its Prepared, or None when it is not queued.

        `input_data` is the execution's input when the caller has it already."""
        run = self.run(node_id)
        if run.status not in (N.QUEUED, N.RETRYING):
            logger.info("node %s of %s is %s: delivery ignored", node_id, self.execution.pk, run.status)
            return None
        execution = self.execution
        if execution.status in (E.QUEUED, E.WAITING):
            self.set_execution(E.RUNNING)
        upstream, vars_state, vars_from, merged, merge_error = _incoming_vars(self, node_id)
        run.attempt += 1
        now = self.now()
        self.set_node(
            run,
            N.RUNNING,
            event_data={"worker": worker},
            attempt=run.attempt,
            started_at=now,
            finished_at=None,
            worker=worker,
            start_seq=execution.last_seq + 1,
            lease_expires_at=now + timedelta(seconds=lease_seconds()),
            vars_from=vars_from,
            vars_state=vars_state.as_dict() if merged else None,
        )
        info = {
            "id": str(execution.pk),
            "workflow_id": str(execution.workflow_id) if execution.workflow_id else None,
            "trigger": execution.trigger,
            "started_at": execution.started_at.isoformat() if execution.started_at else None,
        }
        prepared = Prepared(
            execution_id=str(execution.pk),
            node_id=node_id,
            attempt=run.attempt,
            compiled=self.compiled,
            execution_info=info,
            input_data=execution_input(execution) if input_data is _UNREAD else input_data,
            vars_state=vars_state,
            upstream=upstream,
            owner_id=execution.owner_id,
            merge_error=merge_error,
        )
        self.claimed.append(prepared)
        return prepared

    def claim_local(self, worker, input_data=_UNREAD):
        """Claim the just-queued nodes that run in this process (instant ones) instead of sending them."""
        if self.execution.status in EXECUTION_FINAL or self.execution.status == E.PAUSED:
            return []
        # At most LOCAL_RUN_BATCH of them: a very wide fan-out sends the rest to the broker, which
        # bounds this transaction and this worker's memory, and lets other workers share the work.
        local = [node_id for node_id in self.to_start if self.compiled.runs_locally(node_id)]
        local = local[:settings.NODEFLOW["LOCAL_RUN_BATCH"]]
        if not local:
            return []
        self.to_start = [node_id for node_id in self.to_start if node_id not in local]
        self.load_runs([p for node_id in local for p in self.compiled.graph.predecessors(node_id)])
        return [prepared for prepared in (self.claim(node_id, worker, input_data) for node_id in local) if prepared]

    def fail_execution(self, error, status=E.FAILED):
        self.cancel_open_nodes(f"the execution {'failed' if status == E.FAILED else status.replace('_', ' ')}")
        self.set_execution(status, error=error)


def _call_now(function):
    function()


class _JoinStates(dict):
    """JoinState per node id, loaded from node runs on first use."""

    def __init__(self, transition):
        super().__init__()
        self.transition = transition

    def __missing__(self, node_id):
        run = self.transition.run(node_id)
        state = JoinState(run.inputs_remaining, run.inputs_taken, started=run.status != N.PENDING)
        self[node_id] = state
        return state


# ---------------------------------------------------------------------------
# Starting


class InvalidInput(ValueError):
    """The run's input does not match the workflow's input_schema."""


def start_execution(document, *, dispatcher, owner=None, owner_id=None, workflow=None, version=None, revision=None,
                    input_data=None, trigger="manual", trigger_node=None):
    """Create an execution of `document` and queue its trigger node (after commit).

    The owner is a user, or only its id (`owner_id`), which saves loading the user."""
    input_data = {} if input_data is None else input_data
    schema = document.get("input_schema")
    checked = _schema_subject(trigger, input_data)
    if schema and checked is not _UNCHECKED:
        errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(checked), key=lambda e: list(e.path))
        if errors:
            raise InvalidInput("; ".join(_schema_error_text(e) for e in errors))
    with transaction.atomic():
        definition = Definition.store(document)
        compiled = compiled_for(definition.sha256, load_document=lambda: document)
        graph = compiled.graph
        start_node = _choose_trigger(compiled, trigger, trigger_node)
        execution = Execution(
            workflow=workflow,
            owner_id=owner.pk if owner is not None else owner_id,
            definition=definition,
            version=version,
            revision=revision,
            trigger=trigger,
            trigger_node=start_node,
            input=input_data,
        )
        runs = [
            NodeRun(
                execution=execution,
                node_id=node_id,
                type=compiled.node_types[node_id].type,
                type_version=compiled.node_types[node_id].version,
                inputs_remaining=len(graph.incoming[node_id]),
            )
            for node_id in graph.order
        ]
        # Built in memory and written at flush: one INSERT for the execution, one for its node runs.
        transition = Transition.creating(execution, runs, dispatcher)
        transition.queue_node(start_node)
        # Every other root (other triggers) does not fire in this execution.
        for node_id in graph.roots():
            if node_id != start_node:
                transition.set_node(transition.run(node_id), N.SKIPPED)
                transition.resolve(node_id, ())
        transition.flush()
    if tracing.enabled():
        tracing.execution_started(execution)
    return execution


_UNCHECKED = object()


def _schema_subject(trigger, input_data):
    """What the workflow's input_schema describes: a manual run's input, a webhook's body.

    A schedule's input ({fired_at, schedule}) is NodeFlow's own, so it is not checked."""
    if trigger == "webhook":
        return input_data.get("body") if isinstance(input_data, dict) else input_data
    if trigger == "schedule":
        return _UNCHECKED
    return input_data


def _choose_trigger(compiled, trigger, trigger_node):
    graph = compiled.graph
    if trigger_node:
        if trigger_node not in graph.nodes:
            raise ValueError(f"no node {trigger_node!r} in the workflow")
        return trigger_node
    roots = graph.roots()
    wanted = f"trigger.{trigger}"
    for node_id in roots:
        if compiled.node_types[node_id].type == wanted:
            return node_id
    for node_id in roots:
        if compiled.node_types[node_id].trigger:
            return node_id
    if roots:
        return roots[0]
    raise ValueError("the workflow has no trigger node")


def _schema_error_text(error):
    where = "/".join(str(p) for p in error.absolute_path) or "(root)"
    return f"input at {where}: {error.message}"


# ---------------------------------------------------------------------------
# Running one node


@dataclass
class Prepared:
    """What a claimed node run needs to execute, gathered in the claim transaction."""

    execution_id: str
    node_id: str
    attempt: int
    compiled: CompiledWorkflow
    execution_info: dict
    input_data: dict
    vars_state: VarState
    upstream: list
    owner_id: int | None = None
    merge_error: NodeError | None = None


@dataclass
class Outcome:
    """How a node run ended, as the finish transaction records it."""

    result: NodeResult | None = None
    error: NodeError | None = None
    params: dict | None = None
    logs: list = field(default_factory=list)
    started_at: datetime | None = None

    @property
    def status(self):
        if self.error is not None:
            return "failed"
        return "waiting" if self.result.wait is not None else "completed"


def run_node(execution_id, node_id, *, dispatcher, worker=None):
    """Claim, execute and finish one node run. Returns False when there was nothing to run.

    The instant nodes it makes ready (flow, data, logic: no network, no sandbox) run here
    next, each finish claiming the next ones in the same transaction, instead of going
    through the broker. After LOCAL_RUN_BUDGET_S seconds the rest goes through the broker,
    so one long run of instant nodes does not hold this worker from other executions."""
    return run_nodes(execution_id, [node_id], dispatcher=dispatcher, worker=worker)


def run_nodes(execution_id, node_ids, *, dispatcher, worker=None):
    """Claim queued node runs of one execution in one transaction and run them here, as run_node does.

    Several come at once when a fan-out of instant nodes is wider than one local batch: its
    remainder is sent in tasks of up to LOCAL_RUN_BATCH nodes each, which workers share."""
    worker = worker or worker_name()
    batch = claim_nodes(execution_id, node_ids, dispatcher=dispatcher, worker=worker)
    if not batch:
        return False
    deadline = time.monotonic() + settings.NODEFLOW["LOCAL_RUN_BUDGET_S"]
    while batch:
        outcomes = _execute_batch(batch)
        local_worker = worker if time.monotonic() < deadline else None
        batch = finish_nodes(list(zip(batch, outcomes)), dispatcher=dispatcher, worker=local_worker)
    return True


def _execute_batch(batch):
    """Execute claimed node runs one after the other, their leases held for the whole batch."""
    from executions import leases

    with ExitStack() as stack:
        for prepared in batch:
            stack.enter_context(leases.held(prepared.execution_id, prepared.node_id, prepared.attempt))
        if not tracing.enabled():
            return [execute_node(prepared) for prepared in batch]
        return [_execute_traced(prepared) for prepared in batch]


def _execute_traced(prepared):
    node_type = prepared.compiled.node_types[prepared.node_id]
    with tracing.node_span(prepared.execution_id, prepared.execution_info["workflow_id"], prepared.node_id,
                           f"{node_type.type} v{node_type.version}", prepared.attempt) as span:
        outcome = execute_node(prepared)
        span.set_attribute("nodeflow.status", outcome.status)
        if outcome.error is not None:
            span.set_attribute("nodeflow.error_class", outcome.error.error_class)
    return outcome


def lease_seconds():
    return settings.NODEFLOW["NODE_LEASE_S"]


def claim_node(execution_id, node_id, *, dispatcher, worker):
    """Mark the node run running (refusing duplicates and late deliveries) and gather its inputs."""
    claimed = claim_nodes(execution_id, [node_id], dispatcher=dispatcher, worker=worker)
    return claimed[0] if claimed else None


def claim_nodes(execution_id, node_ids, *, dispatcher, worker):
    """claim_node for several node runs of one execution, in one transaction: the Prepared of those still queued."""
    with transaction.atomic():
        # The nodes and the execution's input load with the lock; their predecessors (their ports
        # and variables decide the input) are known once the execution's workflow is.
        transition = Transition(execution_id, dispatcher, node_ids=node_ids, with_input=True)
        if transition.execution.status in EXECUTION_FINAL or transition.execution.status == E.PAUSED:
            return []
        graph = transition.compiled.graph
        transition.load_runs(list(dict.fromkeys(p for node_id in node_ids for p in graph.predecessors(node_id))))
        claimed = [prepared for prepared in (transition.claim(node_id, worker) for node_id in node_ids) if prepared]
        transition.flush()
        return claimed


def _incoming_vars(transition, node_id):
    """(taken predecessors, variables before the node, vars_from pointer, merged?, merge error)."""
    graph, compiled = transition.compiled.graph, transition.compiled
    predecessor_ids = graph.predecessors(node_id)
    if not predecessor_ids:
        return [], VarState(), "", False, None
    predecessors = {run.node_id: run for run in transition.load_runs(predecessor_ids)}
    taken = []
    for edge in graph.incoming[node_id]:
        run = predecessors[edge.source]
        if run.status in (N.COMPLETED, N.FAILED) and edge.port in (run.ports or []) and edge.source not in taken:
            taken.append(edge.source)
    if compiled.join_mode(node_id) == JOIN_FIRST:
        # A first-mode join continues with the branch that finished first.
        taken.sort(key=lambda p: predecessors[p].finish_seq or 0)
        taken = taken[:1]
    pointers = {predecessors[p].vars_from for p in taken}
    if len(pointers) == 1:
        pointer = pointers.pop()
        return taken, _load_var_state(transition, pointer), pointer, False, None
    branches = [
        Branch(source=p, state=_load_var_state(transition, predecessors[p].vars_from), finish_order=predecessors[p].finish_seq or 0)
        for p in taken
    ]
    try:
        merged = merge_branches(branches, compiled.merge_policy, graph.is_ancestor, node_id)
    except MergeConflict as conflict:
        error = NodeError(str(conflict), PERMANENT, code="merge_conflict",
                          details={"key": conflict.key, "writers": [w for w, _ in conflict.writers]})
        return taken, VarState(), node_id, True, error
    return taken, merged, node_id, True, None


def _load_var_state(transition, pointer):
    if not pointer:
        return VarState()
    return VarState.from_dict(transition.run(pointer).vars_state)


def load_node_entries(execution_id, node_ids, resolve_outputs=True):
    """{node id: {"output", "status"}} for the context's `nodes`; with resolve_outputs=False a large
    output stays a reference with a preview (what the API serves unless asked for the full output)."""
    rows = NodeRun.objects.filter(execution_id=execution_id, node_id__in=list(node_ids)).values_list(
        "node_id", "output", "status", "error"
    )
    entries = {}
    for node_id, output, status, error in rows:
        entry = {"output": outputs.resolve(output) if resolve_outputs else output, "status": status}
        if error:
            entry["error"] = error
        entries[node_id] = entry
    return entries


def execute_node(prepared):
    """Render the params and call the node type's run function. Never raises.

    Whatever secrets the node used (its credentials) are masked in everything that
    will be stored or sent: params, output, variable writes, logs and the error."""
    secrets = set()
    outcome = _execute(prepared, secrets)
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


def _execute(prepared, secrets):
    """The run's Outcome; the node adds the secret values it used to `secrets`."""
    compiled, node_id = prepared.compiled, prepared.node_id
    node = compiled.graph.node(node_id)
    node_type = compiled.node_types[node_id]
    started_at = datetime.now(timezone.utc)
    if prepared.merge_error is not None:
        return Outcome(error=prepared.merge_error, started_at=started_at)
    nodes = LazyNodes(compiled.graph.ancestor_view(node_id), lambda ids: load_node_entries(prepared.execution_id, ids))
    context = build_context(prepared.execution_info, prepared.input_data, dict(prepared.vars_state.values), nodes)
    params = {**node_type.defaults, **(node.get("params") or {})}
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
    )
    try:
        rendered = {
            key: value if key in node_type.raw_params else expressions.render(value, context, path=f"params.{key}")
            for key, value in params.items()
        }
        call.params = rendered
        value = node_type.run(call)
    except expressions.ExpressionError as exc:
        return Outcome(error=NodeError(str(exc), PERMANENT, code="expression"), params=params, logs=call.logs,
                       started_at=started_at)
    except NodeError as exc:
        return Outcome(error=exc, params=call.params, logs=call.logs, started_at=started_at)
    except tuple(TIMEOUT_EXCEPTIONS):
        error = NodeError(f"the node ran longer than its timeout of {node.get('timeout_s')} s", TIMEOUT,
                          code="node_timeout")
        return Outcome(error=error, params=call.params, logs=call.logs, started_at=started_at)
    except Exception as exc:  # a bug in a node type: the run fails, the worker does not
        logger.exception("node type %s crashed", node_type.type)
        error = NodeError(
            f"{node_type.type} v{node_type.version} raised {type(exc).__name__}: {exc}",
            PERMANENT,
            code="node_crashed",
            traceback=traceback.format_exc(),
        )
        return Outcome(error=error, params=call.params, logs=call.logs, started_at=started_at)
    result = value if isinstance(value, NodeResult) else NodeResult(output=value)
    return Outcome(result=result, params=call.params, logs=call.logs + list(result.logs), started_at=started_at)


def finish_node(prepared, outcome, *, dispatcher):
    """Record how the node run ended and move the execution on."""
    finish_nodes([(prepared, outcome)], dispatcher=dispatcher)


def finish_nodes(finished, *, dispatcher, worker=None):
    """Record how node runs of one execution ended, in one transaction, and move the execution on.

    With `worker`, the instant nodes this makes ready are claimed for that worker in the same
    transaction and returned (Prepared), to run here instead of going through the broker."""
    with transaction.atomic():
        # The nodes and the successors whose join counters they move load with the lock.
        graph = finished[0][0].compiled.graph
        node_ids = [prepared.node_id for prepared, _ in finished]
        wanted = node_ids + [s for node_id in node_ids for s in graph.successors(node_id)]
        transition = Transition(finished[0][0].execution_id, dispatcher, node_ids=wanted)
        for prepared, outcome in finished:
            _record_finish(transition, prepared, outcome)
        # The input goes on to the nodes claimed here (it never changes; nodes only read it).
        claimed = transition.claim_local(worker, finished[0][0].input_data) if worker else []
        transition.settle()
        transition.flush()
    return claimed


def _record_finish(transition, prepared, outcome):
    run = transition.run(prepared.node_id)
    if run.status != N.RUNNING or run.attempt != prepared.attempt:
        logger.info("late result for %s of %s (%s): ignored", prepared.node_id, prepared.execution_id, run.status)
        return
    if transition.execution.status in EXECUTION_FINAL:
        transition.cancel_node(run, f"the execution was {transition.execution.status}")
        return
    now = transition.now()
    attempt_record = {
        "attempt": run.attempt,
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "finished_at": now.isoformat(),
        "error": outcome.error.as_dict() if outcome.error else None,
    }
    common = {
        "lease_expires_at": None,
        "input": outputs.store_if_large(prepared.execution_id, f"{run.node_id}-{run.attempt}-input", outcome.params),
        "logs": (run.logs or []) + outcome.logs,
        "attempts": (run.attempts or []) + [attempt_record],
    }
    if outcome.logs:
        transition.event(ExecutionEvent.LOG, run.node_id, lines=outcome.logs[:200], count=len(outcome.logs))
    if outcome.error is not None:
        _finish_failed(transition, prepared, run, outcome.error, now, common)
    elif outcome.result.wait is not None:
        _finish_waiting(transition, run, outcome.result.wait, common)
    else:
        _finish_completed(transition, prepared, run, outcome.result, now, common)


def _finish_completed(transition, prepared, run, result, now, common):
    output = outputs.store_if_large(prepared.execution_id, f"{run.node_id}-{run.attempt}", result.output)
    fields = dict(common, output=output, ports=list(result.ports), finished_at=now, error=None)
    if result.vars or result.deleted_vars:
        state = prepared.vars_state.apply(run.node_id, result.vars, result.deleted_vars)
        fields.update(vars_state=state.as_dict(), vars_from=run.node_id)
    fields["finish_seq"] = transition.execution.last_seq + 1
    transition.set_node(run, N.COMPLETED, event_data={"ports": list(result.ports)}, **fields)
    transition.event(ExecutionEvent.DATA_AVAILABLE, run.node_id, ports=list(result.ports), has_output=result.output is not None)
    if result.sets_result:
        transition.set_execution(result=result.result, artifacts=result.artifacts)
    transition.resolve(run.node_id, result.ports)


def _finish_failed(transition, prepared, run, error, now, common):
    node = prepared.compiled.graph.node(run.node_id)
    on_error = node.get("on_error", "fail")
    error_dict = error.as_dict()
    error_dict["node_id"] = run.node_id
    transition.event(ExecutionEvent.ERROR_OCCURRED, run.node_id, error=error_dict, attempt=run.attempt)
    policy = node.get("retry")
    if should_retry(policy, run.attempt, error.error_class):
        delay = backoff_delay(policy, run.attempt)
        retry_at = now + timedelta(seconds=delay)
        common["attempts"][-1]["retry_in_s"] = round(delay, 3)
        transition.set_node(run, N.RETRYING, event_data={"error": error_dict, "retry_at": retry_at.isoformat()},
                            error=error_dict, task_id=uuid.uuid4().hex, **common)
        transition.to_wake.append((run.node_id, retry_at, "retry"))
        return
    if on_error == "continue":
        fields = dict(common, output={"error": error_dict}, ports=[MAIN], finished_at=now, error=error_dict,
                      finish_seq=transition.execution.last_seq + 1)
        transition.set_node(run, N.COMPLETED, event_data={"ports": [MAIN], "error": error_dict}, **fields)
        transition.resolve(run.node_id, (MAIN,))
        return
    if on_error == "route":
        fields = dict(common, output=None, ports=[ERROR_PORT], finished_at=now, error=error_dict,
                      finish_seq=transition.execution.last_seq + 1)
        transition.set_node(run, N.FAILED, event_data={"ports": [ERROR_PORT], "error": error_dict}, **fields)
        transition.resolve(run.node_id, (ERROR_PORT,))
        return
    fields = dict(common, ports=[], finished_at=now, error=error_dict, finish_seq=transition.execution.last_seq + 1)
    transition.set_node(run, N.FAILED, event_data={"error": error_dict}, **fields)
    transition.fail_execution({"node_id": run.node_id, **error.as_dict()})


def _finish_waiting(transition, run, wait, common):
    spec = {
        "until": wait.until.isoformat() if wait.until else None,
        "input": wait.wants_input,
        "schema": wait.input_schema,
    }
    transition.set_node(run, N.WAITING, event_data={"wait": spec}, wait=spec, **common)
    if wait.until is not None:
        transition.to_wake.append((run.node_id, wait.until, "timer"))


def wake_node(execution_id, node_id, *, dispatcher, reason="timer", data=None):
    """End a waiting node: its timer fired (`timer`), or input arrived (`input`)."""
    with transaction.atomic():
        transition = Transition(execution_id, dispatcher)
        run = transition.run(node_id)
        if run.status != N.WAITING or transition.execution.status in EXECUTION_FINAL:
            return False
        wait = run.wait or {}
        if reason == "input" and not wait.get("input"):
            raise NotWaitingForInput(f"node {node_id!r} is not waiting for input")
        if reason == "input" and wait.get("schema"):
            errors = list(jsonschema.Draft202012Validator(wait["schema"]).iter_errors(data))
            if errors:
                raise InvalidInput("; ".join(_schema_error_text(e) for e in errors))
        now = transition.now()
        if reason == "input":
            output, ports = data, ["main"]
        elif wait.get("input"):
            output, ports = {"timed_out": True, "waited_until": wait.get("until")}, ["timeout"]
        else:
            output, ports = {"waited_until": wait.get("until")}, ["main"]
        transition.set_node(run, N.COMPLETED, event_data={"ports": ports}, output=output, ports=ports,
                            finished_at=now, finish_seq=transition.execution.last_seq + 1, wait=None)
        transition.event(ExecutionEvent.DATA_AVAILABLE, node_id, ports=ports, has_output=output is not None)
        if transition.execution.status == E.WAITING:
            transition.set_execution(E.RUNNING)
        transition.resolve(node_id, ports)
        transition.settle()
        transition.flush()
        return True


class NotWaitingForInput(ValueError):
    """Input was posted for a node that does not wait for input."""


# ---------------------------------------------------------------------------
# Reading


def context_after(execution, node_id=None):
    """The full context after `node_id` (after the last finished node when None), from stored outputs."""
    compiled = compiled_for(execution.definition_id)
    graph = compiled.graph
    runs = NodeRun.objects.filter(execution=execution)
    if node_id is None:
        last = runs.exclude(finish_seq=None).order_by("-finish_seq").values_list("node_id", flat=True).first()
        node_id = last
    if node_id is None:
        visible, vars_state = [], VarState()
    else:
        if node_id not in graph.nodes:
            raise KeyError(node_id)
        visible = graph.ancestors(node_id) + [node_id]
        pointer = runs.filter(node_id=node_id).values_list("vars_from", flat=True).first()
        vars_state = VarState()
        if pointer:
            vars_state = VarState.from_dict(runs.filter(node_id=pointer).values_list("vars_state", flat=True).first())
    entries = load_node_entries(execution.pk, visible, resolve_outputs=False)
    nodes = {nid: entry for nid, entry in entries.items() if entry["status"] != N.PENDING}
    info = {
        "id": str(execution.pk),
        "workflow_id": str(execution.workflow_id) if execution.workflow_id else None,
        "trigger": execution.trigger,
        "started_at": execution.started_at.isoformat() if execution.started_at else None,
    }
    return node_id, build_context(info, execution.input, vars_state.values, nodes)


def context_diff(execution, node_id):
    """What `node_id` changed in the context, as JSON Patch operations (RFC 6902).

    Computed from the node's own row: its entry under /nodes, and the variables whose
    recorded writer is this node (a write, or a merge at a join)."""
    if node_id not in compiled_for(execution.definition_id).graph.nodes:
        raise KeyError(node_id)
    run = NodeRun.objects.filter(execution=execution, node_id=node_id).first()
    if run is None or run.status == N.PENDING:
        return []
    entry = {"output": run.output, "status": run.status}
    if run.error:
        entry["error"] = run.error
    patch = [{"op": "add", "path": f"/nodes/{node_id}", "value": entry}]
    if run.vars_from == node_id and run.vars_state:
        state = VarState.from_dict(run.vars_state)
        for key, writer in state.writers.items():
            if writer != node_id:
                continue
            path = "/vars/" + key.replace("~", "~0").replace("/", "~1")
            if key in state.values:
                patch.append({"op": "add", "path": path, "value": state.values[key]})
            else:
                patch.append({"op": "remove", "path": path})
    return patch
