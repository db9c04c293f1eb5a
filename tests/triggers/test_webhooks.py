"""Webhooks without a worker: URLs and tokens, auth modes, limits, idempotency, test URLs, what lands in the input.

The executions these requests start stay queued (the test transaction is never
committed, so nothing is sent to a worker): the tests look at the rows."""

import json
import threading
import time
from datetime import timedelta
from urllib.parse import urlparse

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from executions.models import Execution
from tests.conftest import wait_for_execution
from tests.triggers.support import (
    LIST,
    assert_error,
    create,
    generic_signature,
    publish,
    published_hook,
    sign,
    update,
    webhook_doc,
)
from triggers.models import IdempotencyKey, TriggerSecret, WebhookEndpoint

pytestmark = pytest.mark.django_db

JSON = "application/json"


def post(client, path, body=b"{}", content_type=JSON, **headers):
    return client.post(path, body, content_type=content_type, headers=headers)


def execution_of(response):
    assert response.status_code == 202, response.content
    assert set(response.json()) == {"execution_id"}
    return Execution.objects.get(pk=response.json()["execution_id"])


# -- URLs and tokens -----------------------------------------------------------------------


def test_saving_a_draft_with_a_webhook_gives_it_absolute_urls_with_an_unguessable_token(alice_client):
    workflow = create(alice_client, webhook_doc())
    [trigger] = workflow["triggers"]
    endpoint = WebhookEndpoint.objects.get(workflow_id=workflow["id"], node_id="hook")
    assert trigger == {"node_id": "hook", "type": "trigger.webhook", "url": f"http://testserver/hooks/{endpoint.token}",
                       "test_url": f"http://testserver/hooks/test/{endpoint.token}", "next_runs": []}
    assert len(endpoint.token) >= 43  # 32 random bytes


def test_a_configured_public_url_makes_the_webhook_urls(alice_client, settings):
    settings.NODEFLOW = {**settings.NODEFLOW, "PUBLIC_URL": "https://flows.example.com"}
    [trigger] = create(alice_client, webhook_doc())["triggers"]
    assert trigger["url"].startswith("https://flows.example.com/hooks/")


def test_the_token_stays_across_saves_and_differs_between_nodes(alice_client):
    workflow = create(alice_client, webhook_doc())
    token = WebhookEndpoint.objects.get(workflow_id=workflow["id"]).token
    doc = webhook_doc(response="async")
    doc["nodes"].append({"id": "other", "type": "trigger.webhook"})
    doc["edges"].append({"from": "other", "to": "done"})
    saved = update(alice_client, workflow["id"], doc)
    tokens = {t["node_id"]: urlparse(t["url"]).path.rsplit("/", 1)[1] for t in saved["triggers"]}
    assert tokens["hook"] == token
    assert tokens["other"] != token and len(set(tokens.values())) == 2


# Committed, as in production: the web process serves production URLs from its cache (triggers.hookcache),
# which a change drops when its transaction commits.
@pytest.mark.django_db(transaction=True)
def test_a_removed_webhook_node_loses_its_url_unless_the_published_version_has_it(alice_client):
    workflow, path, _ = published_hook(alice_client, webhook_doc())
    manual = {"api_version": "nodeflow/v1", "name": "Manual", "nodes": [{"id": "start", "type": "trigger.manual"}],
              "edges": []}
    update(alice_client, workflow["id"], manual)
    assert post(Client(), path).status_code == 202  # still the published version's URL
    publish(alice_client, workflow["id"])
    assert not WebhookEndpoint.objects.filter(workflow_id=workflow["id"]).exists()
    assert_error(post(Client(), path), 404, "not_found")


def test_the_list_of_workflows_shows_webhook_urls_without_a_query_per_workflow(alice_client, django_assert_max_num_queries):
    for _ in range(3):
        create(alice_client, webhook_doc())
    with django_assert_max_num_queries(6):
        listed = alice_client.get(LIST).json()["results"]
    assert all(w["triggers"][0]["url"] for w in listed)


