"""Throttles, login-failure limits, security headers, production settings and request-body caps."""

import itertools
import os
import secrets
import subprocess
import sys
import time

import pytest
from asgiref.sync import async_to_sync
from rest_framework.test import APIClient

from nodeflow.security import BodySizeLimit
from tests.conftest import ROOT

pytestmark = pytest.mark.django_db

TOKEN = "/api/v1/auth/token/"
_addresses = itertools.count(1)


def fresh_address():
    """A client address of its own per test: throttle and failure counters are kept per address."""
    n = next(_addresses) + secrets.randbelow(200) * 1000
    return f"198.51.{(n // 250) % 250}.{n % 250 + 1}"


@pytest.fixture
def rates(settings):
    def set_rates(**rates):
        settings.NODEFLOW = {**settings.NODEFLOW, "THROTTLE_RATES": {**settings.NODEFLOW["THROTTLE_RATES"], **rates}}

    return set_rates


@pytest.fixture
def login_limit(settings):
    def set_limit(limit, window_s=900):
        settings.NODEFLOW = {**settings.NODEFLOW, "LOGIN_FAILURE_LIMIT": limit, "LOGIN_FAILURE_WINDOW_S": window_s}

    return set_limit


def token_request(client, username, password, address):
    return client.post(TOKEN, {"username": username, "password": password}, format="json", REMOTE_ADDR=address)


# ---------------------------------------------------------------------------
# Throttles


def test_the_token_endpoint_is_throttled_per_client_address(alice, rates):
    rates(auth="3/min")
    client, address = APIClient(), fresh_address()

    answers = [token_request(client, "alice", "alice-password-1", address).status_code for _ in range(4)]
    elsewhere = token_request(client, "alice", "alice-password-1", fresh_address())

    assert answers == [200, 200, 200, 429]
    assert elsewhere.status_code == 200


def test_a_throttled_answer_has_the_error_envelope_and_retry_after(alice, rates):
    rates(auth="1/min")
    client, address = APIClient(), fresh_address()
    token_request(client, "alice", "alice-password-1", address)

    response = token_request(client, "alice", "alice-password-1", address)

    assert response.status_code == 429
    assert response.json()["error"]["code"] == "throttled"
    assert int(response["Retry-After"]) > 0


def test_a_forged_x_forwarded_for_does_not_escape_the_throttle(alice, rates):
    rates(auth="2/min")
    client, address = APIClient(), fresh_address()

    answers = [client.post(TOKEN, {"username": "alice", "password": "alice-password-1"}, format="json",
                           REMOTE_ADDR=address, HTTP_X_FORWARDED_FOR=f"203.0.113.{i}").status_code
               for i in range(3)]

    assert answers == [200, 200, 429]


def test_running_a_workflow_is_throttled_per_user(alice_client, bob_client, rates):
    rates(run="2/min")
    document = {"api_version": "nodeflow/v1", "name": "t", "nodes": [{"id": "start", "type": "trigger.manual"}],
                "edges": []}
    mine = alice_client.post("/api/v1/workflows/", {"definition": document}, format="json").json()["id"]
    bobs = bob_client.post("/api/v1/workflows/", {"definition": document}, format="json").json()["id"]

    answers = [alice_client.post(f"/api/v1/workflows/{mine}/run/", {}, format="json").status_code for _ in range(3)]
    other_user = bob_client.post(f"/api/v1/workflows/{bobs}/run/", {}, format="json")

    assert answers == [202, 202, 429]
    assert other_user.status_code == 202


def test_reading_is_not_throttled_by_the_run_rate(alice_client, rates):
    rates(run="1/min")

    answers = {alice_client.get("/api/v1/workflows/").status_code for _ in range(5)}

    assert answers == {200}


# ---------------------------------------------------------------------------
# Login failures


def test_repeated_wrong_passwords_lock_the_name_from_that_address_even_for_the_right_one(alice, login_limit):
    login_limit(3)
    client, address = APIClient(), fresh_address()

    wrong = [token_request(client, "alice", "guess", address).status_code for _ in range(3)]
    right_but_locked = token_request(client, "alice", "alice-password-1", address)
    from_elsewhere = token_request(client, "alice", "alice-password-1", fresh_address())

    assert wrong == [400, 400, 400]
    assert right_but_locked.status_code == 429
    assert right_but_locked.json()["error"]["code"] == "too_many_login_failures"
    assert from_elsewhere.status_code == 200


def test_a_successful_login_clears_the_failures(alice, login_limit):
    login_limit(3)
    client, address = APIClient(), fresh_address()

    answers = [token_request(client, "alice", password, address).status_code
               for password in ("guess", "guess", "alice-password-1", "guess", "guess", "alice-password-1")]

    assert answers == [400, 400, 200, 400, 400, 200]


def test_failures_expire_with_their_window(alice, login_limit):
    login_limit(2, window_s=1)
    client, address = APIClient(), fresh_address()
    token_request(client, "alice", "guess", address)
    token_request(client, "alice", "guess", address)
    locked = token_request(client, "alice", "alice-password-1", address)

    time.sleep(2.1)
    later = token_request(client, "alice", "alice-password-1", address)

    assert (locked.status_code, later.status_code) == (429, 200)


