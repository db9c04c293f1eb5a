"""Claiming: a queued node run is marked running in one worker, with what it needs to execute.

A claim is the CLAIM rule of engine.policy under the execution's lock: a late or
duplicate delivery finds the run no longer queued and is ignored. The node's input — the
taken predecessors and the variables they leave (merged at a join) — is gathered here,
so executing needs no database but for the outputs it reads."""

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings

from engine import policy
from engine.context import Branch, MergeConflict, VarState, merge_branches
from engine.errors import PERMANENT, NodeError
from engine.scheduling import taken_sources
from engine.states import ExecutionStatus, NodeStatus
from executions.compiled import CompiledWorkflow
from executions.contexts import execution_info
from executions.leases import lease_seconds
from executions.models import Execution

logger = logging.getLogger("nodeflow.engine")

E, N = ExecutionStatus, NodeStatus

_UNREAD = object()


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
    try_number: int = 1  # engine.policy.try_number: attempts lost to the infrastructure do not count


def execution_input(execution):
    """The execution's input: loaded with the execution's row, or read now."""
    if "input" not in execution.get_deferred_fields():
        return execution.input
    return Execution.objects.filter(pk=execution.pk).values_list("input", flat=True).get()


def claim(transition, node_id, worker, input_data=_UNREAD):
    """Mark a queued node run running in `worker`; its Prepared, or None when it may not run.

    `input_data` is the execution's input when the caller has it already."""
    run = transition.run(node_id)
    execution = transition.execution
    if not policy.may_claim(run.status, execution.status):
        logger.info("node %s of %s is %s: delivery ignored", node_id, execution.pk, run.status)
        return None
    if policy.START.applies_to(execution.status):
        transition.set_execution(policy.START.to_state)
    upstream, vars_state, vars_from, merged, merge_error = _incoming_vars(transition, node_id)
    edited = policy.vars_edit_for(execution.debug, node_id)
    if edited:  # vars changed while a debug run was paused before this node (executions.debugging)
        vars_state, vars_from, merged = vars_state.apply(node_id, edited), node_id, True
    run.attempt += 1
    now = transition.now()
    transition.set_node(
        run,
        policy.CLAIM.to_state,
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
    prepared = Prepared(
        execution_id=str(execution.pk),
        node_id=node_id,
        attempt=run.attempt,
        compiled=transition.compiled,
        execution_info=execution_info(execution),
        input_data=execution_input(execution) if input_data is _UNREAD else input_data,
        vars_state=vars_state,
        upstream=upstream,
        owner_id=execution.owner_id,
        merge_error=merge_error,
        try_number=policy.try_number(run.attempts),
    )
    transition.claimed.append(prepared)
    return prepared


def claim_local(transition, worker, input_data=_UNREAD):
    """Claim the just-queued nodes that run in this process (instant ones) instead of sending them."""
    execution = transition.execution
    compiled = transition.compiled
    if not policy.may_claim(N.QUEUED, execution.status):
        return []
    # At most LOCAL_RUN_BATCH of them: a very wide fan-out sends the rest to the broker, which
    # bounds this transaction and this worker's memory, and lets other workers share the work.
    local = [node_id for node_id in transition.to_start if compiled.runs_locally(node_id)]
    local = local[:settings.NODEFLOW["LOCAL_RUN_BATCH"]]
    if not local:
        return []
    chosen = set(local)
    transition.to_start = [node_id for node_id in transition.to_start if node_id not in chosen]
    transition.load_runs([p for node_id in local for p in compiled.graph.predecessors(node_id)])
    return [prepared for prepared in (claim(transition, node_id, worker, input_data) for node_id in local) if prepared]


def claim_continuation(transition, worker, queue, input_data=_UNREAD):
    """The one node a finish made ready, claimed for this worker to run next (after the commit)
    instead of a trip through the broker to any worker: when it is the only one (a chain, so no
    parallelism is lost), runs on `queue` (that of the node just finished, which this worker
    takes) and has no `timeout_s` (a Celery time limit, which only a task of its own enforces)."""
    compiled = transition.compiled
    if len(transition.to_start) != 1 or not policy.may_claim(N.QUEUED, transition.execution.status):
        return []
    node_id = transition.to_start[0]
    if compiled.runs_locally(node_id) or compiled.queue(node_id) != queue or compiled.timeout_s(node_id):
        return []
    transition.to_start = []
    transition.load_runs(compiled.graph.predecessors(node_id))
    prepared = claim(transition, node_id, worker, input_data)
    return [prepared] if prepared else []


def _incoming_vars(transition, node_id):
    """(taken predecessors, variables before the node, vars_from pointer, merged?, merge error)."""
    graph, compiled = transition.compiled.graph, transition.compiled
    predecessor_ids = graph.predecessors(node_id)
    if not predecessor_ids:
        return [], VarState(), "", False, None
    predecessors = {run.node_id: run for run in transition.load_runs(predecessor_ids)}
    taken = taken_sources(
        graph, node_id, {p: (run.status, run.ports) for p, run in predecessors.items()}, compiled.join_mode(node_id),
        finish_order={p: run.finish_seq for p, run in predecessors.items()},
    )
    pointers = {predecessors[p].vars_from for p in taken}
    if len(pointers) == 1:
        pointer = pointers.pop()
        return taken, _load_var_state(transition, pointer), pointer, False, None
    branches = [
        Branch(source=p, state=_load_var_state(transition, predecessors[p].vars_from),
               finish_order=predecessors[p].finish_seq or 0)
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