# -- what lands in the execution -----------------------------------------------------------


def test_a_posted_json_body_with_headers_and_query_lands_in_the_input_of_the_published_version(alice_client):
    workflow, path, _ = published_hook(alice_client, webhook_doc())
    execution = execution_of(post(Client(), f"{path}?page=2&tag=a&tag=b", json.dumps({"email": "ada@example.com"}),
                                  X_Custom="yes", Cookie="session=1", Authorization="Bearer x"))
    assert execution.trigger == "webhook" and execution.trigger_node == "hook"
    assert str(execution.workflow_id) == workflow["id"]
    assert execution.version == 1 and execution.status == "queued"
    assert execution.input["body"] == {"email": "ada@example.com"}
    assert execution.input["query"] == {"page": "2", "tag": ["a", "b"]}
    assert execution.input["method"] == "POST"
    assert execution.input["headers"]["x-custom"] == "yes"
    assert "cookie" not in execution.input["headers"] and "authorization" not in execution.input["headers"]


def test_a_form_body_becomes_an_object_and_other_text_stays_text(alice_client):
    _, path, _ = published_hook(alice_client, webhook_doc())
    form = execution_of(post(Client(), path, "a=1&b=x&b=y", content_type="application/x-www-form-urlencoded"))
    assert form.input["body"] == {"a": "1", "b": ["x", "y"]}
    text = execution_of(post(Client(), path, "plain words", content_type="text/plain"))
    assert text.input["body"] == "plain words"


def test_other_methods_are_refused_unless_allowed(alice_client):
    _, path, _ = published_hook(alice_client, webhook_doc())
    refused = Client().get(path)
    assert_error(refused, 405, "method_not_allowed")
    assert refused["Allow"] == "POST"
    _, path, _ = published_hook(alice_client, webhook_doc(methods=["GET", "POST"]))
    execution = execution_of(Client().get(f"{path}?q=1"))
    assert execution.input["method"] == "GET" and execution.input["query"] == {"q": "1"}


# -- limits ---------------------------------------------------------------------------------


def test_an_unknown_token_answers_404_in_the_error_envelope(db):
    assert_error(post(Client(), "/hooks/no-such-token"), 404, "not_found")
    assert_error(post(Client(), "/hooks/" + "x" * 300), 404, "not_found")


@pytest.mark.django_db(transaction=True)  # committed: see above
def test_an_unpublished_workflow_answers_404(alice_client):
    workflow = create(alice_client, webhook_doc())
    path = urlparse(workflow["triggers"][0]["url"]).path
    assert_error(post(Client(), path), 404, "not_published")
    publish(alice_client, workflow["id"])
    assert post(Client(), path).status_code == 202
    alice_client.post(f"{LIST}{workflow['id']}/unpublish/")
    assert_error(post(Client(), path), 404, "not_published")


def test_a_webhook_only_in_the_draft_answers_404_on_the_production_url(alice_client):
    manual = {"api_version": "nodeflow/v1", "name": "M", "nodes": [{"id": "start", "type": "trigger.manual"}],
              "edges": []}
    workflow = create(alice_client, manual)
    publish(alice_client, workflow["id"])
    saved = update(alice_client, workflow["id"], webhook_doc())
    assert_error(post(Client(), urlparse(saved["triggers"][0]["url"]).path), 404, "not_published")


def test_a_body_over_the_size_limit_answers_413(alice_client):
    _, path, _ = published_hook(alice_client, webhook_doc(max_body_kb=1))
    assert post(Client(), path, json.dumps({"x": "a" * 900})).status_code == 202
    assert_error(post(Client(), path, json.dumps({"x": "a" * 1100})), 413, "payload_too_large")
    assert Execution.objects.count() == 1


def test_a_limit_above_djangos_own_upload_limit_is_the_one_that_applies(alice_client, settings):
    _, path, _ = published_hook(alice_client, webhook_doc(max_body_kb=4096))
    body = json.dumps({"x": "a" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1000)})
    assert len(execution_of(post(Client(), path, body)).input["body"]["x"]) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE


