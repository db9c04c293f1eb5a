"""Hostile input: expressions and JsonLogic stay bounded, odd bodies get a 4xx, never a 500."""

import json
import time

import pytest

from engine import expressions, jsonlogic
from tests.nodes.support import node, run, workflow

pytestmark = pytest.mark.django_db

CONTEXT = {"input": {"items": list(range(1000))}, "vars": {}, "nodes": {}}


@pytest.mark.parametrize("source", [
    "{{ 'x' * 10**9 }}",
    "{{ range(10**9)|list }}",
    "{{ (range(10000)|list) * 10000 }}",
    "{{ '%0999999999d' % 1 }}",
    "{{ ('a' * 1000000)|replace('a', 'aa')|replace('a', 'aa') }}",
    "{{ ''.join(['x'] * 10**8) }}",
    "{{ ().__class__.__mro__ }}",
    "{{ input.items * 100000 }}",
    "{{ " + "(" * 500 + "1" + ")" * 500 + " }}",
    "{{ '" + "x" * 5000 + "' }}",
])
def test_a_hostile_expression_fails_fast_with_a_clear_error(source):
    started = time.monotonic()

    with pytest.raises(expressions.ExpressionError) as error:
        expressions.render(source, CONTEXT, path="params.url")

    assert time.monotonic() - started < 2
    assert "params.url" in str(error.value)


@pytest.mark.parametrize("rule", [
    {"reduce": [{"var": "a"}, {"merge": [{"var": "accumulator"}, {"var": "accumulator"}, 1]}, []]},  # 2**1000 items
    {"reduce": [{"var": "a"}, {"cat": [{"var": "accumulator"}, {"var": "accumulator"}, "x"]}, ""]},  # 2**1000 chars
    {"map": [{"var": "big"}, {"+": [{"var": ""}, 1]}]},  # 200,000 items, more steps than the budget
    json.loads("[" * 200 + "1" + "]" * 200),
])
def test_a_hostile_jsonlogic_rule_runs_out_of_budget_fast(rule):
    started = time.monotonic()

    with pytest.raises(jsonlogic.LimitExceeded):
        jsonlogic.apply(rule, {"a": list(range(1000)), "big": list(range(200_000))})

    assert time.monotonic() - started < 2


def test_a_node_whose_params_would_build_a_huge_value_fails_alone():
    execution, runs = run(workflow([node("big", "data.set", output="{{ 'x' * 10**9 }}")]))

    assert execution.status == "failed"
    assert runs["big"].error["code"] == "expression"
    assert "too large" in runs["big"].error["message"]


@pytest.mark.parametrize("body", [
    '{"name": "x", "type": "bearer", "data": {"token": "a\\u0000b"}}',
    '{"name": "x\\u0000", "type": "bearer", "data": {"token": "t"}}',
    '{"name": "x", "type": "bearer", "data": {"token": "\\ud800"}}',
    '{"name": "x", "type": "bearer", "data": ' + "[" * 5000 + "]" * 5000 + "}",
    '{"name": "x", "type": "bearer", "data": {"token": "t"}',
    '[]',
    'null',
])
def test_odd_credential_bodies_are_a_400(alice_client, body):
    response = alice_client.post("/api/v1/credentials/", data=body, content_type="application/json")

    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] in ("invalid", "malformed_request")


def test_a_document_posted_as_a_form_field_gets_the_json_checks_too(alice_client):
    document = '{"api_version": "nodeflow/v1", "name": "a\\u0000b", "nodes": [], "edges": []}'

    response = alice_client.post("/api/v1/workflows/", {"definition": document})  # multipart form

    assert response.status_code == 400
    assert "NUL" in response.json()["error"]["message"]


def test_a_credential_sent_as_form_data_cannot_smuggle_non_strings(alice_client):
    response = alice_client.post("/api/v1/credentials/", {"name": "x", "type": "bearer", "data": "token"})

    assert response.status_code == 400
