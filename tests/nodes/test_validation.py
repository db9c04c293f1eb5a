"""nodes.validation: each problem code, proven by a small invalid document."""

import json
import re
from pathlib import Path

import pytest

from tests.support.shared import shared_file
from tests.workflows.documents import changed, codes, document, edge, node
from nodes.validation import ERROR_CODES, MAX_DEPTH, MAX_PROBLEMS, validate_document

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "workflows"


def trigger_then(*nodes, edges=None):
    """start (trigger.manual) followed by `nodes` in a chain, unless edges are given."""
    nodes = [node("start", "trigger.manual"), *nodes]
    if edges is None:
        edges = [edge(a["id"], b["id"]) for a, b in zip(nodes, nodes[1:])]
    return document(nodes, edges)


def set_node(node_id, vars_):
    return node(node_id, "data.set", params={"vars": vars_})


def set_at(path, value):
    """A change that sets document[path...] = value."""

    def change(doc):
        target = doc
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


def nested(levels):
    value = 0
    for _ in range(levels):
        value = [value]
    return value


# code -> [(case name, document, fields the problem must have)]
CASES = {
    "invalid_document": [
        ("a list", [document()], {"path": ""}),
        ("a string", "nodeflow", {"path": ""}),
    ],
    "missing_api_version": [
        ("no api_version", changed(document(), lambda d: d.pop("api_version")), {"path": "api_version"}),
    ],
    "unsupported_api_version": [
        ("newer major", changed(document(), set_at(["api_version"], "nodeflow/v2")), {"path": "api_version"}),
        ("malformed", changed(document(), set_at(["api_version"], "v1")), {"path": "api_version"}),
        ("not a string", changed(document(), set_at(["api_version"], 1)), {"path": "api_version"}),
    ],
    "unknown_key": [
        ("top level", document(owner="alice"), {"path": "owner"}),
        ("node", changed(document(), set_at(["nodes", 1, "colour"], "red")), {"path": "nodes[1].colour",
                                                                           "node_id": "work"}),
        ("edge", changed(document(), set_at(["edges", 0, "label"], "x")), {"path": "edges[0].label",
                                                                        "edge": {"from": "start", "to": "work"}}),
        ("retry", changed(document(), set_at(["nodes", 1, "retry"], {"tries": 3})), {"path": "nodes[1].retry.tries"}),
        ("settings", document(settings={"parallel": 2}), {"path": "settings.parallel"}),
    ],
    "missing_key": [
        ("node without type", changed(document(), lambda d: d["nodes"][1].pop("type")),
         {"path": "nodes[1].type", "node_id": "work"}),
        ("edge without to", changed(document(), lambda d: d["edges"].append({"from": "work"})),
         {"path": "edges[2].to"}),
    ],
    "invalid_value": [
        ("timeout_s zero", changed(document(), set_at(["nodes", 1, "timeout_s"], 0)), {"path": "nodes[1].timeout_s"}),
        ("on_error unknown", changed(document(), set_at(["nodes", 1, "on_error"], "ignore")),
         {"path": "nodes[1].on_error", "node_id": "work"}),
        ("retry max_attempts zero", changed(document(), set_at(["nodes", 1, "retry"], {"max_attempts": 0})),
         {"path": "nodes[1].retry.max_attempts"}),
        ("retry backoff negative", changed(document(), set_at(["nodes", 1, "retry"], {"backoff_s": -1})),
         {"path": "nodes[1].retry.backoff_s"}),
        ("retry max_backoff negative", changed(document(), set_at(["nodes", 1, "retry"], {"max_backoff_s": -0.5})),
         {"path": "nodes[1].retry.max_backoff_s"}),
        ("retry jitter not a bool", changed(document(), set_at(["nodes", 1, "retry"], {"jitter": "yes"})),
         {"path": "nodes[1].retry.jitter"}),
        ("settings merge unknown", document(settings={"merge": "random"}), {"path": "settings.merge"}),
        ("settings timeout negative", document(settings={"timeout_s": -5}), {"path": "settings.timeout_s"}),
        ("settings max_parallel zero", document(settings={"max_parallel": 0}), {"path": "settings.max_parallel"}),
        ("position of one number", changed(document(), set_at(["nodes", 0, "position"], [10])),
         {"path": "nodes[0].position", "node_id": "start"}),
        ("position of strings", changed(document(), set_at(["nodes", 0, "position"], ["a", "b"])),
         {"path": "nodes[0].position[0]"}),
        ("version zero", changed(document(), set_at(["nodes", 1, "version"], 0)), {"path": "nodes[1].version"}),
        ("nodes not a list", document(nodes={"start": {}}), {"path": "nodes"}),
        ("params not an object", changed(document(), set_at(["nodes", 1, "params"], [1])),
         {"path": "nodes[1].params"}),
        ("input_schema not an object", document(input_schema="object"), {"path": "input_schema"}),
    ],
    "invalid_node_id": [
        ("capital letters", changed(document(), lambda d: d["nodes"].append(node("Extra", "flow.noop"))),
         {"path": "nodes[3].id"}),
        ("starts with a digit", changed(document(), lambda d: d["nodes"].append(node("1extra", "flow.noop"))),
         {"path": "nodes[3].id"}),
        ("too long", changed(document(), lambda d: d["nodes"].append(node("x" * 65, "flow.noop"))),
         {"path": "nodes[3].id"}),
    ],
    "duplicate_node_id": [
        ("two nodes called work", trigger_then(set_node("work", {}), set_node("work", {}),
                                               edges=[edge("start", "work")]),
         {"path": "nodes[2].id", "node_id": "work"}),
    ],
    "unknown_node_type": [
        ("no such type", trigger_then(node("beam", "http.teleport")), {"path": "nodes[1].type", "node_id": "beam"}),
    ],
    "unknown_node_version": [
        ("data.set v99", trigger_then(node("work", "data.set", version=99)),
         {"path": "nodes[1].version", "node_id": "work"}),
    ],
    "invalid_params": [
        ("flow.fail without message", trigger_then(node("fail", "flow.fail", params={})),
         {"path": "nodes[1].params", "node_id": "fail"}),
        ("webhook auth unknown", document([node("hook", "trigger.webhook", params={"auth": "magic"})], []),
         {"path": "nodes[0].params.auth", "node_id": "hook"}),
        ("data.set unknown param", trigger_then(node("work", "data.set", params={"varz": {}})),
         {"path": "nodes[1].params", "node_id": "work"}),
        ("switch case name", trigger_then(node("pick", "logic.switch", params={
            "cases": [{"name": "Big One", "condition": True}]})), {"path": "nodes[1].params.cases[0].name"}),
        ("mixed text where a number goes", trigger_then(node("wait", "flow.wait", params={"seconds": "{{ vars.n }} s"})),
         {"path": "nodes[1].params.seconds"}),
    ],
    "invalid_input_schema": [
        ("unknown type name", document(input_schema={"type": "objekt"}), {"path": "input_schema.type"}),
    ],
    "edge_to_missing_node": [
        ("to a ghost", changed(document(), lambda d: d["edges"].append(edge("done", "ghost"))),
         {"path": "edges[2].to", "edge": {"from": "done", "to": "ghost"}}),
        ("from a ghost", changed(document(), lambda d: d["edges"].append(edge("ghost", "done"))),
         {"path": "edges[2].from"}),
    ],
    "unknown_port": [
        ("a pin of an If on a port it lacks", changed(trigger_then(
            node("check", "logic.if", params={"condition": True}), node("yes", "flow.noop"),
            edges=[edge("start", "check"), edge("check", "yes", "true")]),
            set_at(["pins"], {"check": {"port": "maybe", "output": None}})), {"path": "pins.check.port", "node_id": "check"}),
        ("logic.if has no main port", trigger_then(
            node("check", "logic.if", params={"condition": True}), node("next", "flow.noop")),
         {"path": "edges[1].from", "node_id": "check", "edge": {"from": "check", "to": "next"}}),
        ("error port without on_error route", trigger_then(
            set_node("work", {}), node("oops", "flow.noop"), edges=[edge("start", "work"), edge("work", "oops", "error")]),
         {"path": "edges[1].port", "node_id": "work"}),
        ("a switch port that is no case", trigger_then(
            node("pick", "logic.switch", params={"cases": [{"name": "big", "condition": True}]}),
            node("next", "flow.noop"), edges=[edge("start", "pick"), edge("pick", "next", "small")]),
         {"path": "edges[1].port"}),
        ("out of a terminal", changed(document(), lambda d: (d["nodes"].append(node("after", "flow.noop")),
                                                             d["edges"].append(edge("done", "after")))),
         {"path": "edges[2].from", "node_id": "done"}),
    ],
    "duplicate_edge": [
        ("start to work twice", changed(document(), lambda d: d["edges"].append(edge("start", "work", "main"))),
         {"path": "edges[2]", "edge": {"from": "start", "to": "work", "port": "main"}}),
    ],
    "edge_into_trigger": [
        ("into a second trigger", changed(document(), lambda d: (
            d["nodes"].append(node("again", "trigger.manual")), d["edges"].append(edge("work", "again")))),
         {"path": "edges[2]", "node_id": "again"}),
    ],
    "cycle": [
        ("work → done → work", trigger_then(set_node("work", {}), node("check", "flow.noop"),
                                            edges=[edge("start", "work"), edge("work", "check"),
                                                   edge("check", "work")]),
         {"node_id": "work", "edge": {"from": "check", "to": "work"}, "path": "edges[2]"}),
        ("self loop", trigger_then(set_node("work", {}), edges=[edge("start", "work"), edge("work", "work")]),
         {"node_id": "work", "path": "edges[1]"}),
    ],
    "no_trigger": [
        ("only a noop", document([node("idle", "flow.noop")], []), {"path": "nodes"}),
        ("empty", document([], []), {"path": "nodes"}),
    ],
    "unreachable_node": [
        ("island", changed(document(), lambda d: d["nodes"].append(node("island", "flow.noop"))),
         {"node_id": "island", "path": "nodes[3]"}),
    ],
    "invalid_expression": [
        ("unclosed bracket", trigger_then(set_node("work", {"x": "{{ input.items[0 }}"})),
         {"node_id": "work", "path": "nodes[1].params.vars.x"}),
        ("dangling operator", trigger_then(set_node("work", {"x": ["ok", "total: {{ input.a + }}"]})),
         {"node_id": "work", "path": "nodes[1].params.vars.x[1]"}),
        ("in a terminal's result", trigger_then(node("done", "flow.terminal", params={"result": "{{ vars. }}"})),
         {"node_id": "done", "path": "nodes[1].params.result"}),
    ],
    "invalid_jsonlogic": [
        ("a test case's assert", changed(trigger_then(), set_at(["tests"], [
            {"name": "a", "expect": {"assert": [{"frobnicate": [1]}]}}])), {"path": "tests[0].expect.assert[0]"}),
        ("unknown operator", trigger_then(node("check", "logic.if", params={"condition": {"frobnicate": [1]}}),
                                          node("yes", "flow.noop"), edges=[edge("start", "check"),
                                                                           edge("check", "yes", "true")]),
         {"node_id": "check", "path": "nodes[1].params.condition"}),
        ("a switch case with two operators", trigger_then(
            node("pick", "logic.switch", params={"cases": [{"name": "a", "condition": {"==": [1, 1], "!=": [1, 2]}}]}),
            node("next", "flow.noop"), edges=[edge("start", "pick"), edge("pick", "next", "a")]),
         {"node_id": "pick", "path": "nodes[1].params.cases[0].condition"}),
    ],
    "unknown_context_key": [
        ("expression reads a made-up root", trigger_then(set_node("work", {"x": "{{ inputs.name }}"})),
         {"node_id": "work", "path": "nodes[1].params.vars.x"}),
        ("condition reads a bare key", trigger_then(
            node("check", "logic.if", params={"condition": {"==": [{"var": "amount"}, 1]}}),
            node("yes", "flow.noop"), edges=[edge("start", "check"), edge("check", "yes", "true")]),
         {"node_id": "check", "path": "nodes[1].params.condition"}),
    ],
    "unknown_node_reference": [
        ("expression reads a ghost", trigger_then(set_node("work", {"x": "{{ nodes.ghost.output }}"})),
         {"node_id": "work", "path": "nodes[1].params.vars.x"}),
    ],
    "non_ancestor_reference": [
        ("expression reads a downstream node", trigger_then(
            set_node("work", {"x": "{{ nodes.done.output }}"}), node("done", "flow.terminal")),
         {"node_id": "work", "path": "nodes[1].params.vars.x"}),
        ("expression reads a sibling branch", trigger_then(
            set_node("left", {"a": 1}), set_node("right", {"b": "{{ nodes.left.output }}"}),
            edges=[edge("start", "left"), edge("start", "right")]),
         {"node_id": "right", "path": "nodes[2].params.vars.b"}),
        ("expression reads its own node", trigger_then(set_node("work", {"x": "{{ nodes.work.output }}"})),
         {"node_id": "work"}),
        ("condition reads a downstream node", trigger_then(
            node("check", "logic.if", params={"condition": {"==": [{"var": "nodes.after.output"}, 1]}}),
            node("after", "flow.noop"), edges=[edge("start", "check"), edge("check", "after", "true")]),
         {"node_id": "check", "path": "nodes[1].params.condition"}),
    ],
    "invalid_body": [
        ("a loop's body without trigger.group", trigger_then(node("loop", "flow.foreach", params={
            "items": [1], "graph": {"nodes": [{"id": "only", "type": "flow.noop"}], "edges": []}})),
         {"node_id": "loop", "path": "nodes[1].params.graph.nodes"}),
    ],
    "unknown_pinned_node": [
        ("a pin of no node", changed(trigger_then(), set_at(["pins"], {"gone": {"x": 1}})), {"path": "pins.gone"}),
        ("a test case's pin of no node", changed(trigger_then(), set_at(["tests"], [
            {"name": "a", "pins": {"gone": 1}, "expect": {}}])), {"path": "tests[0].pins.gone"}),
    ],
    "duplicate_test_name": [
        ("two cases named a", changed(trigger_then(), set_at(["tests"], [
            {"name": "a", "expect": {}}, {"name": "a", "expect": {}}])), {"path": "tests[1].name"}),
    ],
    "unknown_expected_node": [
        ("expect of no node", changed(trigger_then(), set_at(["tests"], [
            {"name": "a", "expect": {"nodes": {"gone": {"status": "completed"}}}}])),
         {"path": "tests[0].expect.nodes.gone"}),
    ],
    "document_too_deep": [
        ("params nested past the limit", trigger_then(set_node("work", {"deep": nested(MAX_DEPTH + 5)})), {"path": ""}),
    ],
    "too_many_errors": [
        ("hundreds of bad ids", document([node(f"Bad{i}", "flow.noop") for i in range(MAX_PROBLEMS + 5)], []), {}),
    ],
}

