"""Small workflow documents for the workflow tests."""

import copy


def node(node_id, type_name, **fields):
    return {"id": node_id, "type": type_name, **fields}


def edge(source, target, port=None):
    found = {"from": source, "to": target}
    if port is not None:
        found["port"] = port
    return found


def document(nodes=None, edges=None, **top):
    """A valid document: start (trigger.manual) → work (data.set) → done (flow.terminal), unless told otherwise."""
    if nodes is None:
        nodes = [
            node("start", "trigger.manual"),
            node("work", "data.set", params={"vars": {"greeting": "hello {{ input.name }}"}}),
            node("done", "flow.terminal", params={"result": {"greeting": "{{ vars.greeting }}"}}),
        ]
        edges = [edge("start", "work"), edge("work", "done")] if edges is None else edges
    return {"api_version": "nodeflow/v1", "name": top.pop("name", "Test workflow"), "nodes": nodes,
            "edges": edges or [], **top}


def changed(doc, change):
    """A deep copy of doc after `change(copy)`."""
    doc = copy.deepcopy(doc)
    change(doc)
    return doc


def codes(problems):
    return [p["code"] for p in problems]