@pytest.mark.parametrize("body, content_type", [("not json", "text/plain"), ("{broken", JSON), ("", JSON),
                                                ("[NaN]", JSON)])
def test_a_body_that_is_not_json_answers_400_where_json_is_required(alice_client, body, content_type):
    _, path, _ = published_hook(alice_client, webhook_doc(require_json=True))
    assert_error(post(Client(), path, body, content_type=content_type), 400, "invalid_json")
    assert not Execution.objects.exists()


def test_json_that_postgresql_cannot_store_answers_400_not_500(alice_client):
    _, path, _ = published_hook(alice_client, webhook_doc())
    assert_error(post(Client(), path, '{"a": "nul \\u0000 here"}'), 400, "invalid_body")
    assert_error(post(Client(), path, "[" * 200 + "]" * 200), 400, "invalid_body")


def test_more_requests_than_the_rate_limit_answer_429(alice_client):
    _, path, _ = published_hook(alice_client, webhook_doc(rate_limit_per_min=2))
    assert [post(Client(), path).status_code for _ in range(2)] == [202, 202]
    refused = post(Client(), path)
    assert_error(refused, 429, "rate_limited")
    assert int(refused["Retry-After"]) > 0
    assert Execution.objects.count() == 2


def test_the_servers_rate_limit_caps_a_triggers_own(alice_client, settings):
    settings.NODEFLOW = {**settings.NODEFLOW, "WEBHOOK_RATE_LIMIT_PER_MIN": 1}
    _, path, _ = published_hook(alice_client, webhook_doc(rate_limit_per_min=100))
    assert post(Client(), path).status_code == 202
    assert_error(post(Client(), path), 429, "rate_limited")


# -- auth -----------------------------------------------------------------------------------


def test_header_auth_accepts_the_secret_and_refuses_a_wrong_or_missing_one(alice_client):
    _, path, _ = published_hook(alice_client, webhook_doc(auth="header", secret="open sesame", header_name="X-Token"))
    execution = execution_of(post(Client(), path, X_Token="open sesame"))
    assert "x-token" not in execution.input["headers"]
    assert_error(post(Client(), path, X_Token="open sesame!"), 401, "secret_invalid")
    assert_error(post(Client(), path), 401, "secret_missing")
    assert Execution.objects.count() == 1


def test_generic_hmac_accepts_a_fresh_signature_and_refuses_wrong_missing_old_and_replayed_ones(alice_client):
    _, path, _ = published_hook(alice_client, webhook_doc(auth="hmac", secret="k3y"))
    body = b'{"n": 1}'
    good = generic_signature("k3y", body)
    execution = execution_of(post(Client(), path, body, X_NodeFlow_Signature=good))
    assert "x-nodeflow-signature" not in execution.input["headers"]
    assert_error(post(Client(), path, body, X_NodeFlow_Signature=good), 401, "replayed")
    assert_error(post(Client(), path, body, X_NodeFlow_Signature=generic_signature("wrong", body)), 401,
                 "signature_invalid")
    assert_error(post(Client(), path, b'{"n": 2}', X_NodeFlow_Signature=generic_signature("k3y", body)), 401,
                 "signature_invalid")
    assert_error(post(Client(), path, body), 401, "signature_missing")
    assert_error(post(Client(), path, body, X_NodeFlow_Signature="v1=abc"), 401, "signature_invalid")
    old = generic_signature("k3y", body, at=time.time() - 301)
    assert_error(post(Client(), path, body, X_NodeFlow_Signature=old), 401, "signature_expired")
    assert Execution.objects.count() == 1


def test_the_replay_window_is_configurable(alice_client):
    _, path, _ = published_hook(alice_client, webhook_doc(auth="hmac", secret="k3y", replay_window_s=3600))
    body = b"{}"
    assert post(Client(), path, body, X_NodeFlow_Signature=generic_signature("k3y", body, time.time() - 1800)
                ).status_code == 202


