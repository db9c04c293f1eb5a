"""Global variables in workflow runs: read as globals.<key> in expressions and conditions, written by
data.set (every op) and code nodes when the node completes, checked at save time."""

import pytest

from engine.globals import GlobalWrite
from executions.inline import run_inline
from nodes.validation import validate_document
from variables import services
from variables.checks import document_warnings
from variables.models import Variable, VariableChange
from workflows.services import with_node_versions

pytestmark = pytest.mark.django_db


def workflow(nodes, edges=None):
    nodes = [{"id": "start", "type": "trigger.manual"}, *nodes]
    if edges is None:
        edges = [{"from": a["id"], "to": b["id"]} for a, b in zip(nodes, nodes[1:])]
    return with_node_versions({"api_version": "nodeflow/v1", "name": "globals", "nodes": nodes, "edges": edges})


def node(node_id, type_, **params):
    return {"id": node_id, "type": type_, "params": params}


def value(owner, key):
    row = Variable.objects.filter(owner=owner, key=key, version__gt=0).first()
    return None if row is None else (row.value, row.version)


def set_global(owner, key, data):
    services.write(owner.pk, [GlobalWrite(key, "set", data)], user=owner)


def test_expressions_and_conditions_read_globals(alice):
    set_global(alice, "config", {"threshold": 5, "label": "big"})
    document = workflow([
        node("check", "logic.if", condition={">": [{"var": "input.n"}, {"var": "globals.config.threshold"}]}),
        node("big", "flow.terminal", result="{{ globals.config.label }} {{ input.n }}"),
        node("small", "flow.terminal", result="small"),
    ], [{"from": "start", "to": "check"}, {"from": "check", "port": "true", "to": "big"},
        {"from": "check", "port": "false", "to": "small"}])
    assert validate_document(document) == []

    assert run_inline(document, owner=alice, input_data={"n": 7}).result == "big 7"
    assert run_inline(document, owner=alice, input_data={"n": 2}).result == "small"


def test_a_missing_global_fails_the_read_naming_it_and_default_covers_it(alice):
    document = workflow([node("end", "flow.terminal", result="{{ globals.nothing_here }}")])
    execution = run_inline(document, owner=alice)
    assert execution.status == "failed"
    assert "nothing_here" in execution.error["message"]
    fallback = workflow([node("end", "flow.terminal", result="{{ globals.nothing_here | default(3) }}")])
    assert run_inline(fallback, owner=alice).result == 3


def test_data_set_global_ops_write_when_the_node_completes_with_history(alice):
    document = workflow([
        node("s", "data.set", scope="global", vars={"title": "{{ input.title }}"}),
        node("i", "data.set", scope="global", op="incr", vars={"visits": 2}),
        node("a", "data.set", scope="global", op="append", vars={"log": "{{ input.title }}"}),
        node("m", "data.set", scope="global", op="merge", vars={"profile": {"seen": True}}),
        node("end", "flow.terminal", result={"visits": "{{ globals.visits }}", "vars": "{{ vars }}"}),
    ])
    set_global(alice, "profile", {"name": "ada"})
    first = run_inline(document, owner=alice, input_data={"title": "hello"})
    assert first.status == "succeeded", first.error
    # The terminal reads the value as of its own start: after the writes before it.
    assert first.result == {"visits": 2, "vars": {}}
    run_inline(document, owner=alice, input_data={"title": "again"})
    assert value(alice, "title") == ("again", 2)
    assert value(alice, "visits") == (4, 2)
    assert value(alice, "log") == (["hello", "again"], 2)
    assert value(alice, "profile") == ({"name": "ada", "seen": True}, 3)
    change = VariableChange.objects.filter(key="visits").order_by("at", "id").last()
    assert (change.op, change.old, change.new, change.node_id, change.user_id) == ("incr", 2, 4, "i", None)
    assert change.execution_id is not None


def test_compare_and_set_with_a_stale_version_fails_with_conflict_naming_key_and_versions(alice):
    set_global(alice, "slot", "free")
    set_global(alice, "slot", "taken")  # now at version 2
    document = workflow([node("cas", "data.set", scope="global", op="compare_and_set", expected_version=1,
                              vars={"slot": "mine"})])
    execution = run_inline(document, owner=alice)
    assert execution.status == "failed"
    error = execution.node_runs.get(node_id="cas").error
    assert error["code"] == "conflict" and error["details"] == {"key": "slot", "expected_version": 1, "version": 2}
    assert "'slot'" in error["message"] and "version 2" in error["message"] and "version 1" in error["message"]
    assert value(alice, "slot") == ("taken", 2)


