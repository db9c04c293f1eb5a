"""The n8n exports in tests/fixtures/n8n/ (real files from n8n's repository, see SOURCES.md): each
one's import report, and, for those made only of translatable nodes, a run giving n8n's result.

n8n's result is the `pinData` of each file where it has one: n8n's node tests compare every node's
output with it (workflowToTests / equalityTest), answering HTTP calls from nock mocks whose bodies
are the pinned outputs; the runs below serve the same bodies, for the same requests, from
pytest-httpserver. For the exports that pin nothing, RUNS says where n8n's result comes from."""

import json
from pathlib import Path

import pytest

from executions.inline import run_inline
from importers import services
from workflows.services import with_node_versions
from nodes.validation import validate_document

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "n8n"
FILES = sorted(path.stem for path in FIXTURES.glob("*.json"))

EXPECTED = {
    'execute_workflow_parameter': {
        'translated': {
            'When clicking "Execute Workflow"': 'trigger.manual',
        },
        'untranslated': {
            'Execute Workflow': 'it runs a workflow from the workflow JSO',
        },
        'errors': [],
    },
    'http_delete': {
        'translated': {
            'When clicking "Execute Workflow"': 'trigger.manual',
            'HTTP Request': 'http.request',
        },
        'untranslated': {},
        'errors': [],
    },
    'http_get': {
        'translated': {
            'When clicking "Execute Workflow"': 'trigger.manual',
            'HTTP Request': 'http.request',
            'HTTP Request fake header': 'http.request',
            'HTTP Request with query': 'http.request',
            'HTTP Request empty header': 'http.request',
        },
        'untranslated': {},
        'errors': [],
    },
    'http_patch': {
        'translated': {
            'When clicking "Execute Workflow"': 'trigger.manual',
            'HTTP Request': 'http.request',
        },
        'untranslated': {},
        'errors': [],
    },
    'http_post': {
        'translated': {
            'When clicking "Execute Workflow"': 'trigger.manual',
            'HTTP Request': 'http.request',
            'HTTP Request1': 'http.request',
        },
        'untranslated': {},
        'errors': [],
    },
    'http_put': {
        'translated': {
            'When clicking "Execute Workflow"': 'trigger.manual',
            'HTTP Request': 'http.request',
        },
        'untranslated': {},
        'errors': [],
    },
    'http_use_error_output': {
        'translated': {
            'When clicking ‘Execute workflow’': 'trigger.manual',
            'Success path': 'flow.noop',
            'Error path': 'flow.noop',
            'HTTP Request': 'http.request',
        },
        'untranslated': {},
        'errors': [],
    },
    'if_v1_number': {
        'translated': {
            "On clicking 'execute'": 'trigger.manual',
            'IF Smaller': 'logic.if',
            'IF Smaller or Equal': 'logic.if',
            'On True Smaller': 'flow.noop',
            'On False Smaller': 'flow.noop',
            'On True Smaller or Equal': 'flow.noop',
            'IF Equal': 'logic.if',
            'On True Equal': 'flow.noop',
            'On False Equal': 'flow.noop',
            'IF Not Equal': 'logic.if',
            'On True Not Equal': 'flow.noop',
            'On False Not Equal': 'flow.noop',
            'IF Larger': 'logic.if',
            'On True Larger': 'flow.noop',
            'On False Larger': 'flow.noop',
            'IF Larger or Equal': 'logic.if',
            'On True Larger or Equal': 'flow.noop',
            'IF Is Empty': 'logic.if',
            'On False  Is Empty': 'flow.noop',
            'IF Is Not Empty': 'logic.if',
            'On True Is Not Empty': 'flow.noop',
        },
        'untranslated': {
            'Code': 'JavaScript code (code.python runs Python',
        },
        'errors': [],
    },
    'if_v2_number': {
        'translated': {
            'When clicking "Execute Workflow"': 'trigger.manual',
            'If': 'logic.if',
            'Then': 'flow.noop',
            'Else': 'flow.noop',
        },
        'untranslated': {
            'Code': 'n8n node type n8n-nodes-testing.testData',
        },
        'errors': [],
    },
    'manual_wait_set': {
        'translated': {
            'Wait': 'flow.wait',
            'Manual': 'trigger.manual',
            'Set': 'data.set',
        },
        'untranslated': {},
        'errors': [],
    },
    'mcp_available_webhook': {
        'translated': {
            'Webhook': 'trigger.webhook',
            'Process Data': 'data.set',
        },
        'untranslated': {},
        'errors': [],
    },
    'merge_append': {
        'translated': {
            'When clicking "Execute Workflow"': 'trigger.manual',
            'Merge': 'flow.merge',
        },
        'untranslated': {
            'Code': 'JavaScript code (code.python runs Python',
            'Code1': 'JavaScript code (code.python runs Python',
        },
        'errors': [],
    },
    'merge_choose_branch': {
        'translated': {
            'When clicking "Execute Workflow"': 'trigger.manual',
            'Merge': 'flow.merge',
            'Merge1': 'flow.merge',
            'Merge2': 'flow.merge',
        },
        'untranslated': {
            'Code': 'n8n node type n8n-nodes-testing.testData',
            'Code1': 'n8n node type n8n-nodes-testing.testData',
        },
        'errors': [],
    },
    'merge_combine_by_fields': {
        'translated': {
            'When clicking "Execute Workflow"': 'trigger.manual',
            'Merge': 'flow.merge',
            'Merge2': 'flow.merge',
            'Merge3': 'flow.merge',
            'Merge4': 'flow.merge',
            'Merge5': 'flow.merge',
            'Merge6': 'flow.merge',
            'Merge7': 'flow.merge',
        },
        'untranslated': {
            'Code': 'JavaScript code (code.python runs Python',
            'Code1': 'JavaScript code (code.python runs Python',
            'Merge1': "combining with join mode 'keepNonMatches",
        },
        'errors': [],
    },
    'schedule_pinned': {
        'translated': {
            'Schedule Trigger': 'trigger.schedule',
            'Edit Fields': 'data.set',
            'Edit Fields1': 'data.set',
            'Edit Fields2': 'data.set',
            'Edit Fields3': 'data.set',
            'Edit Fields4': 'data.set',
            'Edit Fields5': 'data.set',
            'Edit Fields6': 'data.set',
            'Edit Fields7': 'data.set',
            'Edit Fields9': 'data.set',
            'Edit Fields10': 'data.set',
        },
        'untranslated': {},
        'errors': [],
    },
    'split_in_batches_v2': {
        'translated': {
            'When clicking "Execute Workflow"': 'trigger.manual',
            'Set': 'data.set',
            'IF': 'logic.if',
            'Output': 'data.set',
        },
        'untranslated': {
            'Split In Batches': 'Split In Batches v1/v2 has one output th',
            'Item Lists': 'n8n-nodes-base.splitOut works on lists o',
        },
        'errors': ['invalid_expression', 'invalid_jsonlogic'],
    },
    'switch_v2_rules': {
        'translated': {
            'When clicking "Execute Workflow"': 'trigger.manual',
            'Switch': 'logic.switch',
            'No Operation, do nothing': 'flow.noop',
            'No Operation, do nothing1': 'flow.noop',
            'No Operation, do nothing2': 'flow.noop',
        },
        'untranslated': {
            'Code': 'n8n node type n8n-nodes-testing.testData',
        },
        'errors': [],
    },
    'switch_v3_rules': {
        'translated': {
            'When clicking "Execute Workflow"': 'trigger.manual',
            'No Operation, do nothing': 'flow.noop',
            'No Operation, do nothing1': 'flow.noop',
            'No Operation, do nothing2': 'flow.noop',
            'Switch1': 'logic.switch',
        },
        'untranslated': {
            'Code': 'n8n node type n8n-nodes-testing.testData',
        },
        'errors': [],
    },
    'wait_for_webhook': {
        'translated': {
            'When clicking ‘Test workflow’': 'trigger.manual',
            'Wait node': 'flow.wait',
        },
        'untranslated': {},
        'errors': [],
    },
    'wait_workflow': {
        'translated': {
            'When clicking "Execute Workflow"': 'trigger.manual',
            'Wait': 'flow.wait',
            'IF': 'logic.if',
            'Set1': 'data.set',
        },
        'untranslated': {
            'After': 'n8n node type n8n-nodes-base.dateTime ha',
            'Before': 'n8n node type n8n-nodes-base.dateTime ha',
        },
        'errors': ['invalid_jsonlogic'],
    },
    'webhook_wait_set': {
        'translated': {
            'Webhook': 'trigger.webhook',
            'Wait': 'flow.wait',
            'Set': 'data.set',
        },
        'untranslated': {},
        'errors': [],
    },
}


