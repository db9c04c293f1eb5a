"""While PostgreSQL or Redis is unreachable, the web answers 503 with a clear error (or accepts a run
and lets recovery send it), never a 500. The outages are real: connections to a port nothing listens on."""

import socket

import pytest
from django.db import connection

from tests.conftest import wait_for_execution
from tests.triggers.support import create


def closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # free once the socket closes: nothing listens there


@pytest.fixture(autouse=True)
def answered_like_a_server(client, alice_client):
    """The test clients answer as the server would (handler500) instead of raising the view's exception."""
    client.raise_request_exception = alice_client.raise_request_exception = False


@pytest.fixture
def database_down():
    """The web's database connection goes to a port where nothing listens, until the test ends."""
    saved = connection.settings_dict.copy()
    connection.close()
    connection.settings_dict.update(HOST="127.0.0.1", PORT=str(closed_port()))
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)


@pytest.fixture
def cache_down(settings):
    """Redis, as the cache (throttles, lockouts, markers), at a port where nothing listens."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": f"redis://127.0.0.1:{closed_port()}/0"}}


@pytest.mark.django_db(transaction=True)
def test_an_api_request_while_the_database_is_down_is_a_503_naming_it(alice_client, database_down):
    response = alice_client.get("/api/v1/workflows/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    error = response.json()["error"]
    assert error["code"] == "service_unavailable" and error["details"] == {"service": "the database"}


@pytest.mark.django_db(transaction=True)
def test_a_webhook_while_the_database_is_down_is_a_503(client, database_down):
    response = client.post("/hooks/some-token", data=b"{}", content_type="application/json")
    assert response.status_code == 503 and response.json()["error"]["code"] == "service_unavailable"


def test_a_run_while_the_cache_is_down_is_accepted_and_runs(celery_worker, alice_client, alice, cache_down):
    workflow = create(alice_client, {"api_version": "nodeflow/v1", "name": "run me", "nodes": [
        {"id": "start", "type": "trigger.manual"}, {"id": "done", "type": "flow.terminal", "params": {"result": 1}}],
        "edges": [{"from": "start", "to": "done"}]})
    response = alice_client.post(f"/api/v1/workflows/{workflow['id']}/run/", {"input": {}}, format="json")
    assert response.status_code == 202, response.content
    # The worker (its cache is up) runs it; waiting for that also keeps it from writing while the test's
    # database is emptied afterwards.
    assert wait_for_execution(response.json()["execution_id"]).status == "succeeded"


@pytest.mark.django_db(transaction=True)
def test_a_login_while_the_cache_is_down_is_refused_with_a_503_not_let_through(client, alice, cache_down):
    response = client.post("/api/v1/auth/token/", {"username": "alice", "password": "alice-password-1"},
                           content_type="application/json")
    assert response.status_code == 503
    assert response.json()["error"]["details"] == {"service": "the broker or cache"}