def test_a_conflict_follows_the_error_port_when_the_node_routes_errors(alice):
    set_global(alice, "slot", "taken")
    cas = node("cas", "data.set", scope="global", op="compare_and_set", expected_version=0, vars={"slot": "mine"})
    cas["on_error"] = "route"
    document = workflow([cas, node("ok", "flow.terminal", result="won"),
                         node("lost", "flow.terminal", result="{{ nodes.cas.error.code }}")],
                        [{"from": "start", "to": "cas"}, {"from": "cas", "to": "ok"},
                         {"from": "cas", "port": "error", "to": "lost"}])
    execution = run_inline(document, owner=alice)
    assert execution.status == "succeeded", execution.error
    assert execution.node_runs.get(node_id="ok").status == "skipped"
    assert execution.node_runs.get(node_id="lost").status == "completed"


def test_an_op_that_does_not_apply_fails_the_node_and_writes_nothing(alice):
    set_global(alice, "name", "ada")
    document = workflow([node("w", "data.set", scope="global", vars={"other": 1}),
                         node("i", "data.set", scope="global", op="incr", vars={"name": 1})],
                        [{"from": "start", "to": "w"}, {"from": "w", "to": "i"}])
    execution = run_inline(document, owner=alice)
    assert execution.status == "failed"
    assert execution.node_runs.get(node_id="i").error["code"] == "global_write"
    assert value(alice, "name") == ("ada", 1)
    assert value(alice, "other") == (1, 1)  # the node before completed, its write stands


def test_code_nodes_read_and_write_ctx_globals(alice):
    set_global(alice, "counter", 1)
    set_global(alice, "obsolete", True)
    code = ("def run(ctx):\n"
            "    g = ctx['globals']\n"
            "    g['counter'] = g['counter'] + 10\n"
            "    g['fresh'] = {'from': 'code'}\n"
            "    del g['obsolete']\n"
            "    return sorted(g)\n")
    document = workflow([node("code", "code.python", code=code),
                         node("end", "flow.terminal", result="{{ nodes.code.output }}")])
    execution = run_inline(document, owner=alice)
    assert execution.status == "succeeded", execution.error
    assert execution.result == ["counter", "fresh"]
    assert value(alice, "counter") == (11, 2)
    assert value(alice, "fresh") == ({"from": "code"}, 1)
    assert value(alice, "obsolete") is None
    ops = sorted(VariableChange.objects.filter(node_id="code").values_list("key", "op"))
    assert ops == [("counter", "set"), ("fresh", "set"), ("obsolete", "delete")]
    logs = [line["message"] for line in execution.node_runs.get(node_id="code").logs]
    assert logs == ["writes globals: counter (set), fresh (set), obsolete (delete)"]  # seen in the run view


def test_a_node_sees_each_key_as_it_was_when_it_started(alice):
    # The node reads its snapshot, taken at its start; its own write lands when it completes.
    set_global(alice, "count", 5)
    document = workflow([
        node("bump", "data.set", scope="global", op="incr", vars={"count": 1}, output={"saw": "{{ globals.count }}"}),
        node("end", "flow.terminal", result={"before": "{{ nodes.bump.output.saw }}", "after": "{{ globals.count }}"}),
    ])
    assert run_inline(document, owner=alice).result == {"before": 5, "after": 6}


def test_validation_accepts_globals_paths_and_checks_data_set_params(alice):
    ok = workflow([node("end", "flow.terminal", result="{{ globals.a }}")])
    assert validate_document(ok) == []
    bad = workflow([node("s", "data.set", op="incr", vars={"x": 1}),
                    node("t", "data.set", scope="global", vars={"bad-key": 1}),
                    node("c", "data.set", scope="global", op="compare_and_set", vars={"x": 1})])
    problems = {(p["node_id"], p["path"].rsplit(".", 1)[-1]) for p in validate_document(bad)}
    assert problems == {("s", "op"), ("t", "vars"), ("c", "expected_version")}


def test_reading_a_key_that_does_not_exist_yet_is_a_warning_at_save_time(alice, alice_client):
    set_global(alice, "known", 1)
    document = workflow([node("end", "flow.terminal", result="{{ globals.known }} {{ globals.unknown_yet }}")])
    warnings = document_warnings(alice.pk, document)
    assert [(w["code"], w["node_id"]) for w in warnings] == [("unknown_global_key", "end")]
    assert "unknown_yet" in warnings[0]["message"]
    saved = alice_client.post("/api/v1/workflows/", {"name": "w", "definition": document}, format="json").json()
    assert saved["validation"]["valid"] is True
    assert [w["code"] for w in saved["validation"]["warnings"]] == ["unknown_global_key"]
    checked = alice_client.post("/api/v1/workflows/validate/", {"definition": document}, format="json").json()
    assert checked["valid"] is True and len(checked["warnings"]) == 1
    # A key the document itself writes with a global Set is no warning.
    writer = workflow([node("w", "data.set", scope="global", vars={"unknown_yet": 1}),
                       node("end", "flow.terminal", result="{{ globals.unknown_yet }}")])
    assert document_warnings(alice.pk, writer) == []
    assert "warnings" not in alice_client.post("/api/v1/workflows/validate/", {"definition": writer},
                                               format="json").json()
