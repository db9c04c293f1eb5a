"""Rebuild an execution's state from its event log alone (ENGINE.md Observability)."""

from executions.models import ExecutionEvent


def rebuild_state(events):
    """{"status", "result", "error", "nodes": {node_id: {"status", "attempt", "ports"}}} from events in seq order."""
    state = {"status": "queued", "result": None, "error": None, "nodes": {}}
    expected_seq = 1
    for event in events:
        if event.seq != expected_seq:
            raise ValueError(f"event log has a gap: expected seq {expected_seq}, found {event.seq}")
        expected_seq += 1
        data = event.data
        if event.type in (ExecutionEvent.STARTED, ExecutionEvent.STATE_CHANGED):
            state["status"] = data["status"]
        elif event.type == ExecutionEvent.COMPLETED:
            state.update(status=data["status"], result=data.get("result"), error=data.get("error"))
        elif event.type == ExecutionEvent.NODE_STATE_CHANGED:
            node = state["nodes"].setdefault(event.node_id, {"status": "pending", "attempt": 0, "ports": []})
            node["status"] = data["status"]
            node["attempt"] = data.get("attempt", node["attempt"])
            if "ports" in data:
                node["ports"] = data["ports"]
    return state


def stored_state(execution):
    """The same shape as rebuild_state, read from the execution and node-run rows."""
    nodes = {}
    for node_id, status, attempt, ports in execution.node_runs.values_list("node_id", "status", "attempt", "ports"):
        if status != "pending":
            nodes[node_id] = {"status": status, "attempt": attempt, "ports": ports or []}
    return {"status": execution.status, "result": execution.result, "error": execution.error, "nodes": nodes}
