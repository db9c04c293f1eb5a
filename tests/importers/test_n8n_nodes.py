"""n8n node types on small workflows in n8n's export shape: the types no real export in
tests/fixtures/n8n covers (Stop and Error, Respond to Webhook, Python code), versions out of
range, disabled nodes, and the settings every node shares (retries, onError)."""

import pytest

from executions.inline import run_inline
from importers import services
from importers.n8n.nodes import supported_types
from workflows.services import with_node_versions
from nodes.validation import validate_document

pytestmark = pytest.mark.django_db


def workflow(*nodes, connections=None):
    """An n8n workflow: a manual trigger, then `nodes` in a chain unless `connections` is given."""
    trigger = {"name": "Start", "type": "n8n-nodes-base.manualTrigger", "typeVersion": 1, "parameters": {},
               "position": [0, 0]}
    names = ["Start", *(n["name"] for n in nodes)]
    if connections is None:
        connections = {a: {"main": [[{"node": b, "type": "main", "index": 0}]]} for a, b in zip(names, names[1:])}
    return {"name": "snippet", "nodes": [trigger, *nodes], "connections": connections}


def n8n_node(name, type_, version=1, **parameters):
    return {"name": name, "type": f"n8n-nodes-base.{type_}", "typeVersion": version, "parameters": parameters,
            "position": [200, 0]}


def translate(document):
    result, report = services.translate("n8n", document)
    return with_node_versions(result), report


def by_id(document, node_id):
    return next(n for n in document["nodes"] if n["id"] == node_id)


def test_every_supported_type_declares_its_versions():
    types = {entry["type"]: entry["versions"] for entry in supported_types()}
    for name in ("manualTrigger", "scheduleTrigger", "webhook", "httpRequest", "if", "switch", "merge", "set",
                 "code", "wait", "noOp", "stopAndError", "respondToWebhook", "executeWorkflow", "splitInBatches"):
        low, high = types[f"n8n-nodes-base.{name}"]
        assert low <= high


def test_stop_and_error_becomes_a_failing_node():
    document, report = translate(workflow(n8n_node("Stop", "stopAndError", errorMessage="=Bad {{ $json.x }}")))
    assert by_id(document, "stop") == {**by_id(document, "stop"), "type": "flow.fail",
                                       "params": {"message": "Bad {{ nodes.start.output.x }}"}}
    execution = run_inline(document, input_data={"x": 7})
    assert execution.status == "failed" and "Bad 7" in str(execution.error)


def test_respond_to_webhook_makes_the_webhook_answer_its_result():
    hook = n8n_node("Hook", "webhook", 2, httpMethod="POST", path="x", responseMode="responseNode")
    respond = n8n_node("Respond", "respondToWebhook", 1.1, respondWith="json",
                       responseBody='={ "got": {{ $json.body.n }} }')
    document, report = translate(workflow(hook, respond, connections={
        "Hook": {"main": [[{"node": "Respond", "type": "main", "index": 0}]]}}))
    assert by_id(document, "hook")["params"]["response"] == "sync"
    assert by_id(document, "respond")["type"] == "flow.terminal"
    assert report["untranslated"] == [] or report["untranslated"][0]["from"] == "Start"
    plain = n8n_node("Respond", "respondToWebhook", 1, respondWith="json", responseBody='{"ok": true}')
    document, _ = translate(workflow(plain))
    assert by_id(document, "respond")["params"] == {"result": {"ok": True}}
    execution = run_inline(document, input_data={})
    assert execution.status == "succeeded" and execution.result == {"ok": True}


def test_python_code_runs_through_the_items_adapter():
    code = ("out = []\nfor item in _input.all():\n    item.json.doubled = item.json.n * 2\n    out.append(item)\n"
            "return out")
    document, report = translate(workflow(n8n_node("Py", "code", 2, language="python", pythonCode=code)))
    assert report["untranslated"] == []
    assert by_id(document, "py")["type"] == "code.python"
    execution = run_inline(document, input_data={"n": 21})
    assert execution.status == "succeeded", execution.error
    assert dict(execution.node_runs.values_list("node_id", "output"))["py"] == {"n": 21, "doubled": 42}


def test_python_code_with_helpers_that_have_no_equivalent_is_reported():
    _, report = translate(workflow(n8n_node("Py", "code", 2, language="python", pythonCode="return _env['X']")))
    assert report["untranslated"][0]["reason"].endswith("(_env)")
    _, report = translate(workflow(n8n_node("Js", "code", 2, jsCode="return $input.all()")))
    assert "JavaScript" in report["untranslated"][0]["reason"]


def test_set_keeps_the_input_fields_when_n8n_does():
    assignments = {"assignments": [{"name": "total", "type": "number", "value": "={{ $json.a + $json.b }}"}]}
    document, _ = translate(workflow(n8n_node("Set", "set", 3.4, assignments=assignments, includeOtherFields=True)))
    execution = run_inline(document, input_data={"a": 1, "b": 2})
    assert execution.status == "succeeded", execution.error
    assert dict(execution.node_runs.values_list("node_id", "output"))["set"] == {"a": 1, "b": 2, "total": 3}


def test_n8n_variables_read_global_variables_that_a_run_sees(alice):
    from variables import services as variables

    assignments = {"assignments": [{"name": "where", "type": "string", "value": "={{ $vars.region }}"}]}
    document, report = translate(workflow(n8n_node("Set", "set", 3.4, assignments=assignments)))
    [note] = [note for entry in report["translated"] for note in entry["notes"] if "$vars" in note]
    assert "create those keys as global variables" in note
    variables.put(alice, "region", "eu-west")
    execution = run_inline(document, owner=alice)
    assert execution.status == "succeeded", execution.error
    assert dict(execution.node_runs.values_list("node_id", "output"))["set"] == {"where": "eu-west"}


