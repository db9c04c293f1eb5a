"""Reading contexts: the `nodes` entries a running node reads, and the whole context after a
node (or what it changed) for the API. Reads only; nothing here takes the execution's lock."""

from engine.context import VarState, build_context
from engine.states import NodeStatus
from executions import outputs, store
from executions.compiled import compiled_for
from executions.models import NodeRun

N = NodeStatus


def execution_info(execution):
    """The `execution` part of a context."""
    return {
        "id": str(execution.pk),
        "workflow_id": str(execution.workflow_id) if execution.workflow_id else None,
        "trigger": execution.trigger,
        "started_at": execution.started_at.isoformat() if execution.started_at else None,
    }


def load_node_entries(execution_id, node_ids, resolve_outputs=True):
    """{node id: {"output", "status"}} for the context's `nodes`; with resolve_outputs=False a large
    output stays a reference with a preview (what the API serves unless asked for the full output)."""
    entries = {}
    for node_id, output, status, error in store.entry_rows(execution_id, node_ids):
        entry = {"output": outputs.resolve(output, execution_id) if resolve_outputs else output, "status": status}
        if error:
            entry["error"] = error
        entries[node_id] = entry
    return entries


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
    return node_id, build_context(execution_info(execution), execution.input, vars_state.values, nodes)


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
