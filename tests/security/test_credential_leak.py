"""A credential's value never lands in stored data: a real workflow run on a real worker whose
HTTP server plants the secret it received in bodies, headers, redirects and errors."""

import json

import pytest
from werkzeug import Response

from engine.redaction import MASK
from executions.models import Execution, ExecutionEvent, NodeRun
from tests.conftest import wait_for_execution

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

SECRET = "leak-canary-5b1e0c9d7a"


def bearer_of(request):
    return request.headers.get("Authorization", "").removeprefix("Bearer ")


def planting_server(httpserver):
    """Every answer carries the token the request came with: in the body (as a value and as a
    key), in a header, in a redirect's query and in an error."""

    def echo(request):
        token = bearer_of(request)
        body = {"you_sent": request.headers.get("Authorization"), "note": f"token is {token}", token: "as a key"}
        return Response(json.dumps(body), content_type="application/json", headers={"X-Echo": token})

    def hop(request):
        return Response(status=302, headers={"Location": f"/landing?key={bearer_of(request)}"})

    def landing(request):
        return Response(f"landed with {request.args.get('key')}", content_type="text/plain")

    def deny(request):
        return Response(json.dumps({"error": f"token {bearer_of(request)} is revoked"}), status=401,
                        content_type="application/json")

    httpserver.expect_request("/echo").respond_with_handler(echo)
    httpserver.expect_request("/hop").respond_with_handler(hop)
    httpserver.expect_request("/landing").respond_with_handler(landing)
    httpserver.expect_request("/deny").respond_with_handler(deny)


def document(httpserver, credential_id):
    def call(node_id, path, **extra):
        return {"id": node_id, "type": "http.request", "params": {"url": httpserver.url_for(path),
                                                                  "credential": credential_id}, **extra}

    nodes = [
        {"id": "start", "type": "trigger.manual"},
        call("echo", "/echo"),
        call("hop", "/hop"),
        call("deny", "/deny", on_error="continue"),
        {"id": "store", "type": "data.set", "params": {"vars": {"seen": "{{ nodes.echo.output.body }}"}}},
        {"id": "done", "type": "flow.terminal", "params": {"result": {
            "echo": "{{ nodes.echo.output }}", "landing": "{{ nodes.hop.output.body }}",
            "deny": "{{ nodes.deny.output }}", "seen": "{{ vars.seen }}"}}},
    ]
    edges = [{"from": a["id"], "to": b["id"]} for a, b in zip(nodes, nodes[1:])]
    return {"api_version": "nodeflow/v1", "name": "leak test", "nodes": nodes, "edges": edges}


def test_a_secret_planted_by_the_server_appears_nowhere_the_run_is_stored_or_served(alice_client, httpserver,
                                                                                    celery_worker):
    planting_server(httpserver)
    credential_id = alice_client.post("/api/v1/credentials/", {"name": "api", "type": "bearer",
                                                               "data": {"token": SECRET}}, format="json").json()["id"]
    workflow_id = alice_client.post("/api/v1/workflows/", {"definition": document(httpserver, credential_id)},
                                    format="json").json()["id"]

    started = alice_client.post(f"/api/v1/workflows/{workflow_id}/run/", {}, format="json")
    execution = wait_for_execution(started.json()["execution_id"], timeout=60)

    runs = {run.node_id: run for run in NodeRun.objects.filter(execution=execution)}
    assert execution.status == "succeeded", {node_id: run.error for node_id, run in runs.items()}
    assert runs["echo"].worker.startswith("test-")  # it ran on the worker process
    # The server did get the secret, and did plant it: it shows up masked.
    assert all(request.headers["Authorization"] == f"Bearer {SECRET}" for request, _ in httpserver.log)
    assert runs["echo"].output["body"]["note"] == f"token is {MASK}"
    assert runs["echo"].output["body"][MASK] == "as a key"
    assert runs["echo"].output["headers"]["x-echo"] == MASK
    assert any(f"key={MASK}" in entry["message"] for entry in runs["hop"].logs)
    assert runs["hop"].output["body"] == f"landed with {MASK}"
    assert f"token {MASK} is revoked" in runs["deny"].error["message"]
    assert execution.result["seen"]["note"] == f"token is {MASK}"

    stored = {
        "node runs": [NodeRun.objects.filter(pk=run.pk).values().get() for run in runs.values()],
        "events": list(ExecutionEvent.objects.filter(execution=execution).values("type", "node_id", "data")),
        "execution": Execution.objects.filter(pk=execution.pk).values("input", "result", "error", "artifacts").get(),
    }
    base = f"/api/v1/executions/{execution.pk}"
    served = {path: alice_client.get(path).content.decode() for path in [
        f"{base}/", f"{base}/nodes/", f"{base}/events/", f"{base}/context/", f"{base}/context/?after=echo",
        f"{base}/context/?after=deny&diff=1", f"{base}/nodes/echo/output/", "/api/v1/executions/",
        f"/api/v1/workflows/{workflow_id}/", f"/api/v1/workflows/{workflow_id}/export/",
        f"/api/v1/credentials/{credential_id}/",
    ]}
    leaks = [where for where, text in [(key, json.dumps(value, default=str)) for key, value in stored.items()]
             + list(served.items()) if SECRET in text]
    assert leaks == []
    assert all(alice_client.get(path).status_code == 200 for path in served)
