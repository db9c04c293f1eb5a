"""The REST API of global variables: every endpoint, owners kept apart, bad input named."""

import pytest
from django.test import override_settings
from django.conf import settings

from variables.models import Variable, VariableChange

pytestmark = pytest.mark.django_db

URL = "/api/v1/variables/"


def put(client, key, body):
    return client.put(f"{URL}{key}", body, format="json")


def test_put_creates_then_updates_with_a_version_per_write(alice_client):
    first = put(alice_client, "score", {"value": {"points": 1}})
    assert first.status_code == 200, first.content
    assert first.json()["key"] == "score" and first.json()["value"] == {"points": 1} and first.json()["version"] == 1
    second = put(alice_client, "score", {"value": [1, "two", None]})
    assert second.json()["version"] == 2 and second.json()["value"] == [1, "two", None]
    got = alice_client.get(f"{URL}score")
    assert got.status_code == 200 and got.json()["value"] == [1, "two", None] and got.json()["version"] == 2
    assert alice_client.get(f"{URL}score/").json()["version"] == 2  # with or without the slash


def test_null_is_a_value_and_a_missing_value_is_a_400_naming_it(alice_client):
    assert put(alice_client, "maybe", {"value": None}).json() | {"created_at": 0, "updated_at": 0} == {
        "key": "maybe", "value": None, "version": 1, "created_at": 0, "updated_at": 0}
    missing = put(alice_client, "maybe", {"val": 1})
    assert missing.status_code == 400
    assert "value" in missing.json()["error"]["details"] and "value" in missing.json()["error"]["message"]


def test_list_is_by_key_paginated_and_filtered_by_prefix_and_search(alice_client, bob_client):
    for key in ["order_2", "order_1", "stock", "other_order"]:
        put(alice_client, key, {"value": key})
    put(bob_client, "order_9", {"value": 9})
    listed = alice_client.get(URL).json()
    assert [item["key"] for item in listed["results"]] == ["order_1", "order_2", "other_order", "stock"]
    assert listed["count"] == 4
    assert [i["key"] for i in alice_client.get(URL, {"prefix": "order_"}).json()["results"]] == ["order_1", "order_2"]
    assert [i["key"] for i in alice_client.get(URL, {"search": "ORDER"}).json()["results"]] == [
        "order_1", "order_2", "other_order"]
    page = alice_client.get(URL, {"limit": 2, "offset": 2}).json()
    assert [i["key"] for i in page["results"]] == ["other_order", "stock"] and page["count"] == 4


def test_another_users_key_answers_404_to_every_method(alice_client, bob_client):
    put(alice_client, "secret_plan", {"value": 1})
    assert bob_client.get(f"{URL}secret_plan").status_code == 404
    assert bob_client.delete(f"{URL}secret_plan").status_code == 404
    assert bob_client.get(f"{URL}secret_plan/history/").json()["count"] == 0
    assert bob_client.get(URL).json()["count"] == 0
    # Bob's PUT makes Bob's own key; Alice's stays as it was.
    assert put(bob_client, "secret_plan", {"value": 2}).json()["version"] == 1
    assert alice_client.get(f"{URL}secret_plan").json() | {"created_at": 0, "updated_at": 0} == {
        "key": "secret_plan", "value": 1, "version": 1, "created_at": 0, "updated_at": 0}


def test_delete_removes_the_key_and_keeps_its_history(alice_client):
    put(alice_client, "gone", {"value": 1})
    assert alice_client.delete(f"{URL}gone").status_code == 204
    assert alice_client.get(f"{URL}gone").status_code == 404
    assert alice_client.delete(f"{URL}gone").status_code == 404
    history = alice_client.get(f"{URL}gone/history/").json()["results"]
    assert [(c["op"], c["old"], c["new"], c["new_version"]) for c in history] == [("delete", 1, None, 0),
                                                                                  ("set", None, 1, 1)]
    # A new write starts again at version 1.
    assert put(alice_client, "gone", {"value": 2}).json()["version"] == 1


def test_history_says_who_when_old_and_new_newest_first(alice_client, alice):
    put(alice_client, "h", {"value": 1})
    put(alice_client, "h", {"value": 2})
    history = alice_client.get(f"{URL}h/history/")
    assert history.status_code == 200
    changes = history.json()["results"]
    assert [(c["old"], c["new"], c["old_version"], c["new_version"]) for c in changes] == [(1, 2, 1, 2),
                                                                                          (None, 1, 0, 1)]
    assert all(c["user"] == "alice" and c["execution_id"] is None and c["at"] for c in changes)


@pytest.mark.parametrize(("key", "body", "field"), [
    ("1bad", {"value": 1}, "key"),
    ("bad-key", {"value": 1}, "key"),
    ("k" * 129, {"value": 1}, "key"),
    ("ok", {"value": 1, "expected_version": -1}, "expected_version"),
    ("ok", {"value": 1, "expected_version": "one"}, "expected_version"),
    ("ok", [1, 2], "value"),
])
def test_bad_input_answers_400_naming_the_field(alice_client, key, body, field):
    response = put(alice_client, key, body)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid" and field in error["details"]
    assert not Variable.objects.exists()


def test_a_value_over_the_size_limit_is_a_400_naming_value_and_the_limit(alice_client):
    with override_settings(NODEFLOW={**settings.NODEFLOW, "VARIABLE_MAX_BYTES": 100}):
        response = put(alice_client, "big", {"value": "x" * 200})
    assert response.status_code == 400
    error = response.json()["error"]
    assert "value" in error["details"] and "100" in error["message"] and "NODEFLOW_VARIABLE_MAX_BYTES" in error["message"]
    assert not Variable.objects.exists() and not VariableChange.objects.exists()


def test_a_value_with_a_nul_character_is_refused_as_unstorable(alice_client):
    response = put(alice_client, "nul", {"value": "a\u0000b"})  # the JSON parser refuses it
    assert response.status_code == 400 and "NUL" in response.json()["error"]["message"]
    assert not Variable.objects.exists()


def test_bad_keys_in_get_and_delete_are_400(alice_client):
    assert alice_client.get(f"{URL}no-dash").status_code == 400
    assert alice_client.delete(f"{URL}no-dash").status_code == 400


def test_compare_and_set_through_put_answers_409_with_both_versions(alice_client):
    assert put(alice_client, "cas", {"value": "a", "expected_version": 0}).json()["version"] == 1
    assert put(alice_client, "cas", {"value": "b", "expected_version": 1}).json()["version"] == 2
    stale = put(alice_client, "cas", {"value": "c", "expected_version": 1})
    assert stale.status_code == 409
    assert stale.json()["error"]["code"] == "conflict"
    assert stale.json()["error"]["details"] == {"key": "cas", "expected_version": 1, "version": 2}
    assert alice_client.get(f"{URL}cas").json()["value"] == "b"


def test_anonymous_requests_are_refused(client):
    assert client.get(URL).status_code in (401, 403)