def test_github_signatures_are_checked_and_a_delivery_is_accepted_once(alice_client):
    _, path, _ = published_hook(alice_client, webhook_doc(auth="hmac", secret="gh", hmac_preset="github"))
    body = b'{"action": "opened"}'
    headers = {"X_Hub_Signature_256": f"sha256={sign('gh', body)}", "X_GitHub_Delivery": "d-1",
               "X_GitHub_Event": "issues"}
    execution = execution_of(post(Client(), path, body, **headers))
    assert execution.input["headers"]["x-github-event"] == "issues"
    assert "x-hub-signature-256" not in execution.input["headers"]
    assert_error(post(Client(), path, body, **headers), 401, "replayed")
    # the delivery id is not signed: the same signed body with another id is a replay (issue 21)
    assert_error(post(Client(), path, body, **{**headers, "X_GitHub_Delivery": "d-2"}), 401, "replayed")
    other = b'{"action": "closed"}'
    assert post(Client(), path, other, **{**headers, "X_Hub_Signature_256": f"sha256={sign('gh', other)}"}
                ).status_code == 202
    assert_error(post(Client(), path, body, **{**headers, "X_Hub_Signature_256": f"sha256={sign('x', body)}"}), 401,
                 "signature_invalid")
    assert_error(post(Client(), path, body, X_GitHub_Delivery="d-3"), 401, "signature_missing")


def test_stripe_signatures_are_checked_with_their_timestamp(alice_client):
    _, path, _ = published_hook(alice_client, webhook_doc(auth="hmac", secret="whsec_1", hmac_preset="stripe"))
    body = b'{"type": "invoice.paid"}'
    stamp = int(time.time())
    header = f"t={stamp},v1={sign('x', f'{stamp}.'.encode() + body)},v1={sign('whsec_1', f'{stamp}.'.encode() + body)}"
    execution = execution_of(post(Client(), path, body, Stripe_Signature=header))
    assert "stripe-signature" not in execution.input["headers"]
    assert_error(post(Client(), path, body, Stripe_Signature=header), 401, "replayed")
    assert_error(post(Client(), path, body, X_NodeFlow_Signature=header), 401, "signature_missing")
    stale = stamp - 600
    old = f"t={stale},v1={sign('whsec_1', f'{stale}.'.encode() + body)}"
    assert_error(post(Client(), path, body, Stripe_Signature=old), 401, "signature_expired")


def test_a_request_refused_after_its_signature_was_checked_may_be_sent_again(alice_client):
    doc = webhook_doc(auth="hmac", secret="k3y")
    doc["input_schema"] = {"type": "object", "required": ["email"]}  # describes the body, as in FORMAT.md
    workflow, path, _ = published_hook(alice_client, doc)
    body = b'{"name": "no email"}'
    signature = generic_signature("k3y", body)
    error = assert_error(post(Client(), path, body, X_NodeFlow_Signature=signature), 400, "invalid_input")
    assert "email" in error["message"]
    assert_error(post(Client(), path, body, X_NodeFlow_Signature=signature), 400, "invalid_input")


# -- secrets --------------------------------------------------------------------------------


def test_a_webhook_secret_is_stored_encrypted_and_never_shown(alice_client):
    workflow = create(alice_client, webhook_doc(auth="hmac", secret="very-secret-value"))
    stored = workflow["definition"]["nodes"][0]["params"]["secret"]
    assert stored.startswith("nodeflow-secret:")
    secret = TriggerSecret.objects.get(workflow_id=workflow["id"])
    assert "very-secret-value" not in secret.ciphertext
    for url in (f"{LIST}{workflow['id']}/", f"{LIST}{workflow['id']}/export/"):
        assert "very-secret-value" not in alice_client.get(url).content.decode()
    with connection.cursor() as cursor:
        cursor.execute("SELECT definition::text FROM workflows_workflow WHERE id = %s", [workflow["id"]])
        assert "very-secret-value" not in cursor.fetchone()[0]