def load(name):
    return json.loads((FIXTURES / f"{name}.json").read_text())


def imported(name):
    document, report = services.translate("n8n", load(name))
    return with_node_versions(document), report


def test_the_test_set_has_twenty_real_exports_each_with_an_expected_report():
    assert len(FILES) >= 20
    assert sorted(EXPECTED) == FILES
    sources = (FIXTURES / "SOURCES.md").read_text()
    assert all(f"| {name}.json | " in sources for name in FILES)


@pytest.mark.parametrize("name", FILES)
def test_import_report(name):
    source = load(name)
    document, report = imported(name)
    want = EXPECTED[name]
    assert {entry["from"]: entry["type"] for entry in report["translated"]} == want["translated"]
    assert {entry["from"]: entry["reason"][:40] for entry in report["untranslated"]} == want["untranslated"]
    assert sorted({error["code"] for error in validate_document(document)}) == want["errors"]
    # Nothing dropped silently: every node is translated, reported untranslated (with a placeholder
    # node named after it) or named in a warning.
    for node in source["nodes"]:
        accounted = node["name"] in want["translated"] or node["name"] in want["untranslated"]
        assert accounted or any(node["name"] in warning for warning in report["warnings"]), node["name"]
    names = {node["name"] for node in document["nodes"]}
    assert set(want["untranslated"]) <= names
    for entry in report["untranslated"]:
        placeholder = next(node for node in document["nodes"] if node["id"] == entry["placeholder"])
        assert placeholder["type"] == "flow.noop" and placeholder["description"].startswith("Untranslated n8n node")
    assert any("one item" in warning for warning in report["warnings"])


