"""Finishing: how a node run ended is recorded, and the execution moves on.

What follows an outcome is engine.policy's decision (retry, continue, route or fail after
an error; wait; complete and resolve the outgoing edges); this module writes it in one
transaction per batch of finished runs. Large outputs are written to files before the
execution's lock is taken, so a slow disk never holds the lock — except those of instant
nodes run inside a finish (_run_here), which LOCAL_RUN_BUDGET_S bounds."""

import logging
import time
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DataError, IntegrityError, transaction

from engine import globals as g
from engine import policy
from engine.errors import PERMANENT, TRANSIENT, NodeError
from engine.jsonsafe import NotStorable, storable
from engine.states import EXECUTION_FINAL, ExecutionStatus, NodeStatus
from executions import children, outputs
from executions.claiming import claim, claim_continuation, claim_local
from executions.models import ExecutionEvent
from executions.transition import Transition
from nodes.registry import NodeResult
from variables import services as variables

logger = logging.getLogger("nodeflow.engine")

E, N = ExecutionStatus, NodeStatus

# Whether a loop's iteration that ends in a worker may start the next one there (_start_here). Not in a
# process that runs one task at a time (a prefork child, nodeflow.celery): there the iterations run one
# after the other would hold the messages it has prefetched, another execution's among them, for up to
# LOCAL_RUN_BUDGET_S; a thread of a threads pool holds up only itself.
HAND_OFF_ITERATIONS = True


@dataclass
class Outcome:
    """How a node run ended, as the finish transaction records it."""

    result: NodeResult | None = None
    error: NodeError | None = None
    params: dict | None = None
    logs: list = field(default_factory=list)
    started_at: datetime | None = None
    resources: dict | None = None  # what the run used (executing.resources_of)
    pinned: bool = False  # completed with the document's pinned output, without running

    @property
    def status(self):
        if self.error is not None:
            return "failed"
        return "waiting" if self.result.wait is not None else "completed"


def finish_node(prepared, outcome, *, dispatcher):
    """Record how the node run ended and move the execution on."""
    finish_nodes([(prepared, outcome)], dispatcher=dispatcher)


def finish_nodes(finished, *, dispatcher, worker=None, execute=None, deadline=None):
    """Record how node runs of one execution ended, in one transaction, and move the execution on.

    With `worker`, the instant nodes this makes ready are claimed for that worker in the same
    transaction. With `execute` (how executing runs a node) they also run in it, and the ones they make
    ready, until none is left or `deadline` (time.monotonic) passes: a chain of instant nodes costs
    one transaction, its runs and events written together. What is claimed and not run yet is
    returned (claiming.Prepared), to run here after the commit.
    A result the database refuses fails its node (through on_error) instead of the task."""
    stored = [(prepared, _stored(prepared, outcome)) for prepared, outcome in finished]
    try:
        return _record(stored, dispatcher, worker, execute, deadline)
    except (DataError, IntegrityError) as exc:
        if execute is not None:  # it may be an instant node run inside: record without running them
            return finish_nodes([(prepared, result.outcome) for prepared, result in stored], dispatcher=dispatcher,
                                worker=worker)
        if len(stored) > 1:  # find the one the database refused: record them one by one
            claimed = []
            for one in stored:
                claimed += finish_nodes([(one[0], one[1].outcome)], dispatcher=dispatcher, worker=worker)
            return claimed
        prepared, result = stored[0]
        logger.warning("the result of %s of %s could not be stored: %s", prepared.node_id, prepared.execution_id, exc)
        error = NodeError(f"the node's result could not be stored: {type(exc).__name__}", PERMANENT,
                          code="result_not_stored")
        return _record([(prepared, _stored(prepared, _failed(result.outcome, error)))], dispatcher, worker)


@dataclass
class _Stored:
    """An outcome with its payloads made storable, and those too large to keep inline written to files."""

    outcome: Outcome
    params: object
    output: object


def _failed(outcome, error):
    return replace(outcome, result=None, error=error)


