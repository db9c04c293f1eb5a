"""Documents and helpers for the trigger tests."""

import hashlib
import hmac
import time
from urllib.parse import urlparse

LIST = "/api/v1/workflows/"


def webhook_doc(result=None, extra_nodes=(), **params):
    """hook (trigger.webhook with `params`) → done (flow.terminal answering `result`, by default what was posted)."""
    nodes = [
        {"id": "hook", "type": "trigger.webhook", "params": params},
        {"id": "done", "type": "flow.terminal",
         "params": {"result": result if result is not None else {"got": "{{ input.body }}"}}},
        *extra_nodes,
    ]
    return {"api_version": "nodeflow/v1", "name": "Hooked", "nodes": nodes, "edges": [{"from": "hook", "to": "done"}]}


def schedule_doc(**params):
    return {"api_version": "nodeflow/v1", "name": "Scheduled",
            "nodes": [{"id": "tick", "type": "trigger.schedule", "params": params},
                      {"id": "done", "type": "flow.terminal", "params": {"result": "{{ input.fired_at }}"}}],
            "edges": [{"from": "tick", "to": "done"}]}


def create(client, doc):
    response = client.post(LIST, {"definition": doc}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def update(client, workflow_id, doc):
    response = client.put(f"{LIST}{workflow_id}/", {"definition": doc}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def publish(client, workflow_id):
    response = client.post(f"{LIST}{workflow_id}/publish/")
    assert response.status_code == 201, response.content
    return response.json()


def published_hook(client, doc):
    """(workflow json, production path, test path) of a created and published webhook workflow."""
    workflow = create(client, doc)
    publish(client, workflow["id"])
    trigger = next(t for t in workflow["triggers"] if t["type"] == "trigger.webhook")
    return workflow, urlparse(trigger["url"]).path, urlparse(trigger["test_url"]).path


def sign(secret, payload):
    return hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()


def generic_signature(secret, body, at=None):
    stamp = int(time.time() if at is None else at)
    return f"t={stamp},v1={sign(secret, f'{stamp}.'.encode() + body)}"


def assert_error(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}, body
    assert body["error"]["code"] == code, body
    return body["error"]