def edges(document):
    return {(edge["from"], edge.get("port", "main"), edge["to"]) for edge in document["edges"]}


def node(document, node_id):
    return next(n for n in document["nodes"] if n["id"] == node_id)


def test_if_outputs_become_the_true_and_false_ports_and_filters_become_jsonlogic():
    document, _ = imported("if_v2_number")
    assert {("if", "true", "then"), ("if", "false", "else")} <= edges(document)
    assert node(document, "if")["params"]["condition"] == {"or": [
        {"==": [{"var": "nodes.code.output.count"}, 1]}, {">": [{"var": "nodes.code.output.count"}, 10]}]}


def test_if_v1_operations_and_empty_outputs():
    document, _ = imported("if_v1_number")
    assert node(document, "if_smaller")["params"]["condition"] == {"<": [{"var": "nodes.code.output.value"}, 2]}
    assert node(document, "if_larger_or_equal")["params"]["condition"] == {
        ">=": [{"var": "nodes.code.output.value"}, 1]}
    # IF Is Empty has nothing on its true output: only its false port is connected.
    assert [e for e in edges(document) if e[0] == "if_is_empty"] == [("if_is_empty", "false", "on_false_is_empty")]


def test_switch_rules_become_cases_and_the_fallback_output_shares_its_nodes():
    for name, switch in (("switch_v3_rules", "switch1"), ("switch_v2_rules", "switch")):
        document, _ = imported(name)
        cases = node(document, switch)["params"]["cases"]
        assert len(cases) == 3
        out = edges(document)
        # fallbackOutput 2: unmatched items go where the third rule's go.
        assert (switch, cases[2]["name"], "no_operation_do_nothing2") in out
        assert (switch, "default", "no_operation_do_nothing2") in out
        assert (switch, cases[0]["name"], "no_operation_do_nothing") in out
    v3, _ = imported("switch_v3_rules")
    assert [case["name"] for case in node(v3, "switch1")["params"]["cases"]] == ["first_output", "second_output",
                                                                                 "third_output"]
    assert node(v3, "switch1")["params"]["cases"][0]["condition"] == {"===": [{"var": "nodes.code.output.output"},
                                                                               "first"]}


def test_merge_inputs_keep_their_order_and_modes_map():
    document, _ = imported("merge_choose_branch")
    into_merge1 = [e["from"] for e in document["edges"] if e["to"] == "merge1"]
    assert into_merge1 == ["code", "code1"]
    assert node(document, "merge1")["params"] == {"mode": "all", "shape": "object", "fields": {"code1": "code1"}}
    combine, _ = imported("merge_combine_by_fields")
    assert node(combine, "merge")["params"] == {"mode": "all", "shape": "merge_by_key", "key": "id"}
    append, _ = imported("merge_append")
    assert node(append, "merge")["params"] == {"mode": "all", "shape": "append"}


def test_the_error_output_becomes_the_error_port():
    document, report = imported("http_use_error_output")
    assert node(document, "http_request")["on_error"] == "route"
    assert {("http_request", "main", "success_path"), ("http_request", "error", "error_path")} <= edges(document)
    assert any("not valid JSON" in w for w in report["warnings"])