def _stored(prepared, outcome):
    """The outcome ready to record: JSON the databases take (engine.jsonsafe), and payloads
    over the inline limit written to files now, before any lock."""
    key = f"{prepared.node_id}-{prepared.attempt}"
    params = outcome.params
    if not _already_storable(outcome):  # rare: then each payload is made storable, or refused, on its own
        params, outcome = _made_storable(outcome)
    output = None
    if outcome.error is None and outcome.result.wait is None:
        output = outputs.store_if_large(prepared.execution_id, key, outcome.result.output)
    return _Stored(outcome, outputs.store_if_large(prepared.execution_id, f"{key}-input", params), output)


def _already_storable(outcome):
    """Whether every payload of the outcome is storable as it is: one encoding of them all, the
    common case on every node's finish."""
    result, error = outcome.result, outcome.error
    payloads = [outcome.params, outcome.logs]
    if result is not None:
        payloads += [result.output, result.vars] + ([result.result, result.artifacts] if result.sets_result else [])
    if error is not None:
        payloads += [error.details, error.message]
    try:
        return storable(payloads) is payloads
    except NotStorable:
        return False


def _made_storable(outcome):
    """(params, outcome) with each payload made storable; a result that cannot be fails the node."""
    try:
        params = storable(outcome.params, "the node's parameters")
    except NotStorable:
        params = None  # what the node was given is a record only: the node's own result decides
    try:
        if outcome.result is not None:
            result = outcome.result
            result.output = storable(result.output, "the output")
            result.vars = storable(result.vars, "the variables written")
            if result.sets_result:
                result.result = storable(result.result, "the result")
                result.artifacts = storable(result.artifacts, "the artifacts")
        if outcome.error is not None:
            outcome.error.details = storable(outcome.error.details, "the error's details")
            outcome.error.message = storable(outcome.error.message, "the error's message")
        outcome.logs = storable(outcome.logs, "the logs")
    except NotStorable as exc:
        error = NodeError(str(exc), PERMANENT, code="result_not_storable", details={"path": exc.path})
        outcome = replace(_failed(outcome, error), logs=[])
    return params, outcome


def _record(stored, dispatcher, worker, execute=None, deadline=None):
    with transaction.atomic():
        # The nodes and the successors whose join counters they move load with the lock.
        first = stored[0][0]
        graph = first.compiled.graph
        node_ids = [prepared.node_id for prepared, _ in stored]
        whole = first.compiled.loads_whole  # all of them: then nothing else is read (Transition.all_loaded)
        if whole:
            wanted = ()
        elif execute is not None and worker:  # and what the instant nodes run here may touch
            wanted = _instant_reach(first.compiled, node_ids)
        else:
            wanted = node_ids + [s for node_id in node_ids for s in graph.successors(node_id)]
        transition = Transition(first.execution_id, dispatcher, node_ids=wanted, whole=whole)
        for prepared, result in stored:
            _record_finish(transition, prepared, result)
        # The input goes on to the nodes claimed here (it never changes; nodes only read it).
        claimed = claim_local(transition, worker, first.input_data) if worker else []
        if execute is not None:
            # A chain of code or HTTP nodes goes on in this worker, without the broker: its contained
            # nodes (code) inside this transaction while the budget lasts, the next one after the commit.
            queue = first.compiled.queue(first.node_id) if worker else None
            claimed = _run_here(transition, claimed, execute, deadline, worker, first.input_data, queue=queue)
            if (worker and not claimed and HAND_OFF_ITERATIONS
                    and transition.execution.parent_index is not None):  # a loop's iteration: it may start the next
                transition.start_here = _start_here(worker, execute, deadline, queue)
        transition.settle()
        transition.flush()
    return claimed or transition.handed


def claim_and_run(execution_id, node_ids, *, dispatcher, worker, execute=None, deadline=None, whole=False):
    """Claim queued node runs of one execution in one transaction (claiming.claim); with `execute`,
    the instant ones among them run at once in the same transaction, with what they make ready
    (see _run_here): a delivery of an instant node costs one transaction.

    `whole`: the delivery says the workflow is small (dispatch.Start.whole): every node run is loaded
    with the lock, in its round trip.

    Returns (whether anything was claimed, the claimed node runs left to execute after the commit)."""
    with transaction.atomic():
        transition = Transition(execution_id, dispatcher, node_ids=node_ids, with_input=True, whole=whole)
        if not policy.may_claim(N.QUEUED, transition.execution.status):
            return False, []
        compiled = transition.compiled
        # Their predecessors (whose ports and variables decide their input) and what the instant
        # ones may touch, in one round trip (or from the rows read with the lock, when the delivery
        # said the workflow is small).
        predecessors = [p for node_id in node_ids for p in compiled.graph.predecessors(node_id)]
        transition.load_runs(list(dict.fromkeys([*predecessors, *_instant_reach(compiled, list(node_ids))])))
        claimed = [prepared for prepared in (claim(transition, node_id, worker) for node_id in node_ids) if prepared]
        here = execute is not None
        instant = [prepared for prepared in claimed if here and compiled.runs_locally(prepared.node_id)]
        later = [prepared for prepared in claimed if prepared not in instant]
        if instant:
            later += _run_here(transition, instant, execute, deadline, worker, claimed[0].input_data)
        transition.settle()
        transition.flush()
    return bool(claimed), later