# Problems a case causes besides its own code.
ALSO = {"too_many_errors": {"invalid_node_id"}}


def _cases():
    for code, cases in CASES.items():
        for name, doc, expected in cases:
            yield pytest.param(code, doc, expected, id=f"{code}: {name}")


def test_every_problem_code_has_a_case():
    assert set(CASES) == set(ERROR_CODES)


@pytest.mark.parametrize("code, doc, expected", list(_cases()))
def test_invalid_document_reports_its_problem(code, doc, expected):
    problems = validate_document(doc)

    matching = [p for p in problems if p["code"] == code]
    assert matching, f"expected {code}, got {problems}"
    assert any(all(p[key] == value for key, value in expected.items()) for p in matching), matching
    # The small document has no other kind of problem.
    assert set(codes(problems)) == {code} | ALSO.get(code, set()), problems
    for p in problems:
        assert set(p) == {"code", "message", "node_id", "edge", "path"}
        assert p["message"]


@pytest.mark.parametrize("name", sorted(path.stem for path in FIXTURES.glob("*.json") if ".expected" not in path.name))
def test_golden_workflows_are_valid(name):
    assert validate_document(json.loads((FIXTURES / f"{name}.json").read_text())) == []


def test_the_example_of_format_md_is_valid():
    format_md = shared_file("spec", "FORMAT.md").read_text()
    example = re.search(r"```json\n(\{\n  \"api_version\".*?)\n```", format_md, re.S).group(1)

    assert validate_document(json.loads(example)) == []