def test_pin_data_becomes_the_drafts_pins():
    document, report = imported("http_get")
    pinned = {"body": {"id": 1, "todo": "Do something nice for someone I care about", "completed": True, "userId": 26}}
    assert document["pins"]["http_request"] == pinned
    assert report["pins"] == document["pins"]
    assert validate_document(document) == []
    assert any("became the draft's pins" in warning for warning in report["warnings"])


@pytest.mark.django_db
def test_an_imported_draft_runs_its_pinned_http_node_without_a_call(httpserver):
    document, _ = imported("http_get")
    for n in document["nodes"]:
        if n["type"] == "http.request":
            n["params"]["url"] = httpserver.url_for("/todos/1")
    execution = run_inline(document, input_data={})
    assert execution.status == "succeeded", execution.error
    run = execution.node_runs.get(node_id="http_request")
    assert (run.pinned, run.output) == (True, document["pins"]["http_request"])
    assert httpserver.log == []


def test_a_loop_back_to_loop_over_items_is_left_out_and_reported():
    document, report = imported("split_in_batches_v2")
    assert ("if", "false", "split_in_batches") not in edges(document)
    assert any("closes a loop" in warning for warning in report["warnings"])
    # $node["Split In Batches"].context[…] has no equivalent: kept as it was, and the draft says so.
    assert node(document, "output")["params"]["output"]["maxRunIndex"].startswith("={{ $node[")


def test_javascript_in_conditions_is_kept_and_fails_validation_visibly():
    document, report = imported("wait_workflow")
    condition = node(document, "if")["params"]["condition"]
    assert condition == {">=": [{"n8n_expression": ["={{ parseInt($json.afterTimestamp) }}"]},
                                {"n8n_expression": ["={{ parseInt($json.startTimestamp) + 2 }}"]}]}
    assert sum("conditions.number[0].value" in w and "parseInt" in w for w in report["warnings"]) == 2


def test_triggers_waits_and_webhooks_map_their_settings():
    schedule, _ = imported("schedule_pinned")
    assert node(schedule, "schedule_trigger")["params"] == {"cron": "0 0 * * *"}
    wait, _ = imported("webhook_wait_set")
    assert node(wait, "wait")["params"] == {"seconds": 2.0}
    assert node(wait, "webhook")["params"]["methods"] == ["GET"]
    resumed, _ = imported("wait_for_webhook")
    assert node(resumed, "wait_node")["params"] == {"input": {}}
    mcp, _ = imported("mcp_available_webhook")
    assert node(mcp, "webhook")["params"]["response"] == "sync"
    assert node(mcp, "process_data")["params"]["output"] == {
        "received": '{{ (nodes.webhook.output.body) ~ "" }}', "status": "processed"}


# -- runs of the fully translatable exports: HTTP Request against n8n's mocked dummyjson.com ------

# The requests n8n's test mocks (HttpRequest.test.ts) expect, and the bodies they answer (= pinData).
MOCKS = {
    "http_get": [
        ("GET", "/todos/1", {}, None),
        ("GET", "/todos/3", {"headers": {"Authorization": "Bearer 12345"}}, None),
        ("GET", "/todos", {"query_string": {"limit": "2", "skip": "10"}}, None),
    ],
    "http_post": [
        ("POST", "/todos/add", {"json": {"todo": "Use DummyJSON in the project", "completed": False, "userId": "5"}},
         "http_request"),
        ("POST", "/todos/add2", {"json": {"todo": "Use DummyJSON in the project", "completed": False, "userId": 15}},
         "http_request1"),
    ],
    "http_put": [("PUT", "/todos/10", {"json": {"userId": "42"}}, None)],
    "http_patch": [("PATCH", "/products/1", {"json": {"title": "iPhone 12"}}, None)],
    "http_delete": [("DELETE", "/todos/1", {}, None)],
}
RUNNABLE = sorted(name for name in FILES if not EXPECTED[name]["untranslated"] and name in MOCKS)


WEBHOOK_CALL = {"body": {"q": 1}, "headers": {"content-type": "application/json"}, "query": {}, "method": "POST"}

