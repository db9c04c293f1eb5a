"""The unit of work of the engine: every change to one execution happens inside a Transition.

Creating a Transition locks the execution row, so the changes of one execution are
serialised (joins fire exactly once, event sequence numbers have no gaps). It keeps the
node runs it loaded and changed, the events it appended and the messages to send;
`flush()` writes them through executions.store (the only module that writes SQL) and
hands the messages to the dispatcher after commit. What to change is decided by the
policy in engine/ (engine.policy, engine.scheduling); this module applies it."""

import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone as dj_timezone

from engine import policy
from engine.errors import CANCELLED
from engine.scheduling import JOIN_FIRST, JoinState, first_join_losers, propagate
from engine.states import (
    EXECUTION_FINAL,
    NODE_OPEN,
    ExecutionStatus,
    NodeStatus,
    check_execution_transition,
    check_node_transition,
)
from executions import limits, live, store, tracing
from executions.compiled import compiled_for
from executions.dispatch import send, start_of, when_committed
from executions.models import ExecutionEvent, NodeRun

logger = logging.getLogger("nodeflow.engine")

E, N = ExecutionStatus, NodeStatus

# What the end of a child execution does in its last transaction: `result(transition)` gives a
# body without a flow.terminal its result, `ended(transition)` moves the parent's node;
# `cancelled(transition, node_id, reason)` cancels the children of a composite node cancelled here.
# executions.children, which builds on this module, installs them when it is imported
# (executions.apps.ready).
child_hooks = None