def test_default_test_document_is_valid():
    assert validate_document(document()) == []


def test_all_problems_are_reported_at_once():
    doc = trigger_then(
        node("Work", "data.set"),
        node("beam", "http.teleport"),
        node("fail", "flow.fail", params={}),
        edges=[edge("start", "ghost"), edge("start", "fail")],
    )
    doc["extra"] = 1

    assert sorted(codes(validate_document(doc))) == sorted(
        ["unknown_key", "invalid_node_id", "unknown_node_type", "invalid_params", "edge_to_missing_node",
         "unreachable_node"]
    )


def test_cycle_message_names_every_node_on_the_cycle():
    doc = trigger_then(set_node("a", {}), set_node("b", {}), set_node("c", {}),
                       edges=[edge("start", "a"), edge("a", "b"), edge("b", "c"), edge("c", "a")])

    [cycle] = validate_document(doc)

    assert cycle["code"] == "cycle"
    assert "a → b → c → a" in cycle["message"]


def test_each_separate_cycle_is_reported():
    doc = trigger_then(set_node("a", {}), set_node("b", {}), set_node("c", {}), set_node("d", {}),
                       edges=[edge("start", "a"), edge("a", "b"), edge("b", "a"), edge("start", "c"),
                              edge("c", "d"), edge("d", "c")])

    cycles = [p for p in validate_document(doc) if p["code"] == "cycle"]

    assert len(cycles) == 2


