"""Issue 21, finding 2: a JSON Schema pattern cannot freeze the web process.

The attack: `{"pattern": "^(a+)+$"}` in a workflow's input_schema and the input
"aaaaaaaaaaaaaaaaaaaaaaaaaaaa!" took 35 s in the web request (Python's backtracking `re`),
and a concurrent /healthz took 34 s; through a published webhook anyone could do it."""

import json
import threading
import time

import pytest
from django.db import connection
from django.test import Client

from engine.schemas import check_patterns, schema_errors
from executions.inline import run_inline
from tests.triggers.support import published_hook, webhook_doc
from workflows.services import with_node_versions
from nodes.validation import validate_document

pytestmark = pytest.mark.django_db

EVIL_PATTERN = "^(a+)+$"
EVIL_INPUT = "a" * 28 + "!"
EVIL_SCHEMA = {"type": "object", "properties": {"name": {"type": "string", "pattern": EVIL_PATTERN}}}


def test_a_catastrophic_pattern_is_checked_in_linear_time():
    started = time.monotonic()
    errors = schema_errors(EVIL_SCHEMA, {"name": "a" * 100_000 + "!"})
    assert time.monotonic() - started < 0.5
    assert [list(error.path) for error in errors] == [["name"]]
    assert schema_errors(EVIL_SCHEMA, {"name": "aaaa"}) == []


def test_property_names_are_matched_in_linear_time_too():
    schema = {"type": "object", "patternProperties": {EVIL_PATTERN: {"type": "integer"}},
              "additionalProperties": False}
    started = time.monotonic()
    errors = schema_errors(schema, {EVIL_INPUT * 1000: 1, "aaa": "x"})
    assert time.monotonic() - started < 0.5
    assert len(errors) == 2


@pytest.mark.parametrize("pattern", [r"(a)\1", "(?=a)b", "(?<!a)b", r"a\Z"])
def test_patterns_that_need_backtracking_are_refused_when_saved_and_when_run(pattern):
    schema = {"type": "object", "properties": {"name": {"type": "string", "pattern": pattern}}}
    document = {"api_version": "nodeflow/v1", "name": "t", "input_schema": schema,
                "nodes": [{"id": "start", "type": "trigger.manual"},
                          {"id": "ask", "type": "flow.wait", "params": {"input": {"schema": schema}}}],
                "edges": [{"from": "start", "to": "ask"}]}

    problems = validate_document(document)
    refused = {(p["code"], p["path"]) for p in problems if "not supported" in p["message"]}

    assert refused == {("invalid_input_schema", "input_schema.properties.name.pattern"),
                       ("invalid_params", "nodes[1].params.input.schema.properties.name.pattern")}
    assert check_patterns(schema) and schema_errors(schema, {"name": "b"})


def _healthz_while(request, settings):
    """(seconds the request took, its response, the slowest /healthz answered while it ran)."""
    settings.NODEFLOW = {**settings.NODEFLOW, "HEALTH_WORKER_TIMEOUT_S": 0.05}
    answer, slowest = {}, [0.0]

    def attack():
        started = time.monotonic()
        try:
            answer["response"] = request()
            answer["seconds"] = time.monotonic() - started
        finally:
            connection.close()  # this thread's own connection

    thread = threading.Thread(target=attack)
    thread.start()
    client = Client()
    while thread.is_alive():
        started = time.monotonic()
        client.get("/healthz")
        slowest[0] = max(slowest[0], time.monotonic() - started)
    thread.join()
    return answer["seconds"], answer["response"], slowest[0]


@pytest.mark.django_db(transaction=True)
def test_the_reported_input_does_not_freeze_a_manual_run_or_healthz(alice_client, settings):
    document = {"api_version": "nodeflow/v1", "name": "t", "input_schema": EVIL_SCHEMA,
                "nodes": [{"id": "start", "type": "trigger.manual"}], "edges": []}
    workflow = alice_client.post("/api/v1/workflows/", {"definition": document}, format="json").json()["id"]

    seconds, response, healthz = _healthz_while(
        lambda: alice_client.post(f"/api/v1/workflows/{workflow}/run/", {"input": {"name": EVIL_INPUT}}, format="json"),
        settings)

    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_input"
    assert seconds < 1 and healthz < 1


@pytest.mark.django_db(transaction=True)
def test_an_anonymous_webhook_caller_cannot_freeze_the_server(alice_client, settings):
    doc = webhook_doc()
    doc["input_schema"] = EVIL_SCHEMA  # describes the body
    _, path, _ = published_hook(alice_client, doc)
    body = json.dumps({"name": EVIL_INPUT}).encode()

    seconds, response, healthz = _healthz_while(
        lambda: Client().post(path, body, content_type="application/json"), settings)

    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_input"
    assert seconds < 1 and healthz < 1


def test_input_posted_to_a_waiting_node_is_checked_in_linear_time(alice, alice_client):
    document = with_node_versions({"api_version": "nodeflow/v1", "name": "t", "nodes": [
        {"id": "start", "type": "trigger.manual"},
        {"id": "ask", "type": "flow.wait", "params": {"input": {"schema": EVIL_SCHEMA}}}],
        "edges": [{"from": "start", "to": "ask"}]})
    execution = run_inline(document, owner=alice)
    assert execution.status == "waiting"

    started = time.monotonic()
    response = alice_client.post(f"/api/v1/executions/{execution.pk}/input/",
                                 {"node_id": "ask", "data": {"name": EVIL_INPUT}}, format="json")

    assert time.monotonic() - started < 1
    assert response.status_code == 400