def test_a_secret_serves_only_its_own_workflow_even_once_cached(alice_client):
    from triggers import services

    owner = create(alice_client, webhook_doc(auth="hmac", secret="alices-key"))
    other = create(alice_client, webhook_doc(auth="hmac", secret="other-key"))
    reference = owner["definition"]["nodes"][0]["params"]["secret"]
    assert services.reveal_secret(owner["id"], reference) == "alices-key"  # now cached
    assert services.reveal_secret(other["id"], reference) is None


def test_saving_the_document_back_keeps_the_secret_and_the_revision(alice_client):
    workflow = create(alice_client, webhook_doc(auth="header", secret="s1"))
    again = update(alice_client, workflow["id"], workflow["definition"])
    assert again["revision"] == workflow["revision"]
    same_text = update(alice_client, workflow["id"], webhook_doc(auth="header", secret="s1"))
    assert same_text["definition"] == workflow["definition"]
    assert TriggerSecret.objects.count() == 1


def test_a_published_version_keeps_its_secret_while_the_draft_changes_it(alice_client):
    workflow, path, test_path = published_hook(alice_client, webhook_doc(auth="header", secret="old"))
    update(alice_client, workflow["id"], webhook_doc(auth="header", secret="new"))
    alice_client.post(f"{LIST}{workflow['id']}/listen/")
    assert post(Client(), path, X_NodeFlow_Secret="old").status_code == 202
    assert_error(post(Client(), path, X_NodeFlow_Secret="new"), 401, "secret_invalid")
    assert post(Client(), test_path, X_NodeFlow_Secret="new").status_code == 202
    assert_error(post(Client(), test_path, X_NodeFlow_Secret="old"), 401, "secret_invalid")


def test_an_imported_export_keeps_its_secret_for_the_owner_only(alice_client, bob_client):
    workflow, _, _ = published_hook(alice_client, webhook_doc(auth="header", secret="mine"))
    exported = alice_client.get(f"{LIST}{workflow['id']}/export/").json()
    copy = alice_client.post(f"{LIST}import/", {"document": exported}, format="json").json()
    assert copy["validation"]["valid"], copy["validation"]
    _, path, _ = published_hook(alice_client, copy["definition"])
    assert post(Client(), path, X_NodeFlow_Secret="mine").status_code == 202
    theirs = bob_client.post(f"{LIST}import/", {"document": exported}, format="json").json()
    assert "secret" not in theirs["definition"]["nodes"][0]["params"]
    assert [(e["code"], e["path"]) for e in theirs["validation"]["errors"]] == [
        ("invalid_params", "nodes[0].params.secret")]


def test_auth_without_a_secret_is_a_validation_error(alice_client):
    workflow = create(alice_client, webhook_doc(auth="hmac"))
    assert [(e["code"], e["path"]) for e in workflow["validation"]["errors"]] == [
        ("invalid_params", "nodes[0].params.secret")]


# -- idempotency ----------------------------------------------------------------------------


def test_the_same_idempotency_key_returns_the_first_execution(alice_client):
    _, path, _ = published_hook(alice_client, webhook_doc())
    first = post(Client(), path, b'{"n": 1}', Idempotency_Key="order-7")
    again = post(Client(), path, b'{"n": 2}', Idempotency_Key="order-7")
    assert again.status_code == 202 and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    other = post(Client(), path, b'{"n": 3}', Idempotency_Key="order-8")
    assert other.json() != first.json()
    assert Execution.objects.count() == 2


def test_an_idempotency_key_is_forgotten_after_its_time_to_live(alice_client):
    _, path, _ = published_hook(alice_client, webhook_doc())
    first = post(Client(), path, Idempotency_Key="k").json()
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=25))
    again = post(Client(), path, Idempotency_Key="k").json()
    assert again != first and IdempotencyKey.objects.count() == 1


