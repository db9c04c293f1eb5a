"""The editor's pages on the Django side: login, logout, the app at every client route, the bundle."""

import json
import re

import pytest
from django.test import Client
from rest_framework.test import APIClient

from frontend import assets

pytestmark = pytest.mark.django_db

WORKFLOW_URL = "/workflows/0b8e6a4e-7f1a-4b7e-9d55-1c2a3b4c5d6e"


@pytest.fixture
def alice_browser(alice):
    client = Client()
    client.force_login(alice)
    return client


def test_the_app_sends_anonymous_people_to_the_login_page(client):
    for path in ("/", WORKFLOW_URL):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"] == f"/login/?next={path}"


def test_signing_in_returns_to_the_page_asked_for(client, alice):
    page = client.get(f"/login/?next={WORKFLOW_URL}")
    assert page.status_code == 200
    assert b"Sign in" in page.content and b"NodeFlow" in page.content
    response = client.post("/login/", {"username": "alice", "password": "alice-password-1", "next": WORKFLOW_URL})
    assert response.status_code == 302
    assert response["Location"] == WORKFLOW_URL
    assert client.get(WORKFLOW_URL).status_code == 200


def test_a_wrong_password_is_refused_with_a_message(client, alice):
    response = client.post("/login/", {"username": "alice", "password": "nope"})
    assert response.status_code == 200
    assert b'role="alert"' in response.content
    assert "_auth_user_id" not in client.session


def test_repeated_wrong_passwords_lock_the_sign_in_page_too(client, alice, settings):
    settings.NODEFLOW = {**settings.NODEFLOW, "LOGIN_FAILURE_LIMIT": 2}
    address = "203.0.113.77"  # a fresh address: failure counts are kept per address
    for _ in range(2):
        client.post("/login/", {"username": "alice", "password": "nope"}, REMOTE_ADDR=address)
    locked = client.post("/login/", {"username": "alice", "password": "alice-password-1"}, REMOTE_ADDR=address)
    assert locked.status_code == 200
    assert b"Too many failed sign-ins" in locked.content
    assert "_auth_user_id" not in client.session


def test_signing_out_takes_a_post(alice_browser):
    page = alice_browser.get("/logout/")
    assert page.status_code == 200 and b"Sign out?" in page.content
    assert alice_browser.get("/").status_code == 200  # a GET did not sign out
    response = alice_browser.post("/logout/")
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert alice_browser.get("/").status_code == 302


def _config(response):
    match = re.search(rb'<script id="nodeflow-config" type="application/json">(.*?)</script>', response.content)
    return json.loads(match.group(1))


def test_every_client_route_gets_the_app_with_its_bundle_and_a_csrf_cookie(alice_browser):
    for path in ("/", WORKFLOW_URL, f"{WORKFLOW_URL}/executions/0b8e6a4e-7f1a-4b7e-9d55-1c2a3b4c5d6e", "/no/such/page"):
        response = alice_browser.get(path)
        assert response.status_code == 200, path
        assert b'<div id="root">' in response.content
        assert "csrftoken" in response.cookies
    config = _config(response)
    assert config["apiRoot"] == "/api/v1/"
    assert config["documentSchemaUrl"] == "/api/schema/nodeflow/v1/"
    assert config["user"] == {"username": "alice"}
    bundle = assets.bundle()
    html = response.content.decode()
    assert f'src="/static/{bundle.script}"' in html
    for path in (bundle.script, *bundle.styles):
        assert f"/static/{path}" in html
        assert alice_browser.get(f"/static/{path}").status_code == 200, path


def test_the_built_bundle_names_files_that_exist():
    manifest = json.loads(assets.MANIFEST.read_text())
    files = [entry["file"] for entry in manifest.values()] + [css for entry in manifest.values() for css in entry.get("css", [])]
    assert files
    for name in files:
        assert (assets.APP_DIR / name).is_file(), name
    assert assets.bundle().script.endswith(".js")


def test_the_app_does_not_shadow_the_server_s_own_paths(alice_browser):
    api_missing = alice_browser.get("/api/v1/no-such-thing/")
    assert api_missing.status_code == 404
    assert api_missing.json()["error"]["code"] == "not_found"
    assert alice_browser.get("/api/v1/workflows/").status_code == 200
    assert alice_browser.get("/healthz")["Content-Type"].startswith("application/json")
    assert alice_browser.get("/admin/").status_code in (200, 302)
    for path in ("/hooks/not-a-token", "/static/frontend/app/no-such-file.js", "/ws/executions/x/", "/metrics-nope"):
        response = alice_browser.get(path)
        assert b'id="nodeflow-config"' not in response.content, path


def test_session_api_calls_need_the_csrf_token(alice):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(alice)
    page = client.get("/")
    token = page.cookies["csrftoken"].value
    refused = client.post("/api/v1/workflows/", {"name": "No token"}, format="json")
    assert refused.status_code == 403
    created = client.post("/api/v1/workflows/", {"name": "With token"}, format="json", HTTP_X_CSRFTOKEN=token)
    assert created.status_code == 201


def test_a_missing_bundle_answers_with_instructions(alice_browser, monkeypatch, tmp_path, settings):
    settings.DEBUG = True  # read the manifest afresh
    monkeypatch.setattr(assets, "MANIFEST", tmp_path / "manifest.json")
    response = alice_browser.get("/")
    assert response.status_code == 503
    assert b"npm run build" in response.content