def test_newer_api_version_message_says_to_upgrade():
    [problem] = validate_document(changed(document(), set_at(["api_version"], "nodeflow/v7")))

    assert "newer" in problem["message"] and "nodeflow/v1" in problem["message"]


def test_missing_api_version_still_reports_the_other_problems():
    doc = changed(document(), lambda d: (d.pop("api_version"), d["nodes"].append(node("island", "flow.noop"))))

    assert codes(validate_document(doc)) == ["missing_api_version", "unreachable_node"]


def test_error_port_is_allowed_with_on_error_route():
    doc = trigger_then(set_node("work", {}), node("oops", "flow.noop"),
                       edges=[edge("start", "work"), edge("work", "oops", "error")])
    doc["nodes"][1]["on_error"] = "route"

    assert validate_document(doc) == []


def test_switch_case_ports_and_default_are_allowed():
    doc = trigger_then(
        node("pick", "logic.switch", params={"cases": [{"name": "big", "condition": {">": [{"var": "input.n"}, 9]}}]}),
        node("large", "flow.noop"), node("other", "flow.noop"),
        edges=[edge("start", "pick"), edge("pick", "large", "big"), edge("pick", "other", "default")],
    )

    assert validate_document(doc) == []


def test_reading_an_ancestor_through_a_join_is_allowed():
    doc = trigger_then(
        set_node("left", {"a": 1}), set_node("right", {"b": 2}), node("join", "flow.merge"),
        set_node("after", {"both": "{{ nodes.left.output }} {{ nodes.right.output }} {{ nodes.start.output }}"}),
        edges=[edge("start", "left"), edge("start", "right"), edge("left", "join"), edge("right", "join"),
               edge("join", "after")],
    )

    assert validate_document(doc) == []