def _run_here(transition, claimed, execute, deadline, worker, input_data, queue=None):
    """Run claimed instant nodes inside the transaction, and those they make ready, until none is
    left or the deadline passes; what is claimed and not run is returned.

    With `queue` (that of the node a worker finished), a chain goes on here too (claim_continuation):
    the one node made ready, on `queue`, is claimed for this worker, and runs inside the transaction
    as well when it is contained (a code node) and the deadline leaves it time; otherwise it is
    returned, to run after the commit.

    They hold the execution's lock while they run: instant nodes take microseconds, a contained node
    at most LOCAL_RUN_CONTAINED_MS (one that needs longer is stopped, runs after the commit, and is not
    run inside a transaction of this process again), and the deadline bounds the rest. A worker that
    dies meanwhile rolls the whole transaction back, so what ran here is run again, as for a worker
    lost during any finish: that is why only nodes that reach nothing outside run here."""
    later = []
    while True:
        if not claimed and queue is not None and not later:
            claimed = claim_continuation(transition, worker, queue, input_data)
            if not claimed or _here_ms(transition, claimed[0], deadline) is None:
                return later + claimed
        if not claimed or time.monotonic() >= deadline:
            return later + claimed
        # What a claim left queued (more than LOCAL_RUN_BATCH at once, or not instant) is sent to
        # the broker after the commit, where other workers share it; only what the nodes run here
        # make ready is claimed next.
        sent, transition.to_start = transition.to_start, []
        done = []
        for prepared in claimed:
            if transition.compiled.runs_locally(prepared.node_id):
                done.append((prepared, _stored(prepared, execute(prepared, transition.recorded))))
                continue
            here_ms = _here_ms(transition, prepared, deadline)
            outcome = execute(prepared, transition.recorded, here_ms) if here_ms is not None else None
            if outcome is None:  # no time left for it, or it needs longer: it runs after the commit
                if here_ms is not None:
                    transition.compiled.not_here.add(prepared.node_id)
                later.append(prepared)
            else:
                done.append((prepared, _stored(prepared, outcome)))
        # By identity: a Prepared compares field by field, and a wide fan-out claims a thousand of them.
        ran = {id(prepared) for prepared, _ in done}
        transition.claimed = [prepared for prepared in transition.claimed if id(prepared) not in ran]
        for prepared, result in done:
            _record_finish(transition, prepared, result)
        claimed = claim_local(transition, worker, input_data)
        transition.to_start = sent + transition.to_start


# The least wall time a contained node is given inside a transaction (a sandbox run's floor,
# sandbox.limits.MINIMA): with less of the budget left, it runs after the commit.
CONTAINED_MIN_MS = 50


def _here_ms(transition, prepared, deadline):
    """How long a node that is not instant may run inside the transaction (None: it may not run there)."""
    compiled, node_id = transition.compiled, prepared.node_id
    if not compiled.node_types[node_id].contained or node_id in compiled.not_here:
        return None
    here_ms = min(settings.NODEFLOW["LOCAL_RUN_CONTAINED_MS"], int((deadline - time.monotonic()) * 1000))
    return here_ms if here_ms >= CONTAINED_MIN_MS else None


