"""Issue 21, finding 3: expressions keep their time and size budget inside filter pipelines."""

import time

import pytest

from engine.expressions import ExpressionError, render

ATTACKS = [
    # as reported: ~290 s of CPU per run, five runs held every worker thread
    "{{ (['x y'*300000]*200)|map('title')|map('length')|sum }}",
    # as reported: 6 GB of memory and two 3 GB files ([s]*N counted as N small items)
    "{{ ['x'*1000000]*3000 }}",
    # the same work reached without '*' on a big string: every item a filter yields is metered
    "{{ (['%s']*200)|map('format', 'x y'*300000)|map('title')|map('length')|sum }}",
    "{{ (['%s']*3000)|map('format', 'x'*1000000)|list }}",
    # Python's str() of a huge list inside a text filter or %-formatting
    "{{ ((['%s']*3000)|map('format', 'x'*100000)|list)|title|length }}",
    "{{ '%s' % ((['%s']*3000)|map('format', 'x'*100000)|list) }}",
]


@pytest.mark.parametrize("template", ATTACKS)
def test_filter_pipelines_are_stopped_within_the_render_budget(template):
    started = time.monotonic()
    with pytest.raises(ExpressionError) as caught:
        render({"p": template}, {"vars": {}})
    assert time.monotonic() - started < 2.5  # the budget is 1 s; one filter call may overrun it a little
    assert caught.value.message.startswith("too large")


def test_a_value_repeated_by_reference_counts_each_time_it_occurs():
    big = "x" * 10_000_000
    with pytest.raises(ExpressionError, match="64,000,000 characters"):
        render("{{ [" + ", ".join(["vars.big"] * 30) + "] }}", {"vars": {"big": big}})
    # passing a big context value through once is not building anything
    assert len(render("{{ vars.big }}", {"vars": {"big": big}})) == 10_000_000


def test_ordinary_pipelines_still_work():
    context = {"vars": {"names": ["ada", "grace"], "row": {"a": 1, "b": [1, 2]}}}
    assert render("{{ vars.names|map('title')|join(', ') }}", context) == "Ada, Grace"
    assert render("{{ '%(a)s-%(b)s' % vars.row }}", context) == "1-[1,2]"
    assert render("{{ vars.names|select('ne', 'ada')|list }}", context) == ["grace"]
    assert render("{{ (['%s']*3)|map('format', 'x'*1000000)|map('length')|list }}", context) == [1_000_000] * 3


@pytest.mark.django_db
@pytest.mark.parametrize("template", ATTACKS[:2])
def test_a_node_with_the_attack_fails_within_the_budget_without_any_worker_time_limit(template):
    # run inline, as embedded mode's thread-pool worker runs nodes: no Celery time limit applies
    from executions.inline import run_inline
    from workflows.services import with_node_versions

    document = with_node_versions({"api_version": "nodeflow/v1", "name": "t", "nodes": [
        {"id": "start", "type": "trigger.manual"}, {"id": "make", "type": "data.set", "params": {"output": template}}],
        "edges": [{"from": "start", "to": "make"}]})
    started = time.monotonic()
    execution = run_inline(document)

    assert time.monotonic() - started < 5
    assert execution.status == "failed"
    assert "too large" in execution.node_runs.get(node_id="make").error["message"]
