"""Bodies of composite nodes are validated like workflows, with paths from the top and inner node ids."""

from nodes.validation import validate_document
from workflows.services import with_node_versions


def loop(inner_nodes, inner_edges, items="{{ input.list }}"):
    return {"api_version": "nodeflow/v1", "name": "t",
            "nodes": [{"id": "start", "type": "trigger.manual"},
                      {"id": "work", "type": "data.set", "params": {"output": {"x": 1}}},
                      {"id": "loop", "type": "flow.foreach",
                       "params": {"items": items, "graph": {"nodes": inner_nodes, "edges": inner_edges}}}],
            "edges": [{"from": "start", "to": "work"}, {"from": "work", "to": "loop"}]}


def test_a_valid_body_has_no_problems():
    doc = loop([{"id": "start", "type": "trigger.group"},
                {"id": "end", "type": "flow.terminal", "params": {"result": "{{ input.item }}"}}],
               [{"from": "start", "to": "end"}])
    assert validate_document(with_node_versions(doc)) == []


def test_problems_inside_a_body_carry_their_path_and_inner_node_id():
    doc = loop([{"id": "start", "type": "trigger.group"},
                {"id": "calc", "type": "data.set", "params": {"output": {"y": "{{ nodes.work.output.x }}"}}},
                {"id": "bad", "type": "no.such"}],
               [{"from": "start", "to": "calc"}, {"from": "calc", "to": "bad"}])
    problems = {(p["code"], p["node_id"], p["path"]) for p in validate_document(doc)}
    # The body cannot read the outer node `work`: its context is local.
    assert ("unknown_node_reference", "calc", "nodes[2].params.graph.nodes[1].params.output.y") in problems
    assert ("unknown_node_type", "bad", "nodes[2].params.graph.nodes[2].type") in problems


def test_a_body_starts_at_exactly_one_trigger_group():
    doc = loop([{"id": "go", "type": "trigger.manual"}, {"id": "end", "type": "flow.noop"}],
               [{"from": "go", "to": "end"}])
    problems = [p for p in validate_document(doc) if p["code"] == "invalid_body"]
    assert {p["path"] for p in problems} == {"nodes[2].params.graph.nodes", "nodes[2].params.graph.nodes[0].type"}


def test_nested_bodies_are_checked_too():
    inner = {"nodes": [{"id": "start", "type": "trigger.group"},
                       {"id": "deep", "type": "data.set", "params": {"output": "{{ nodes.nowhere.output }}"}}],
             "edges": [{"from": "start", "to": "deep"}]}
    doc = loop([{"id": "start", "type": "trigger.group"}, {"id": "grp", "type": "flow.group", "params": {"graph": inner}}],
               [{"from": "start", "to": "grp"}])
    [problem] = validate_document(doc)
    assert problem["code"] == "unknown_node_reference" and problem["node_id"] == "deep"
    assert problem["path"] == "nodes[2].params.graph.nodes[1].params.graph.nodes[1].params.output"
