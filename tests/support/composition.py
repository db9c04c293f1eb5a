"""Documents for the composition tests: a workflow, a body with its trigger.group, and a loop of a
body over items whose output is the workflow's result."""

from workflows.services import with_node_versions


def document(nodes, edges, name="t"):
    return with_node_versions({"api_version": "nodeflow/v1", "name": name, "nodes": nodes, "edges": edges})


def body(nodes, edges):
    return {"nodes": [{"id": "start", "type": "trigger.group"}, *nodes], "edges": edges}


def foreach_doc(items, inner_nodes, inner_edges, name="t", **params):
    return document(
        [{"id": "start", "type": "trigger.manual"},
         {"id": "loop", "type": "flow.foreach", "params": {"items": items, "graph": body(inner_nodes, inner_edges),
                                                           **params}},
         {"id": "done", "type": "flow.terminal", "params": {"result": "{{ nodes.loop.output }}"}}],
        [{"from": "start", "to": "loop"}, {"from": "loop", "to": "done"}],
        name,
    )
