"""Helpers for node tests: build small workflow documents and run them for real."""

from executions.inline import run_inline
from executions.models import NodeRun


def workflow(nodes, edges=None, **settings):
    """A document with a manual trigger `start`; without `edges`, the nodes form a chain after it."""
    nodes = [{"id": "start", "type": "trigger.manual"}, *nodes]
    if edges is None:
        edges = [{"from": a["id"], "to": b["id"]} for a, b in zip(nodes, nodes[1:])]
    document = {"api_version": "nodeflow/v1", "name": "node test", "nodes": nodes, "edges": edges}
    if settings:
        document["settings"] = settings
    return document


def node(node_id, type_, **params):
    return {"id": node_id, "type": type_, "params": params}


def run(document, input_data=None):
    """Run the workflow inline against the database; returns (execution, {node id: NodeRun})."""
    execution = run_inline(document, input_data=input_data or {})
    return execution, runs_of(execution)


def runs_of(execution):
    return {run.node_id: run for run in NodeRun.objects.filter(execution=execution)}


def log_text(run):
    return "\n".join(entry["message"] for entry in run.logs)
