"""n8n's Loop Over Items and Execute Workflow → flow.foreach and flow.subworkflow (IMPORT.md, COMPOSITION.md):
small workflows in n8n's export shape, imported, validated and run inline."""

import pytest

from executions.inline import run_inline
from executions.models import Execution
from importers import services
from nodes.validation import validate_document
from workflows.services import with_node_versions

pytestmark = pytest.mark.django_db


def n8n_node(name, type_, version=1, **parameters):
    return {"name": name, "type": f"n8n-nodes-base.{type_}", "typeVersion": version, "parameters": parameters,
            "position": [200, 0]}


def link(*targets):
    """One `main` output per argument: each a target name, a list of them, or None (nothing connected)."""
    outputs = []
    for target in targets:
        names = [] if target is None else [target] if isinstance(target, str) else target
        outputs.append([{"node": name, "type": "main", "index": 0} for name in names])
    return {"main": outputs}


def assignments(**fields):
    return {"assignments": [{"name": name, "type": "number", "value": value} for name, value in fields.items()]}


def by_id(nodes, node_id):
    return next(n for n in nodes if n["id"] == node_id)


def loop_workflow(batch_size=1, back_from="Double"):
    """Start → Loop Over Items; its loop output → Double (Set) → back to the loop; its done output → Done."""
    return {
        "name": "loop", "id": "loop-wf",
        "nodes": [n8n_node("Start", "manualTrigger"),
                  n8n_node("Loop Over Items", "splitInBatches", 3, batchSize=batch_size, options={}),
                  n8n_node("Double", "set", 3.4, assignments=assignments(doubled="={{ $json.n * 2 }}")),
                  n8n_node("Done", "noOp")],
        "connections": {"Start": link("Loop Over Items"), "Loop Over Items": link("Done", "Double"),
                        back_from: link("Loop Over Items")},
    }


def test_loop_over_items_becomes_a_foreach_whose_body_holds_the_loop_and_runs_per_item():
    document, report = services.translate("n8n", loop_workflow())
    document = with_node_versions(document)
    assert report["untranslated"] == []
    assert not any("closes a loop" in warning for warning in report["warnings"])
    loop = by_id(document["nodes"], "loop_over_items")
    assert loop["type"] == "flow.foreach" and loop["name"] == "Loop Over Items"
    assert (loop["params"]["concurrency"], loop["params"]["batch_size"]) == (1, 1)
    body = loop["params"]["graph"]
    assert [n["type"] for n in body["nodes"]] == ["trigger.group", "data.set"]
    assert body["edges"] == [{"from": "loop_start", "to": "double"}]
    # $json inside the body is the current item.
    assert "input.item.n" in by_id(body["nodes"], "double")["params"]["output"]["doubled"]
    assert {n["id"] for n in document["nodes"]} == {"start", "loop_over_items", "done"}
    assert sorted((e["from"], e["to"], e.get("port", "main")) for e in document["edges"]) == [
        ("loop_over_items", "done", "main"), ("start", "loop_over_items", "main")]
    notes = next(entry["notes"] for entry in report["translated"] if entry["from"] == "Loop Over Items")
    assert any(note.startswith("items: what 'Start' outputs") for note in notes)
    assert validate_document(document) == []

    # n8n: Double runs once per item ({doubled: 2}, {doubled: 4}, {doubled: 6}); the done output hands on
    # every item that came back, in order.
    execution = run_inline(document, input_data=[{"n": 1}, {"n": 2}, {"n": 3}])
    assert execution.status == "succeeded", execution.error
    runs = {run.node_id: run for run in execution.node_runs.all()}
    assert runs["loop_over_items"].output == [{"doubled": 2}, {"doubled": 4}, {"doubled": 6}]
    assert runs["done"].status == "completed"
    assert Execution.objects.filter(parent=execution).count() == 3  # one child execution per item


def test_a_loop_fed_one_item_runs_once_and_batch_size_is_reported():
    document, report = services.translate("n8n", loop_workflow(batch_size=5))
    notes = next(entry["notes"] for entry in report["translated"] if entry["from"] == "Loop Over Items")
    assert any(note.startswith("batchSize 5:") for note in notes)
    execution = run_inline(with_node_versions(document), input_data={"n": 5})
    assert execution.status == "succeeded", execution.error
    assert dict(execution.node_runs.values_list("node_id", "output"))["loop_over_items"] == [{"doubled": 10}]


def test_a_body_that_goes_back_through_an_if_ends_in_a_terminal_giving_the_item():
    source = loop_workflow()
    condition = {"conditions": [{"leftValue": "={{ $json.doubled }}", "rightValue": 3,
                                 "operator": {"type": "number", "operation": "gt"}}], "combinator": "and"}
    source["nodes"].append(n8n_node("Big", "if", 2, conditions=condition))
    source["connections"]["Double"] = link("Big")
    source["connections"]["Big"] = link(None, "Loop Over Items")  # only the small ones come back
    document, report = services.translate("n8n", source)
    document = with_node_versions(document)
    body = by_id(document["nodes"], "loop_over_items")["params"]["graph"]
    terminal = by_id(body["nodes"], "loop_result")
    assert terminal["params"]["result"] == "{{ nodes.double.output }}"
    assert {"from": "big", "to": "loop_result", "port": "false"} in body["edges"]
    assert validate_document(document) == []
    execution = run_inline(document, input_data=[{"n": 1}, {"n": 2}])
    assert execution.status == "succeeded", execution.error
    # n8n's done output leaves out the item that did not come back; here its iteration gives null (reported).
    assert dict(execution.node_runs.values_list("node_id", "output"))["loop_over_items"] == [{"doubled": 2}, None]
    assert any("gives null" in warning for warning in report["warnings"])