def test_the_admin_login_counts_failures_and_locks_too(client, django_user_model, login_limit):
    login_limit(2)
    django_user_model.objects.create_superuser("root", "root@example.com", "root-password-1")
    address = fresh_address()

    def admin_login(password):
        return client.post("/admin/login/?next=/admin/", {"username": "root", "password": password},
                           REMOTE_ADDR=address)

    admin_login("guess")
    admin_login("guess")
    locked = admin_login("root-password-1")
    signed_in_while_locked = "_auth_user_id" in client.session
    elsewhere = client.post("/admin/login/?next=/admin/", {"username": "root", "password": "root-password-1"},
                            REMOTE_ADDR=fresh_address())

    assert locked.status_code == 200 and not signed_in_while_locked  # the form again, not signed in
    assert elsewhere.status_code == 302 and elsewhere["Location"] == "/admin/"


def test_many_names_from_one_address_are_limited_too(login_limit, django_user_model):
    login_limit(1)  # ten failures from one address for any names lock that address
    django_user_model.objects.create_user("carol", "carol@example.com", "carol-password-1")
    client, address = APIClient(), fresh_address()

    for i in range(10):
        token_request(client, f"nobody-{i}", "guess", address)
    locked = token_request(client, "carol", "carol-password-1", address)

    assert locked.status_code == 429


# ---------------------------------------------------------------------------
# Headers and production settings


@pytest.mark.parametrize("path", ["/api/v1/workflows/", "/healthz", "/admin/login/"])
def test_security_headers_are_on_every_answer(client, path):
    response = client.get(path)

    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"


def deploy_check(**environment):
    data_dir = ROOT / "test-artifacts" / "deploy-check"
    env = {
        "PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"),
        "DJANGO_SETTINGS_MODULE": "nodeflow.settings", "NODEFLOW_DATA_DIR": str(data_dir),
        "STATIC_ROOT": str(data_dir / "static"), "DEBUG": "false", "ALLOWED_HOSTS": "flows.example.com",
        "SECRET_KEY": secrets.token_urlsafe(60), **environment,
    }
    return subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)


def test_the_deploy_check_is_clean_with_production_settings():
    result = deploy_check(NODEFLOW_HTTPS="true")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_deploy_check_complains_without_https():
    result = deploy_check()

    assert result.returncode != 0
    assert "security.W004" in result.stderr + result.stdout  # no HSTS
    assert "security.W008" in result.stderr + result.stdout  # no redirect to https


def test_https_mode_redirects_to_https_but_not_the_health_probe(client, settings):
    settings.SECURE_SSL_REDIRECT = True

    page = client.get("/api/v1/node-types/")
    probe = client.get("/healthz")

    assert page.status_code == 301 and page["Location"].startswith("https://")
    assert probe.status_code in (200, 503)


# ---------------------------------------------------------------------------
# Request bodies at the ASGI door


class _Recorder:
    def __init__(self, messages):
        self.incoming = list(messages)
        self.sent = []
        self.app_saw = []

    async def receive(self):
        return self.incoming.pop(0) if self.incoming else {"type": "http.disconnect"}

    async def send(self, message):
        self.sent.append(message)

    async def app(self, scope, receive, send):
        while True:
            message = await receive()
            self.app_saw.append(message["type"])
            if message["type"] == "http.disconnect" or not message.get("more_body"):
                break
        if self.app_saw[-1] != "http.disconnect":
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"ok"})


def _call(headers, chunks, limit=100):
    recorder = _Recorder([{"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
                          for i, chunk in enumerate(chunks)])
    middleware = BodySizeLimit(recorder.app, limit_for=lambda path: limit)
    scope = {"type": "http", "path": "/api/v1/workflows/", "headers": headers}
    async_to_sync(middleware)(scope, recorder.receive, recorder.send)
    return recorder


def test_a_declared_body_over_the_limit_is_refused_before_it_is_read():
    recorder = _call([(b"content-length", b"101")], [b"x" * 101])

    assert recorder.sent[0]["status"] == 413
    assert recorder.app_saw == []  # the application never ran


def test_a_chunked_body_is_cut_off_once_it_passes_the_limit():
    recorder = _call([], [b"x" * 60, b"x" * 60, b"x" * 60])

    assert [m.get("status") for m in recorder.sent if m["type"] == "http.response.start"] == [413]
    assert recorder.app_saw == ["http.request", "http.disconnect"]


def test_a_body_within_the_limit_passes():
    recorder = _call([(b"content-length", b"100")], [b"x" * 50, b"x" * 50])

    assert recorder.sent[0]["status"] == 200


def test_the_asgi_application_refuses_a_large_declared_body_with_413():
    from nodeflow.asgi import application

    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/api/v1/workflows/", "query_string": b"",
             "headers": [(b"content-length", b"999999999"), (b"host", b"localhost")], "server": ("localhost", 80)}
    async_to_sync(application)(scope, receive, send)

    assert sent[0]["status"] == 413
    assert b"payload_too_large" in sent[1]["body"]