def test_http_request_v1_parameters():
    node = n8n_node("Get", "httpRequest", 1, url="https://example.com/x", requestMethod="POST",
                    queryParametersUi={"parameter": [{"name": "q", "value": "={{ $json.q }}"}]},
                    bodyParametersUi={"parameter": [{"name": "a", "value": "1"}]}, options={"timeout": 2500})
    document, _ = translate(workflow(node))
    assert by_id(document, "get")["params"] == {"url": "https://example.com/x", "method": "POST",
                                                "query": {"q": "{{ nodes.start.output.q }}"}, "body": {"a": "1"},
                                                "response": "auto", "timeout_s": 2.5}


def test_schedules_waits_and_webhook_auth():
    cron = n8n_node("Every", "scheduleTrigger", 1.2, rule={"interval": [{"field": "cronExpression",
                                                                           "expression": "0 */5 * * * *"}]})
    minutes = n8n_node("Often", "scheduleTrigger", 1.2, rule={"interval": [{"field": "minutes", "minutesInterval": 5}]})
    document, _ = translate({"name": "s", "nodes": [cron, minutes], "connections": {}})
    assert by_id(document, "every")["params"] == {"cron": "*/5 * * * *"}
    assert by_id(document, "often")["params"] == {"every": 5, "unit": "minutes"}
    until = n8n_node("Until", "wait", 1.1, resume="specificTime", dateTime="2030-01-01T00:00:00Z")
    document, _ = translate(workflow(until))
    assert by_id(document, "until")["params"] == {"until": "2030-01-01T00:00:00Z"}
    hook = n8n_node("Hook", "webhook", 2, httpMethod="PUT", path="p", authentication="headerAuth")
    document, report = translate({"name": "w", "nodes": [hook], "connections": {}})
    assert by_id(document, "hook")["params"] == {"methods": ["PUT"], "auth": "header"}
    assert any("secret" in note for note in report["translated"][0]["notes"])
    basic = n8n_node("Hook", "webhook", 2, authentication="basicAuth")
    _, report = translate({"name": "w", "nodes": [basic], "connections": {}})
    assert "basicAuth" in report["untranslated"][0]["reason"]


def test_retries_on_error_versions_and_disabled_nodes():
    flaky = {**n8n_node("Flaky", "httpRequest", 4.2, url="https://example.com"), "retryOnFail": True, "maxTries": 4,
             "waitBetweenTries": 2000, "onError": "continueRegularOutput"}
    future = n8n_node("Future", "if", 9)
    off = {**n8n_node("Off", "noOp"), "disabled": True}
    note = n8n_node("Note", "stickyNote", content="hello")
    document, report = translate(workflow(flaky, future, off, note, connections={}))
    assert by_id(document, "flaky")["retry"] == {"max_attempts": 4, "backoff_s": 2.0, "max_backoff_s": 2.0,
                                                 "jitter": False}
    assert by_id(document, "flaky")["on_error"] == "continue"
    assert report["untranslated"] == [{"from": "Future", "reason": report["untranslated"][0]["reason"],
                                       "n8n_type": "n8n-nodes-base.if@9", "placeholder": "future"}]
    assert "type version 9 is not supported" in report["untranslated"][0]["reason"]
    assert "off" not in {n["id"] for n in document["nodes"]}
    assert any("Off: disabled" in w for w in report["warnings"])
    assert any("Note: a sticky note" in w for w in report["warnings"])


def test_execute_workflow_naming_no_workflow_and_a_loop_without_a_body_are_reported():
    # Their translations to flow.subworkflow and flow.foreach: test_n8n_composition.py.
    document, report = translate(workflow(n8n_node("Call", "executeWorkflow", 1.1),
                                          n8n_node("Loop", "splitInBatches", 3)))
    reasons = {entry["from"]: entry["reason"] for entry in report["untranslated"]}
    assert reasons["Call"] == "it names no workflow to call (workflowId is empty)"
    assert reasons["Loop"].startswith("nothing is connected to its loop output")
    assert validate_document(document) == []


@pytest.mark.parametrize("names", [["A b", "a-b", "A_B"], ["1st", "Ünïcode", ""]])
def test_node_ids_are_valid_and_unique(names):
    from importers.n8n import node_ids

    ids = node_ids(names)
    assert len(set(ids.values())) == len(names)
    assert all(value[0].isalpha() and value.replace("_", "").isalnum() for value in ids.values())


def test_json_after_an_if_reads_the_items_the_if_passed_on():
    condition = {"conditions": [{"leftValue": "={{ $json.n }}", "rightValue": 1,
                                 "operator": {"type": "number", "operation": "gt"}}], "combinator": "and"}
    fields = {"assignments": [{"name": "big", "type": "number", "value": "={{ $json.n }}"}]}
    document, _ = translate(workflow(n8n_node("Check", "if", 2, conditions=condition),
                                     n8n_node("Keep", "set", 3.4, assignments=fields)))
    assert by_id(document, "keep")["params"]["output"]["big"].startswith("{{ ((nodes.start.output.n)")
    execution = run_inline(document, input_data={"n": 5})
    assert execution.status == "succeeded", execution.error
    assert dict(execution.node_runs.values_list("node_id", "output"))["keep"] == {"big": 5.0}


def test_a_disabled_node_is_left_out_and_its_neighbours_joined():
    source = workflow({**n8n_node("Off", "noOp"), "disabled": True}, n8n_node("After", "noOp"))
    document, report = translate(source)
    assert [(e["from"], e["to"]) for e in document["edges"]] == [("start", "after")]
    assert any("Off: disabled" in warning for warning in report["warnings"])
