"""User isolation: alice against every one of bob's objects, on every endpoint.

The endpoints are read from the URL resolver (and the WebSocket router), so a new one
cannot be forgotten: a route with an object in its URL is tried as alice with bob's
object (404, never 403, never data) and as bob (not 404, so the URL really names his
object); a route without one must be listed below as a list or as not per-user, or
the test fails."""

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.authtoken.models import Token

from credentials import services as credential_services
from credentials.models import Credential
from executions.inline import run_inline
from executions.models import Execution, ExecutionEvent, NodeRun
from triggers.models import WebhookEndpoint
from variables import services as variable_services
from variables.models import Variable, VariableChange
from workflows import services as workflow_services
from workflows.models import Workflow

pytestmark = pytest.mark.django_db

# Routes whose GET lists the user's own objects.
LIST_ROUTES = {"workflow-list", "execution-list", "credential-list", "variable-list"}
# Routes whose URL names a key in the caller's own namespace (global variables): another user's key
# of the same name is not reachable through them (test_a_variable_key_names_only_the_callers_own_below).
KEYED_BY_USER = {"variable-detail", "variable-history"}
# Routes with nothing per user in them (or, for webhooks, guarded by an unguessable token).
NOT_PER_USER = {
    "api-root", "auth-token", "node-types", "schema", "document-schema", "api-docs", "healthz", "metrics",
    "workflow-validate-document", "workflow-import", "credential-types",
    "webhook", "webhook-test",
    "frontend:login", "frontend:logout", "frontend:app", "frontend:app-page",
}
# Which of bob's objects a URL keyword names, by route name prefix for `pk`.
PK_OWNER = {"workflow-": "workflow", "execution-": "execution", "credential-": "credential"}
DOCUMENT = {
    "api_version": "nodeflow/v1",
    "name": "bob's secret flow",
    "nodes": [
        {"id": "start", "type": "trigger.manual"},
        {"id": "hook", "type": "trigger.webhook"},
        {"id": "first", "type": "data.set", "params": {"output": "bob-private-output"}},
        {"id": "done", "type": "flow.terminal", "params": {"result": "{{ nodes.first.output }}"}},
    ],
    "edges": [{"from": "start", "to": "first"}, {"from": "hook", "to": "first"}, {"from": "first", "to": "done"}],
}
BODIES = {
    "workflow-detail": {"name": "taken over", "definition": DOCUMENT},
    "workflow-run": {"input": {}},
    "execution-input": {"node_id": "first", "data": {}},
    "credential-detail": {"name": "taken over", "data": {"token": "mine-now"}},
}


