"""Partial runs (DEBUGGING.md): run from a node with what an earlier execution left before it, and/or
only up to some nodes. engine.policy.partial_plan says which nodes run, are reused or skipped; this
module checks the earlier execution and writes the new one's runs as that plan says, in the
transaction that creates it (starting.start_execution's `plan`)."""

from engine import policy
from engine.states import NodeStatus
from executions import outputs
from executions.models import Execution, ExecutionEvent, NodeRun

N = NodeStatus

# What an earlier node run hands over to the new execution's run of the same node.
_COPIED = ("status", "attempt", "attempts", "input", "ports", "error", "logs", "worker", "started_at", "finished_at",
           "finish_seq", "vars_state", "vars_from", "resources", "pinned")


class PartialRunRefused(ValueError):
    """The partial run cannot be made as asked; `field` names the request's field at fault."""

    def __init__(self, message, field):
        super().__init__(message)
        self.field = field


def earlier_execution(execution_id, workflow):
    """The execution a run from `start_at` reuses: one of this workflow's (hence its owner's)."""
    execution = Execution.objects.filter(pk=execution_id).only("pk", "workflow_id", "owner_id", "input").first()
    if execution is None or execution.workflow_id != workflow.pk or execution.owner_id != workflow.owner_id:
        raise PartialRunRefused(f"execution {execution_id} is not an execution of this workflow", "from_execution")
    return execution


def check_nodes(graph, start_at, stop_after, field="stop_after"):
    """PartialRunRefused when `start_at` or a `stop_after` node (or breakpoint: `field`) is not in the document."""
    if start_at is not None and start_at not in graph.nodes:
        raise PartialRunRefused(f"start_at: the draft has no node {start_at!r}", "start_at")
    for node_id in stop_after:
        if node_id not in graph.nodes:
            raise PartialRunRefused(f"{field}: the document has no node {node_id!r}", field)


def planner(graph, *, earlier=None, start_at=None, stop_after=()):
    """The `plan` start_execution applies; PartialRunRefused when the earlier execution lacks a node
    the run needs (checked now, before anything is written)."""
    check_nodes(graph, start_at, stop_after)
    plan = policy.partial_plan(graph, start_at, stop_after)
    earlier_runs = {}
    if start_at is not None:
        earlier_runs = {run.node_id: run for run in NodeRun.objects.filter(execution=earlier, node_id__in=plan.reused)}
        for node_id in sorted(plan.needed, key=graph.order.index):
            run = earlier_runs.get(node_id)
            if run is None:
                raise PartialRunRefused(f"execution {earlier.pk} has no run of node {node_id!r}, which {start_at!r} "
                                        "needs: run the workflow in full first", "from_execution")
            if not policy.reusable(run.status, run.ports):
                raise PartialRunRefused(f"node {node_id!r} was {run.status} in execution {earlier.pk}, and "
                                        f"{start_at!r} needs it: run from it instead", "start_at")

    def apply(transition):
        """Write the reused and skipped runs; True when the plan queued the run's first nodes itself."""
        for node_id in graph.order:
            if node_id in plan.skipped or (node_id in plan.reused and node_id not in earlier_runs):
                transition.set_node(transition.run(node_id), N.SKIPPED)
        if start_at is None:
            return False
        reused = [node_id for node_id in graph.order if node_id in earlier_runs]
        for node_id in reused:
            _reuse(transition, transition.run(node_id), earlier_runs[node_id], earlier.pk)
        for node_id in reused:
            transition.resolve(node_id, earlier_runs[node_id].ports if earlier_runs[node_id].status != N.SKIPPED
                               else ())
        start = transition.run(start_at)
        if start.status == N.PENDING and not graph.predecessors(start_at):
            transition.queue_node(start_at)
        return True

    return apply


def _reuse(transition, run, earlier_run, earlier_id):
    """The node's run as the earlier execution left it, its output copied under the new execution."""
    for name in _COPIED:
        setattr(run, name, getattr(earlier_run, name))
    output = outputs.resolve(earlier_run.output, earlier_id)
    run.output = outputs.store_if_large(transition.execution.pk, f"{run.node_id}-reused", output)
    run.reused_from = str(earlier_id)
    transition.recorded[run.node_id] = {"output": output, "status": run.status}
    transition.event(ExecutionEvent.NODE_STATE_CHANGED, run.node_id, status=run.status, previous=N.PENDING,
                     attempt=run.attempt, ports=list(run.ports or ()), reused_from=str(earlier_id))