def test_condition_reading_an_ancestor_is_allowed():
    doc = trigger_then(set_node("work", {"n": 1}),
                       node("check", "logic.if", params={"condition": {"==": [{"var": "nodes.work.output"}, 1]}}),
                       node("yes", "flow.noop"),
                       edges=[edge("start", "work"), edge("work", "check"), edge("check", "yes", "true")])

    assert validate_document(doc) == []


def test_a_whole_expression_may_stand_where_a_number_goes():
    doc = trigger_then(node("wait", "flow.wait", params={"seconds": "{{ input.delay }}"}))

    assert validate_document(doc) == []


def test_raw_params_are_not_read_as_expressions():
    # logic.if's condition is JsonLogic: a "{{" in a string there is data, not an expression.
    doc = trigger_then(node("check", "logic.if", params={"condition": {"==": [{"var": "input.x"}, "{{ nodes.ghost"]}}),
                       node("yes", "flow.noop"), edges=[edge("start", "check"), edge("check", "yes", "true")])

    assert validate_document(doc) == []


def test_omitted_node_version_means_latest():
    doc = document()
    assert all("version" not in n for n in doc["nodes"])

    assert validate_document(doc) == []


def test_params_defaults_are_applied_before_the_schema():
    # trigger.schedule requires every or cron; its defaults (unit, timezone) alone are not enough.
    doc = document([node("tick", "trigger.schedule", params={"every": 5})], [])

    assert validate_document(doc) == []