class BobsWorld:
    """Bob's objects: a published workflow with a webhook, a finished execution, a credential."""

    def __init__(self, bob):
        self.workflow, errors = workflow_services.create_workflow(bob, None, DOCUMENT)
        assert errors == [], errors
        workflow_services.publish_workflow(self.workflow, bob)
        self.execution = run_inline(self.workflow.definition, owner=bob, workflow=self.workflow, revision=1)
        assert self.execution.status == "succeeded", self.execution.error
        self.credential = credential_services.create_credential(bob, "bob-key", "bearer", {"token": "bob-token-1"})
        self.endpoint = WebhookEndpoint.objects.get(workflow=self.workflow)
        self.token = Token.objects.get_or_create(user=bob)[0].key
        self.variable = variable_services.put(bob, "bob_plans", {"plan": "bob-private-variable"})

    def kwargs_for(self, name, keywords):
        values = {}
        for keyword in keywords:
            if keyword == "pk":
                owner = next((kind for prefix, kind in PK_OWNER.items() if name.startswith(prefix)), None)
                if owner is None:
                    raise AssertionError(f"route {name!r}: no rule for which object its pk names; add it to PK_OWNER")
                values["pk"] = str(getattr(self, owner).pk)
            elif keyword == "execution_id":
                values[keyword] = str(self.execution.pk)
            elif keyword == "workflow_id":
                values[keyword] = str(self.workflow.pk)
            elif keyword == "credential_id":
                values[keyword] = str(self.credential.pk)
            elif keyword == "number":
                values[keyword] = "1"
            elif keyword == "node_id":
                values[keyword] = "first"
            elif keyword == "format":
                values[keyword] = "json"
            elif keyword == "token":
                values[keyword] = self.endpoint.token
            elif keyword == "major":
                values[keyword] = 1
            elif keyword == "path":
                values[keyword] = "workflows/x"
            elif keyword == "key":
                values[keyword] = self.variable.key
            else:
                raise AssertionError(f"route {name!r}: unknown URL keyword {keyword!r}; teach BobsWorld.kwargs_for")
        return values

    def snapshot(self):
        """What alice must not be able to change."""
        return {
            "workflow": Workflow.objects.filter(pk=self.workflow.pk).values(
                "name", "definition", "revision", "published_version").first(),
            "execution": Execution.objects.filter(pk=self.execution.pk).values("status", "result", "last_seq").first(),
            "node runs": list(NodeRun.objects.filter(execution=self.execution).values("node_id", "status", "output")),
            "credential": Credential.objects.filter(pk=self.credential.pk).values("name", "type", "ciphertext").first(),
            "endpoint": WebhookEndpoint.objects.filter(pk=self.endpoint.pk).values("token", "listening_until").first(),
            "variable": Variable.objects.filter(owner=self.variable.owner).values("key", "value", "version").first(),
        }

    def secrets_in(self, text):
        """Bob's data that a response to alice shows."""
        markers = [str(self.workflow.pk), str(self.execution.pk), str(self.credential.pk), "bob's secret flow",
                   "bob-private-output", "bob-key", self.endpoint.token, "bob-private-variable"]
        return [marker for marker in markers if marker in text]


def _routes(patterns=None, prefix_keywords=(), namespace=""):
    """(name, URL keywords, view callback) of every route, admin's excepted (tested below)."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        keywords = tuple(prefix_keywords) + tuple(_keywords(pattern.pattern))
        if isinstance(pattern, URLResolver):
            if pattern.namespace == "admin":
                continue
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _routes(pattern.url_patterns, keywords, inner)
        elif isinstance(pattern, URLPattern):
            assert pattern.name, f"unnamed route {pattern.pattern}: name it so the matrix can cover it"
            yield f"{namespace}{pattern.name}", keywords, pattern.callback


def _keywords(pattern):
    if hasattr(pattern, "converters") and pattern.converters:
        return list(pattern.converters)
    return list(pattern.regex.groupindex)


def _methods(callback):
    actions = getattr(callback, "actions", None)
    if actions:  # a DRF viewset route: its own method → action mapping, less the methods the viewset turns off
        allowed = callback.cls.http_method_names
        return sorted(method.upper() for method in actions if method in allowed)
    view_class = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
    if view_class is not None:
        return sorted(m.upper() for m in view_class.http_method_names if m != "options" and hasattr(view_class, m))
    return ["GET"]


def owned_requests(world):
    """Every (route name, method, URL) whose URL names one of bob's objects."""
    requests, uncovered = [], []
    for name, keywords, callback in _routes():
        if name in LIST_ROUTES or name in NOT_PER_USER or name in KEYED_BY_USER:
            continue
        if not any(k in keywords for k in ("pk", "execution_id", "workflow_id", "credential_id")):
            uncovered.append(name)
            continue
        url = reverse(name, kwargs=world.kwargs_for(name, keywords))
        requests.extend((name, method, url) for method in _methods(callback) if method != "HEAD")
    assert uncovered == [], (f"routes not covered by the isolation matrix: {sorted(set(uncovered))}; an endpoint "
                             "without an object in its URL goes in LIST_ROUTES or NOT_PER_USER")
    return requests


def send(client, method, url, name):
    body = BODIES.get(name.removesuffix("-json"), {})
    return getattr(client, method.lower())(url, body, format="json") if method in ("POST", "PUT", "PATCH") \
        else getattr(client, method.lower())(url)