class Transition:
    """The changes made to one execution inside one transaction.

    Creating it locks the execution row; `flush()` writes the node runs it changed,
    the events it appended (consecutive `seq`) and the execution, and registers the
    dispatches to happen after commit."""

    def __init__(self, execution_id, dispatcher, node_ids=(), with_input=False, whole=False):
        """Lock the execution and load the node runs `node_ids`, or all of them (`whole`): one round trip
        on PostgreSQL."""
        execution, runs, rows = store.lock_and_load(execution_id, node_ids, with_input, whole)
        self._setup(execution, dispatcher)
        self.runs.update(runs)
        self._rows = rows  # {node id: row} of the other runs read with the lock (`whole`), made runs when needed

    @classmethod
    def creating(cls, execution, runs, dispatcher, compiled=None, definition=None):
        """The transition that creates `execution` and its node runs (both unsaved): flush() inserts them,
        with `definition` (Definition.of) unless it is stored already."""
        transition = cls.__new__(cls)
        transition._setup(execution, dispatcher, compiled)
        transition.runs = {run.node_id: run for run in runs}
        transition._creating = True
        transition._definition = definition
        return transition

    def _setup(self, execution, dispatcher, compiled=None):
        self.execution = execution
        self._creating = False
        self._ended = False  # the execution ended here: flush releases held runs (executions.limits)
        self._child_ended = False
        self.dispatcher = dispatcher
        self.compiled = compiled or compiled_for(self.execution.definition_id)
        self.events = []
        self.runs = {}
        self._rows = {}
        self._dirty_runs = {}
        self._dirty_execution = set()
        self.to_start = []
        self.to_wake = []  # (node_id, eta, reason): "timer" wakes a waiting node, "retry" runs it again
        self.to_revoke = []  # task ids of queued or running node runs that were cancelled
        self.claimed = []  # node runs claimed here to run in this process (claiming.Prepared)
        # {node id: its context entry} of the node runs finished in this transaction, not written yet:
        # what a node run inside it reads (executions.finishing._run_here).
        self.recorded = {}
        # How a child execution this transition starts may start in this worker (finishing._start_here),
        # and the node runs of another execution claimed that way, to run here after the commit.
        self.start_here = None
        self.handed = []

    # -- loading

    def run(self, node_id):
        run = self.runs.get(node_id)
        if run is None:
            self._fetch([node_id])
            run = self.runs.get(node_id)
            if run is None:
                raise NodeRun.DoesNotExist(f"no node run {node_id!r} in execution {self.execution.pk}")
        return run

    def load_runs(self, node_ids):
        self._fetch([node_id for node_id in node_ids if node_id not in self.runs])
        return [self.runs[node_id] for node_id in node_ids]

    def _fetch(self, node_ids):
        """Make runs of `node_ids` (none loaded yet): from the rows read with the lock, the others from the database."""
        missing = []
        for node_id in node_ids:
            row = self._rows.pop(node_id, None)
            if row is not None:
                self.runs[node_id] = store.run_from(row)
            else:
                missing.append(node_id)
        if missing:
            self.runs.update(store.load_runs(self.execution.pk, missing))

    def load_all_runs(self):
        """Every node run of the execution (those loaded already as they are now)."""
        self.load_runs(list(self._rows))
        for run in NodeRun.objects.filter(execution_id=self.execution.pk):
            self.runs.setdefault(run.node_id, run)
        return self.runs

    # -- changing

    def now(self):
        return dj_timezone.now()

    def event(self, type_, node_id="", **data):
        self.execution.last_seq += 1
        self._dirty_execution.add("last_seq")
        event = store.new(ExecutionEvent, execution_id=self.execution.pk, seq=self.execution.last_seq, type=type_,
                          node_id=node_id, ts=self.now(), data=data)
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
                self._ended = True
                if execution.held:  # a held run cancelled before its turn
                    fields.setdefault("held", "")
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
            if execution.parent_id and child_hooks is not None:
                self._child_ended = True
                if status == E.SUCCEEDED:
                    child_hooks.result(self)
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
            if "due_at" not in fields:  # when recovery acts if the broker's message never comes
                recover_after = settings.NODEFLOW["RECOVER_QUEUED_AFTER_S"]
                fields["due_at"] = now + timedelta(seconds=recover_after) if status == N.QUEUED else None
            data = {"status": status, "previous": previous, "attempt": run.attempt}
            if fields.get("resources"):  # a live view totals a run's figures without asking again
                data["resources"] = fields["resources"]
            if event_data:
                data.update(event_data)
            self.event(ExecutionEvent.NODE_STATE_CHANGED, run.node_id, **data)
        for name, value in fields.items():
            setattr(run, name, value)
        self._dirty_runs.setdefault(run.node_id, set()).update(fields)
        self.runs[run.node_id] = run
        self._rows.pop(run.node_id, None)  # a run loaded some other way (cancel_open_nodes): its row is stale
        if status in (N.SKIPPED, N.CANCELLED):  # finished without an output (see `recorded`)
            self.recorded[run.node_id] = {"output": None, "status": status, **({"error": run.error} if run.error else {})}

    def flush(self):
        if self._creating:  # the execution, its node runs as they are now, and the events
            store.insert(self.execution, list(self.runs.values()), self.events, self._definition)
            self._creating = False
        else:
            store.write(self.execution, self._dirty_execution, self.runs, self._dirty_runs, self.events)
        self._dirty_runs, self._dirty_execution = {}, set()
        if self._ended:  # in the same transaction, after the end is written: the next held runs start
            self._ended = False
            limits.release_after(self)
        if self._child_ended:  # in the same transaction, after the child's end is written
            self._child_ended = False
            child_hooks.ended(self)
        execution_id = str(self.execution.pk)
        dispatcher = self.dispatcher
        # A message to another process must wait for the commit, or the worker may not see
        # the rows yet; the inline dispatcher only queues work for this same process.
        after_commit = when_committed(dispatcher)
        # Each send is tried again briefly and, failing that, left to recovery: the rows just
        # written say what is due (NodeRun.due_at), so a lost message delays work, never loses it.
        if self.to_start and self.execution.status != E.PAUSED:  # resume sends them
            starts = [self.start_of(node_id) for node_id in self.to_start]
            after_commit(lambda: send(f"{len(starts)} node run(s) of {execution_id}",
                                      lambda: dispatcher.dispatch(execution_id, starts)))
        for node_id, eta, reason in self.to_wake:
            start = self.start_of(node_id) if node_id else None
            after_commit(lambda s=start, t=eta, r=reason, n=node_id: send(
                f"the {r} of {n or 'execution'} {execution_id}", lambda: dispatcher.dispatch_later(execution_id, n, t, r, s)))
        if self.to_revoke:
            revoke = list(self.to_revoke)
            after_commit(lambda: send(f"the revocation of {len(revoke)} task(s)", lambda: dispatcher.revoke(revoke)))
        if self.events:
            events, workflow_id = list(self.events), self.execution.workflow_id
            transaction.on_commit(lambda: live.broadcast(execution_id, workflow_id, events))

    # -- scheduling

    def queue_node(self, node_id, status=N.QUEUED):
        """Queue the node (or mark it retrying) under a new task id, sent after commit.

        A debug run pauses instead before a node it holds at (engine.policy.holds_at_breakpoint):
        the node waits for step/resume, and nothing is sent."""
        run = self.run(node_id)
        self.set_node(run, status, task_id=uuid.uuid4().hex)
        if status == N.QUEUED and policy.holds_at_breakpoint(self.execution.debug, node_id):
            self.set_node(run, N.WAITING, event_data={"wait": {"reason": policy.BREAKPOINT}},
                          wait={"reason": policy.BREAKPOINT}, due_at=None)
            debug = policy.paused_before(self.execution.debug, [node_id])
            if self.execution.status != E.PAUSED:
                self.set_execution(E.PAUSED, event_data={"paused_at": debug["paused_at"]}, debug=debug)
            else:
                self.set_execution(debug=debug)
            return
        if status == N.QUEUED:
            self.to_start.append(node_id)

    def start_of(self, node_id):
        return start_of(self.compiled, node_id, self.run(node_id).task_id, self.execution.priority)

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
        if run.status == N.WAITING and child_hooks is not None and "children" in (run.wait or {}):
            child_hooks.cancelled(self, run.node_id, reason)  # a composite node's children go with it
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
        here.update(status for status in map(store.row_status, self._rows.values()) if status in NODE_OPEN)
        if self.all_loaded():
            return here
        return here | store.open_statuses(self.execution.pk, NODE_OPEN, exclude=list(self.runs))

    def all_loaded(self):
        """Whether every node run of the execution is loaded here, or read with the lock (a small graph's are)."""
        return len(self.runs) + len(self._rows) >= len(self.compiled.graph.order)

    def settle(self):
        """After the changes: finish the execution when nothing is open, or mark it waiting (engine.policy.settle)."""
        rule = policy.settle(self.execution.status, self.open_statuses, new_work=bool(self.to_start or self.claimed))
        if rule is not None:
            self.set_execution(rule.to_state)

    def fail_execution(self, error, status=E.FAILED):
        self.cancel_open_nodes(f"the execution {'failed' if status == E.FAILED else status.replace('_', ' ')}")
        self.set_execution(status, error=error)


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