def _start_here(worker, execute, deadline, queue):
    """How a child execution being created (executions.children, a loop's next iteration started
    by the end of the one before) starts in this worker instead of through the broker: its start
    node runs in the creating transition, and the one node that follows is claimed to run here
    next, as claim_continuation does within one execution. Only when the start node is instant and
    everything after it is not, so that the child cannot end inside its parent's child's end."""

    def start(transition):
        compiled, node_id = transition.compiled, transition.execution.trigger_node
        successors = compiled.graph.successors(node_id)
        if not successors or any(compiled.runs_locally(successor) for successor in successors):
            return []
        prepared, left = run_start_here(transition, worker, execute, deadline)
        if prepared is None:
            return []
        if left:  # the budget ran out before the start node ran: it runs here after the commit
            return left
        return claim_continuation(transition, worker, queue, prepared.input_data)

    return start


def run_start_here(transition, worker, execute, deadline):
    """Run the start node of an execution being created (`transition`, Transition.creating) in it,
    when it is instant and queued, with the instant nodes it makes ready: (its Prepared, or None when
    it did not run here; the instant runs claimed and not run when `deadline` passed, to run after the
    commit). What is not instant stays queued, sent after the commit."""
    compiled, node_id = transition.compiled, transition.execution.trigger_node
    if time.monotonic() >= deadline or node_id not in transition.to_start or not compiled.runs_locally(node_id):
        return None, []
    transition.to_start.remove(node_id)
    prepared = claim(transition, node_id, worker)
    if prepared is None:
        transition.to_start.append(node_id)
        return None, []
    left = _run_here(transition, [prepared], execute, deadline, worker, prepared.input_data)
    return prepared, left


def _instant_reach(compiled, node_ids, limit=2000):
    """`node_ids` and the nodes reachable from them through instant nodes: what a run of instant
    nodes from there may change, loaded with the execution's lock in one round trip.

    The predecessors of a join are left out: claiming the join loads those it lacks, once, where
    loading them here would cost every finish of a wide fan-out a read of the whole fan-out."""
    graph = compiled.graph
    seen, frontier = dict.fromkeys(node_ids), list(node_ids)
    while frontier and len(seen) < limit:
        for successor in graph.successors(frontier.pop()):
            if successor not in seen:
                seen[successor] = None
                if compiled.runs_locally(successor):
                    frontier.append(successor)
    return list(seen)


def _record_finish(transition, prepared, stored):
    outcome = stored.outcome
    run = transition.run(prepared.node_id)
    if not policy.accepts_result(run.status, run.attempt, prepared.attempt):
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
        "resources": outcome.resources,
        "lease_expires_at": None,
        "input": stored.params,
        "logs": (run.logs or []) + outcome.logs,
        "attempts": (run.attempts or []) + [attempt_record],
    }
    if outcome.pinned:
        common["pinned"] = True
    if outcome.logs:
        transition.event(ExecutionEvent.LOG, run.node_id, lines=outcome.logs[:200], count=len(outcome.logs))
    if outcome.error is None and outcome.result.wait is None and outcome.result.globals:
        outcome = _write_globals(prepared, outcome)
        attempt_record["error"] = outcome.error.as_dict() if outcome.error else None
    if outcome.error is not None:
        _finish_failed(transition, prepared, run, outcome.error, now, common)
    elif outcome.result.wait is not None and outcome.result.wait.children is not None:
        _finish_composite(transition, prepared, run, outcome.result.wait.children, now, common)
    elif outcome.result.wait is not None:
        _finish_waiting(transition, run, outcome.result.wait, common)
    else:
        _finish_completed(transition, prepared, run, outcome.result, stored.output, now, common)


def _write_globals(prepared, outcome):
    """The node's writes of global variables, applied in this transaction (a savepoint: a refused
    write leaves nothing behind); a conflict or an op that does not apply fails the node instead."""
    if prepared.owner_id is None:
        return _failed(outcome, NodeError("global variables belong to an owner, and this execution has none",
                                          PERMANENT, code="global_write"))
    try:
        with transaction.atomic():
            variables.write(prepared.owner_id, outcome.result.globals, execution_id=prepared.execution_id,
                            node_id=prepared.node_id)
    except g.GlobalConflict as exc:
        # A compare_and_set's stale version is the node's own condition; an optimistic write's
        # (a code node's set of a key it read) is a race that a retry, reading again, resolves.
        optimistic = any(w.key == exc.key and w.op == g.SET for w in outcome.result.globals)
        return _failed(outcome, NodeError(str(exc), TRANSIENT if optimistic else PERMANENT, code="conflict", details={
            "key": exc.key, "expected_version": exc.expected, "version": exc.actual}))
    except (g.GlobalOpError, variables.InvalidValue) as exc:
        return _failed(outcome, NodeError(str(exc), PERMANENT, code="global_write"))
    return outcome