def test_every_endpoint_answers_404_to_alice_for_bobs_objects_and_serves_bob(alice_client, bob_client, bob):
    world = BobsWorld(bob)
    before = world.snapshot()
    requests = owned_requests(world)
    assert {name for name, _, _ in requests} >= {"workflow-detail", "workflow-run", "workflow-listen",
                                                  "execution-detail", "execution-event-stream", "credential-detail"}

    wrong = []
    for name, method, url in requests:
        response = send(alice_client, method, url, name)
        text = b"" if response.streaming else response.content
        shown = world.secrets_in(text.decode(errors="replace").replace(url, ""))
        if response.status_code != 404 or shown:
            wrong.append((method, url, response.status_code, shown))
    assert wrong == [], "alice reached bob's objects"
    assert world.snapshot() == before

    # The same URLs serve bob: the 404s above came from ownership, not from malformed URLs.
    not_served = []
    for name, method, url in sorted(requests, key=lambda r: r[1] == "DELETE"):
        response = send(bob_client, method, url, name)
        if response.status_code == 404 or response.status_code >= 500:
            not_served.append((method, url, response.status_code))
    assert not_served == []


def test_lists_show_only_the_users_own_objects(alice_client, alice, bob):
    world = BobsWorld(bob)
    mine, _ = workflow_services.create_workflow(alice, "alice's", None)
    listed = {}
    for name, keywords, _callback in _routes():
        if name in LIST_ROUTES:
            url = reverse(name, kwargs=world.kwargs_for(name, keywords))
            listed[url] = alice_client.get(url)
    filtered = alice_client.get(f"/api/v1/executions/?workflow={world.workflow.pk}")

    assert len(listed) == len(LIST_ROUTES)
    for url, response in listed.items():
        assert response.status_code == 200, url
        assert world.secrets_in(response.content.decode()) == [], url
    assert [w["id"] for w in alice_client.get("/api/v1/workflows/").json()["results"]] == [str(mine.pk)]
    assert filtered.status_code == 200 and filtered.json()["results"] == []


def test_endpoints_without_objects_show_alice_nothing_of_bobs(alice_client, bob):
    world = BobsWorld(bob)
    shown = {}
    for name, keywords, callback in _routes():
        if name not in NOT_PER_USER or name.startswith("webhook") or "GET" not in _methods(callback):
            continue
        url = reverse(name, kwargs=world.kwargs_for(name, keywords))
        response = alice_client.get(url)
        text = b"".join(response.streaming_content) if response.streaming else response.content
        if world.secrets_in(text.decode(errors="replace")):
            shown[url] = world.secrets_in(text.decode(errors="replace"))
    assert shown == {}


def test_the_list_routes_exist_and_no_route_is_classified_twice():
    names = {name for name, _, _ in _routes()}

    assert LIST_ROUTES <= names, f"listed but no longer routed: {sorted(LIST_ROUTES - names)}"
    assert not LIST_ROUTES & NOT_PER_USER
    assert KEYED_BY_USER <= names and not KEYED_BY_USER & (LIST_ROUTES | NOT_PER_USER)


def test_a_variable_key_names_only_the_callers_own(alice_client, alice, bob):
    world = BobsWorld(bob)
    before = world.snapshot()
    url = reverse("variable-detail", kwargs=world.kwargs_for("variable-detail", ("key",)))
    history = reverse("variable-history", kwargs=world.kwargs_for("variable-history", ("key",)))

    assert alice_client.get(url).status_code == 404
    assert alice_client.delete(url).status_code == 404
    answer = alice_client.get(history)
    assert answer.status_code == 200 and answer.json()["results"] == []
    # A write of the same key is alice's own variable: bob's is not touched, and never shown.
    written = alice_client.put(url, {"value": 1}, format="json")
    assert written.status_code == 200 and written.json()["version"] == 1
    assert world.secrets_in(written.content.decode()) == []
    assert world.snapshot() == before
    assert VariableChange.objects.filter(owner=alice).count() == 1
    assert [row["key"] for row in alice_client.get(history).json()["results"]] == ["bob_plans"]