def test_a_too_long_idempotency_key_answers_400(alice_client):
    _, path, _ = published_hook(alice_client, webhook_doc())
    assert_error(post(Client(), path, Idempotency_Key="k" * 256), 400, "invalid_idempotency_key")


@pytest.mark.worker
def test_concurrent_requests_with_one_idempotency_key_start_one_execution(celery_worker, alice_client):
    _, path, _ = published_hook(alice_client, webhook_doc())
    barrier = threading.Barrier(6)
    answers = []

    def send():
        try:
            barrier.wait()
            answers.append(post(Client(), path, Idempotency_Key="same"))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [a.status_code for a in answers] == [202] * 6
    assert len({a.json()["execution_id"] for a in answers}) == 1
    assert Execution.objects.count() == 1
    # Committed, so a worker runs it: once, to the end (and nothing is left running at teardown).
    assert wait_for_execution(answers[0].json()["execution_id"]).status == "succeeded"


# -- the test URL ---------------------------------------------------------------------------


def test_the_test_url_runs_the_draft_only_while_listening(alice_client):
    workflow = create(alice_client, webhook_doc())
    test_path = urlparse(workflow["triggers"][0]["test_url"]).path
    assert_error(post(Client(), test_path), 404, "not_listening")
    listened = alice_client.post(f"{LIST}{workflow['id']}/listen/")
    assert listened.status_code == 200
    until = listened.json()["listening_until"]
    assert [t["test_url"] for t in listened.json()["triggers"]] == [workflow["triggers"][0]["test_url"]]
    execution = execution_of(post(Client(), test_path))
    assert execution.version is None and execution.revision == workflow["revision"]
    WebhookEndpoint.objects.update(listening_until=timezone.now() - timedelta(seconds=1))
    assert_error(post(Client(), test_path), 404, "not_listening")
    assert until


def test_listening_needs_a_webhook_in_the_draft(alice_client, bob_client):
    manual = {"api_version": "nodeflow/v1", "name": "M", "nodes": [{"id": "start", "type": "trigger.manual"}],
              "edges": []}
    workflow = create(alice_client, manual)
    assert_error(alice_client.post(f"{LIST}{workflow['id']}/listen/"), 400, "no_webhook")
    hooked = create(alice_client, webhook_doc())
    assert_error(bob_client.post(f"{LIST}{hooked['id']}/listen/"), 404, "not_found")


def test_a_test_url_of_an_invalid_draft_answers_409(alice_client):
    doc = webhook_doc()
    doc["edges"].append({"from": "done", "to": "nowhere"})
    workflow = create(alice_client, doc)
    alice_client.post(f"{LIST}{workflow['id']}/listen/")
    assert_error(post(Client(), urlparse(workflow["triggers"][0]["test_url"]).path), 409, "invalid_workflow")


def test_deleting_the_workflow_removes_its_webhook_urls(alice_client):
    workflow, path, _ = published_hook(alice_client, webhook_doc(auth="header", secret="s"))
    assert alice_client.delete(f"{LIST}{workflow['id']}/").status_code == 204
    assert not WebhookEndpoint.objects.exists() and not TriggerSecret.objects.exists()
    assert_error(post(Client(), path), 404, "not_found")


def test_webhook_requests_are_counted_by_status_for_metrics(alice_client, settings):
    from prometheus_client.parser import text_string_to_metric_families

    settings.NODEFLOW = {**settings.NODEFLOW, "METRICS_PUBLIC": True}  # scraped without a token

    def counts():
        text = Client().get("/metrics").content.decode()
        family = next(f for f in text_string_to_metric_families(text) if f.name == "nodeflow_webhook_requests")
        return {s.labels["status"]: s.value for s in family.samples}

    _, path, _ = published_hook(alice_client, webhook_doc())
    before = counts()
    post(Client(), path)
    post(Client(), "/hooks/unknown")
    after = counts()
    assert after["202"] - before["202"] == 1 and after["404"] - before["404"] == 1