def _finish_completed(transition, prepared, run, result, output, now, common):
    fields = dict(common, output=output, ports=list(result.ports), finished_at=now, error=None)
    if result.vars or result.deleted_vars:
        state = prepared.vars_state.apply(run.node_id, result.vars, result.deleted_vars)
        fields.update(vars_state=state.as_dict(), vars_from=run.node_id)
    fields["finish_seq"] = transition.execution.last_seq + 1
    transition.set_node(run, N.COMPLETED, event_data={"ports": list(result.ports)}, **fields)
    transition.recorded[run.node_id] = {"output": result.output, "status": N.COMPLETED}
    transition.event(ExecutionEvent.DATA_AVAILABLE, run.node_id, ports=list(result.ports), has_output=result.output is not None)
    if result.sets_result:
        transition.set_execution(result=result.result, artifacts=result.artifacts)
    transition.resolve(run.node_id, result.ports)


def _finish_failed(transition, prepared, run, error, now, common):
    error_dict = error.as_dict()
    error_dict["node_id"] = run.node_id
    transition.event(ExecutionEvent.ERROR_OCCURRED, run.node_id, error=error_dict, attempt=run.attempt)
    decision = policy.after_failure(prepared.compiled.graph.node(run.node_id), run.attempt, error.error_class)
    rule, ports = decision.rule, list(decision.ports)
    if rule is policy.RETRY:
        retry_at = now + timedelta(seconds=decision.retry_delay_s)
        common["attempts"][-1]["retry_in_s"] = round(decision.retry_delay_s, 3)
        transition.set_node(run, rule.to_state, event_data={"error": error_dict, "retry_at": retry_at.isoformat()},
                            error=error_dict, task_id=uuid.uuid4().hex, due_at=_timer_due(retry_at), **common)
        transition.to_wake.append((run.node_id, retry_at, "retry"))
        return
    fields = dict(common, ports=ports, finished_at=now, error=error_dict, finish_seq=transition.execution.last_seq + 1)
    event_data = {"ports": ports, "error": error_dict} if ports else {"error": error_dict}
    if rule is policy.CONTINUE:
        fields["output"] = {"error": error_dict}
    elif rule is policy.ROUTE:
        fields["output"] = None
    transition.set_node(run, rule.to_state, event_data=event_data, **fields)
    transition.recorded[run.node_id] = {"output": fields.get("output"), "status": rule.to_state, "error": error_dict}
    if decision.fails_execution:
        transition.fail_execution({"node_id": run.node_id, **error.as_dict()})
    else:
        transition.resolve(run.node_id, decision.ports)


def _finish_waiting(transition, run, wait, common):
    spec = {
        "until": wait.until.isoformat() if wait.until else None,
        "input": wait.wants_input,
        "schema": wait.input_schema,
    }
    due_at = _timer_due(wait.until) if wait.until is not None else None
    transition.set_node(run, N.WAITING, event_data={"wait": spec}, wait=spec, due_at=due_at, **common)
    if wait.until is not None:
        transition.to_wake.append((run.node_id, wait.until, "timer"))


def _finish_composite(transition, prepared, run, child_runs, now, common):
    """A composite node asked for child executions (executions.children): it waits for them, or
    completes at once when there is nothing to wait for, or fails when they cannot run."""
    try:
        outcome = children.spawn(transition, run, child_runs)
    except NodeError as error:
        _finish_failed(transition, prepared, run, error, now, common)
        return
    if outcome[0] == "wait":
        transition.set_node(run, N.WAITING, event_data={"wait": {"children": outcome[1]["children"]}},
                            wait=outcome[1], due_at=None, **common)
        return
    _kind, output, ports = outcome
    stored = outputs.store_if_large(prepared.execution_id, f"{prepared.node_id}-{prepared.attempt}", output)
    _finish_completed(transition, prepared, run, NodeResult(output=output, ports=tuple(ports)), stored, now, common)


def _timer_due(at):
    """When recovery fires a timer due `at` whose message never came."""
    return at + timedelta(seconds=settings.NODEFLOW["RECOVER_TIMER_GRACE_S"])