# ---------------------------------------------------------------------------
# WebSockets


async def _connect(path):
    communicator = WebsocketCommunicator(_application(), path, headers=[(b"origin", b"http://localhost")])
    connected, code = await communicator.connect(timeout=5)
    if connected:
        await communicator.receive_json_from(timeout=5)  # the snapshot
        await communicator.disconnect()
    return connected, code


def _application():
    from nodeflow.asgi import application

    return application


def _socket_routes(world):
    from nodeflow.asgi import websocket_urlpatterns

    routes = []
    for pattern in websocket_urlpatterns:
        keywords = _keywords(pattern.pattern)
        kind = {"execution_id": "execution", "workflow_id": "workflow"}
        assert keywords and all(k in kind for k in keywords), f"socket route {pattern.pattern}: no isolation rule"
        path = str(pattern.pattern)
        for keyword in keywords:
            path = path.replace(f"<uuid:{keyword}>", str(getattr(world, kind[keyword]).pk))
        routes.append("/" + path)
    return routes


@pytest.mark.django_db(transaction=True)
def test_every_socket_refuses_alice_on_bobs_objects_and_accepts_bob(alice, bob):
    world = BobsWorld(bob)
    alice_token = Token.objects.get_or_create(user=alice)[0].key
    routes = _socket_routes(world)

    as_alice = {path: async_to_sync(_connect)(f"{path}?token={alice_token}") for path in routes}
    anonymous = {path: async_to_sync(_connect)(path) for path in routes}
    as_bob = {path: async_to_sync(_connect)(f"{path}?token={world.token}") for path in routes}

    assert len(routes) == 2
    assert all(result == (False, 4403) for result in as_alice.values()), as_alice
    assert all(result == (False, 4403) for result in anonymous.values()), anonymous
    assert all(connected for connected, _ in as_bob.values()), as_bob


# ---------------------------------------------------------------------------
# The admin


def test_staff_see_every_users_objects_in_the_admin(client, alice, bob, django_user_model):
    world = BobsWorld(bob)
    alices, _ = workflow_services.create_workflow(alice, "alice's flow", None)
    staff = django_user_model.objects.create_superuser("root", "root@example.com", "root-password-1")
    client.force_login(staff)
    event = ExecutionEvent.objects.filter(execution=world.execution).first()
    run = NodeRun.objects.filter(execution=world.execution).first()

    pages = {
        "/admin/workflows/workflow/": ["bob&#x27;s secret flow", "alice&#x27;s flow"],
        f"/admin/workflows/workflow/{world.workflow.pk}/change/": ["bob&#x27;s secret flow"],
        f"/admin/workflows/workflow/{alices.pk}/change/": ["alice&#x27;s flow"],
        "/admin/executions/execution/": [str(world.execution.pk)],
        f"/admin/executions/execution/{world.execution.pk}/change/": [str(world.execution.pk)],
        f"/admin/executions/noderun/{run.pk}/change/": [run.node_id],
        f"/admin/executions/executionevent/{event.pk}/change/": [event.type],
        "/admin/credentials/credential/": ["bob-key"],
        "/admin/triggers/webhookendpoint/": [world.endpoint.token],
        "/admin/django_celery_beat/periodictask/": [],
    }
    failed = {}
    for url, expected in pages.items():
        response = client.get(url)
        text = response.content.decode()
        if response.status_code != 200 or not all(item in text for item in expected):
            failed[url] = response.status_code
    assert failed == {}


def test_the_admin_is_closed_to_users_who_are_not_staff(client, alice):
    client.force_login(alice)

    response = client.get("/admin/workflows/workflow/")

    assert response.status_code == 302 and "/admin/login/" in response["Location"]
