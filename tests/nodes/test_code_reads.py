"""Code that reads ctx["nodes"]["X"] (issue 25, item 3): validation flags X when it is not upstream or
does not exist, as it does for expressions; engine.code_reads finds the reads without running the code."""

import pytest

from engine.code_reads import node_reads
from nodes.validation import validate_document
from tests.workflows.documents import document, edge, node


def code_node(node_id, code):
    return node(node_id, "code.python", params={"code": code})


def reads_of(code):
    return node_reads(code)


def test_reads_by_subscript_and_get_in_order_each_once():
    code = ('def run(ctx):\n    a = ctx["nodes"]["fetch"]["output"]\n    n = ctx["nodes"]\n'
            '    b = context["nodes"].get("lookup", {})\n    c = ctx["nodes"]["fetch"]\n    return {}\n')
    assert reads_of(code) == ["nodes.fetch", "nodes.lookup"]


@pytest.mark.parametrize("code", ["def run(ctx):\n    return ctx['nodes'][name]\n", "def run(ctx:\n", "",
                                  "def run(ctx):\n    return ctx['vars']['fetch']\n"])
def test_dynamic_keys_other_keys_and_unparsable_code_read_nothing(code):
    assert reads_of(code) == []


def problems_of(doc):
    return [(p["code"], p["node_id"], p["path"]) for p in validate_document(doc)]


def test_code_reading_a_downstream_node_is_flagged_where_it_is():
    doc = document([node("start", "trigger.manual"),
                    code_node("score", 'def run(ctx):\n    return ctx["nodes"]["later"]["output"]\n'),
                    node("later", "flow.noop")],
                   [edge("start", "score"), edge("score", "later")])

    problems = validate_document(doc)

    assert [(p["code"], p["node_id"], p["path"]) for p in problems] == [
        ("non_ancestor_reference", "score", "nodes[1].params.code")]
    assert "'later' is not upstream of 'score'" in problems[0]["message"]
    assert problems[0]["message"].startswith("the code reads 'nodes.later'")


def test_code_reading_a_missing_node_is_flagged():
    doc = document([node("start", "trigger.manual"),
                    code_node("score", 'def run(ctx):\n    return ctx["nodes"].get("ghost")\n')],
                   [edge("start", "score")])

    assert problems_of(doc) == [("unknown_node_reference", "score", "nodes[1].params.code")]


def test_code_reading_an_upstream_node_is_fine():
    doc = document([node("start", "trigger.manual"), node("fetch", "flow.noop"),
                    code_node("score", 'def run(ctx):\n    return ctx["nodes"]["fetch"]["status"]\n')],
                   [edge("start", "fetch"), edge("fetch", "score")])

    assert problems_of(doc) == []