def test_problem_list_is_cut_at_the_limit():
    problems = validate_document(CASES["too_many_errors"][0][1])

    assert len(problems) == MAX_PROBLEMS + 1
    assert problems[-1]["code"] == "too_many_errors"


def test_messages_quote_long_values_briefly():
    doc = changed(document(), set_at(["nodes", 1, "on_error"], "x" * 5000))

    [problem] = validate_document(doc)

    assert len(problem["message"]) < 300


def test_results_follow_the_registry(monkeypatch):
    from nodes.registry import NodeRegistry, register_node

    doc = trigger_then(node("score", "acme.score"))
    assert codes(validate_document(doc)) == ["unknown_node_type"]
    scratch = NodeRegistry(modules=())
    register_node("trigger.manual", trigger=True, target_registry=scratch)(lambda call: None)
    register_node("acme.score", target_registry=scratch)(lambda call: None)
    monkeypatch.setattr("nodes.validation.registry", scratch)

    assert validate_document(doc) == []


def test_changing_a_returned_problem_does_not_change_the_next_answer():
    doc = changed(document(), lambda d: d["edges"].append(edge("work", "ghost")))
    first = validate_document(doc)
    first[0]["code"] = "changed"
    first[0]["edge"]["to"] = "changed"

    assert validate_document(doc)[0]["code"] == "edge_to_missing_node"
    assert validate_document(doc)[0]["edge"]["to"] == "ghost"


def test_a_python_object_in_the_document_is_checked_without_failing():
    doc = trigger_then(set_node("work", {"when": object()}))

    assert validate_document(doc) == []


def test_problems_come_in_document_order():
    nodes = [node("start", "trigger.manual")] + [node(f"n{i}", "flow.noop", timeout_s=-1) for i in range(12)]
    doc = document(nodes, [edge("start", f"n{i}") for i in range(12)])

    paths = [p["path"] for p in validate_document(doc)]

    assert paths == [f"nodes[{i}].timeout_s" for i in range(1, 13)]