# The other fully translatable exports: how each runs here, and n8n's result with where it comes from.
RUNS = {
    # Set v1 without fields and with keepOnlySet off hands on the item it gets (Set/v1 source); after a
    # manual trigger that item is empty. n8n's Wait hands its items on.
    "manual_wait_set": {"input": {}, "outputs": {"set": {}}},
    # The same after a webhook: the Set outputs the webhook's item.
    "webhook_wait_set": {"trigger_node": "webhook", "input": WEBHOOK_CALL, "outputs": {"set": WEBHOOK_CALL}},
    # Set v3.4 writes an object into a string field as JSON.stringify(value) (Set/v2/helpers/utils.ts,
    # prepareEntry), and responseMode lastNode answers the last node's item.
    "mcp_available_webhook": {"trigger_node": "webhook", "input": WEBHOOK_CALL,
                              "result": {"received": '{"q":1}', "status": "processed"}},
    # The file pins the trigger's items and what Edit Fields2 and Edit Fields7 output: the same items, passed
    # on by Set v3.2 nodes without fields (include: all). Run with the first pinned item (one item here).
    "schedule_pinned": {"trigger_node": "schedule_trigger", "input": {"name": "First item", "code": 1},
                        "outputs": {"edit_fields2": {"name": "First item", "code": 1},
                                    "edit_fields7": {"name": "First item", "code": 1},
                                    "edit_fields10": {"name": "First item", "code": 1}}},
    # A Wait resumed by a call outputs what the call sent.
    "wait_for_webhook": {"input": {}, "resume": ("wait_node", {"approved": True}),
                         "outputs": {"wait_node": {"approved": True}}},
    # n8n's pinData: the invalid JSON body fails the HTTP Request ("JSON parameter needs to be valid JSON")
    # and its error output leads to "Error path"; "Success path" does not run.
    "http_use_error_output": {"input": {}, "served": "https://webhook.site", "error": "not valid JSON",
                              "statuses": {"http_request": "failed", "error_path": "completed",
                                           "success_path": "skipped"}},
}


def test_every_fully_translatable_export_runs():
    translatable = sorted(name for name in FILES if not EXPECTED[name]["untranslated"] and not EXPECTED[name]["errors"])
    assert translatable == sorted([*MOCKS, *RUNS])


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(RUNS))
def test_imported_workflow_without_http_calls_gives_n8ns_result(name, httpserver):
    from executions import waking
    from executions.inline import InlineDispatcher

    run = RUNS[name]
    document, _ = imported(name)
    document.pop("pins", None)  # the translated nodes run, as n8n's would without pinData
    for n in document["nodes"]:
        if "served" in run and n["type"] == "http.request":
            n["params"]["url"] = n["params"]["url"].replace(run["served"], httpserver.url_for("/").rstrip("/"))
    execution = run_inline(document, input_data=run["input"], trigger_node=run.get("trigger_node"))
    if "resume" in run:
        assert execution.status == "waiting"
        dispatcher = InlineDispatcher()
        waking.wake_node(str(execution.pk), run["resume"][0], dispatcher=dispatcher, reason="input",
                         data=run["resume"][1])
        dispatcher.drain()
        execution.refresh_from_db()
    assert execution.status == "succeeded", execution.error
    runs = {r.node_id: r for r in execution.node_runs.all()}
    for node_id, output in run.get("outputs", {}).items():
        assert runs[node_id].output == output, node_id
    if "result" in run:
        assert execution.result == run["result"]
    for node_id, status in run.get("statuses", {}).items():
        assert runs[node_id].status == status, node_id
    if "error" in run:
        assert run["error"] in json.dumps(runs["http_request"].error)
        assert httpserver.log == []  # it failed before sending anything, as n8n's does


@pytest.mark.django_db
@pytest.mark.parametrize("name", RUNNABLE)
def test_imported_workflow_gives_n8ns_result(name, httpserver):
    document, report = imported(name)
    pins = document.pop("pins")  # served by the local server instead: the translated HTTP nodes run
    for method, path, match, pinned_node in MOCKS[name]:
        answer = pins[pinned_node or next(n for n in pins if _path_of(document, n) == path)]["body"]
        httpserver.expect_request(path, method=method, **match).respond_with_json(answer)
    base = httpserver.url_for("/").rstrip("/")
    for n in document["nodes"]:
        if n["type"] == "http.request":
            n["params"]["url"] = n["params"]["url"].replace("https://dummyjson.com", base)
    assert validate_document(document) == []
    execution = run_inline(document, input_data={})
    assert execution.status == "succeeded", execution.error
    outputs = dict(execution.node_runs.values_list("node_id", "output"))
    for node_id, pinned in pins.items():
        assert outputs[node_id]["body"] == pinned["body"], node_id
        assert outputs[node_id]["status"] == 200


def _path_of(document, node_id):
    url = node(document, node_id)["params"]["url"]
    return url.split("dummyjson.com", 1)[1]