def test_loops_without_a_way_back_and_old_versions_stay_untranslated_with_the_reason():
    document, report = services.translate("n8n", loop_workflow(back_from="Done"))
    reasons = {entry["from"]: entry["reason"] for entry in report["untranslated"]}
    assert reasons["Loop Over Items"].startswith("no node of its loop body connects back to it")
    old = loop_workflow()
    old["nodes"][1]["typeVersion"] = 2
    document, report = services.translate("n8n", old)
    reasons = {entry["from"]: entry["reason"] for entry in report["untranslated"]}
    assert reasons["Loop Over Items"].startswith("Split In Batches v1/v2 has one output")
    assert any("closes a loop" in warning for warning in report["warnings"])


def test_a_body_reading_a_node_outside_the_loop_is_reported():
    source = loop_workflow()
    source["nodes"][2]["parameters"]["assignments"] = assignments(x="={{ $('Start').item.json.n }}")
    document, report = services.translate("n8n", source)
    assert any("outside the loop body of 'Loop Over Items'" in warning for warning in report["warnings"])


def called_workflow():
    """The n8n workflow an Execute Workflow node calls: its trigger, then a Set adding to the item."""
    return {"name": "called", "id": "wf-called",
            "nodes": [n8n_node("Execute Workflow Trigger", "executeWorkflowTrigger", 1),
                      n8n_node("Add", "set", 3.4, assignments=assignments(total="={{ $json.a + $json.b }}"))],
            "connections": {"Execute Workflow Trigger": link("Add")}}


def calling_workflow(called_id="wf-called", version=1.1, **options):
    workflow_id = called_id if version < 1.1 else {"__rl": True, "value": called_id, "mode": "list"}
    return {"name": "caller", "id": "wf-caller",
            "nodes": [n8n_node("Start", "manualTrigger"),
                      n8n_node("Call", "executeWorkflow", version, source="database", workflowId=workflow_id,
                               options=options)],
            "connections": {"Start": link("Call")}}


def test_execute_workflow_calls_the_workflow_imported_from_its_target(alice):
    called, errors, report = services.import_workflow(alice, "n8n", called_workflow())
    assert errors == [] and report["untranslated"] == []
    assert called.definition["description"] == 'Imported from n8n (workflow id "wf-called").'
    caller, errors, report = services.import_workflow(alice, "n8n", calling_workflow())
    assert errors == [] and report["untranslated"] == []
    call = by_id(caller.definition["nodes"], "call")
    assert call["type"] == "flow.subworkflow"
    assert call["params"] == {"workflow": str(called.pk), "version": "draft", "input": "{{ nodes.start.output }}",
                              "wait": True}
    # n8n: the called workflow gets the item and the node outputs what its last node does.
    execution = run_inline(caller.definition, owner=alice, input_data={"a": 2, "b": 3})
    assert execution.status == "succeeded", execution.error
    assert dict(execution.node_runs.values_list("node_id", "output"))["call"] == {"total": 5}


def test_execute_workflow_v1_with_wait_off(alice):
    called, _, _ = services.import_workflow(alice, "n8n", called_workflow())
    caller, errors, report = services.import_workflow(alice, "n8n", calling_workflow(version=1,
                                                                                     waitForSubWorkflow=False))
    call = by_id(caller.definition["nodes"], "call")
    assert call["params"]["workflow"] == str(called.pk) and call["params"]["wait"] is False
    notes = next(entry["notes"] for entry in report["translated"] if entry["from"] == "Call")
    assert any("waitForSubWorkflow off" in note for note in notes)


def test_execute_workflow_whose_target_was_not_imported_says_what_to_do(alice, bob):
    services.import_workflow(bob, "n8n", called_workflow())  # another user's import is not alice's
    _, errors, report = services.import_workflow(alice, "n8n", calling_workflow())
    reasons = {entry["from"]: entry["reason"] for entry in report["untranslated"]}
    assert reasons["Call"].startswith("it calls n8n workflow 'wf-called', which has not been imported into NodeFlow")
    assert "import that workflow into NodeFlow (its n8n export) first, then import this one again" in reasons["Call"]
    # Translated without knowing the user's workflows (no owner), the same.
    _, report = services.translate("n8n", calling_workflow())
    assert report["untranslated"][0]["reason"] == reasons["Call"]


def test_execute_workflow_v1_2_merges_its_mapped_inputs_into_the_item(alice):
    services.import_workflow(alice, "n8n", called_workflow())
    source = calling_workflow(version=1.2)
    source["nodes"][1]["parameters"]["workflowInputs"] = {"mappingMode": "defineBelow", "value": {"b": 10}}
    caller, errors, report = services.import_workflow(alice, "n8n", source)
    assert errors == [] and report["untranslated"] == []
    execution = run_inline(caller.definition, owner=alice, input_data={"a": 2, "b": 3})
    assert execution.status == "succeeded", execution.error
    assert dict(execution.node_runs.values_list("node_id", "output"))["call"] == {"total": 12}
