"""Stored credentials applied by http.request (inline runs against a real local HTTP server)."""

import base64
import json

import pytest
from werkzeug import Response

from credentials import services
from engine.redaction import MASK
from executions.inline import run_inline
from nodes.http_request import v1
from tests.nodes.support import node, runs_of, workflow

pytestmark = pytest.mark.django_db

SECRET = "tok-3f9a1c77e2b54d08"


def echo(request):
    """The request's headers, as JSON: a server that plants whatever secret it got in its answer."""
    return Response(json.dumps({"headers": {key.lower(): value for key, value in request.headers.items()}}),
                    content_type="application/json")


def run_call(owner, url, credential, **params):
    document = workflow([node("call", "http.request", url=url, credential=str(credential), **params)])
    execution = run_inline(document, owner=owner)
    return execution, runs_of(execution)["call"]


def received(httpserver, index=-1):
    return httpserver.log[index][0].headers


@pytest.fixture(autouse=True)
def _no_cached_tokens():
    v1._oauth2_tokens.clear()
    yield
    v1._oauth2_tokens.clear()


@pytest.mark.parametrize("type_, data, header, expected", [
    ("http_header", {"name": "X-API-Key", "value": SECRET}, "X-API-Key", SECRET),
    ("bearer", {"token": SECRET}, "Authorization", f"Bearer {SECRET}"),
    ("http_basic", {"username": "ada", "password": SECRET}, "Authorization",
     "Basic " + base64.b64encode(f"ada:{SECRET}".encode()).decode()),
    ("generic", {"X-Account": "acme-account", "X-Signature": SECRET}, "X-Signature", SECRET),
])
def test_each_credential_type_is_sent_and_masked_where_the_server_echoes_it(alice, httpserver, type_, data, header,
                                                                           expected):
    credential = services.create_credential(alice, "api", type_, data)
    httpserver.expect_request("/echo").respond_with_handler(echo)

    execution, call = run_call(alice, httpserver.url_for("/echo"), credential.pk)

    assert execution.status == "succeeded", call.error
    assert received(httpserver)[header] == expected
    echoed = call.output["body"]["headers"][header.lower()]
    assert SECRET not in json.dumps(call.output) and MASK in echoed


def test_the_credential_replaces_a_header_of_the_same_name_in_params(alice, httpserver):
    credential = services.create_credential(alice, "api", "bearer", {"token": SECRET})
    httpserver.expect_request("/echo").respond_with_handler(echo)

    execution, call = run_call(alice, httpserver.url_for("/echo"), credential.pk,
                               headers={"authorization": "Bearer from-params"})

    assert execution.status == "succeeded", call.error
    assert received(httpserver)["Authorization"] == f"Bearer {SECRET}"


def test_another_users_credential_fails_the_node_like_a_missing_one(alice, bob, httpserver):
    bobs = services.create_credential(bob, "api", "bearer", {"token": SECRET})
    missing = "00000000-0000-4000-8000-000000000000"

    foreign_run, foreign = run_call(alice, httpserver.url_for("/x"), bobs.pk)
    missing_run, absent = run_call(alice, httpserver.url_for("/x"), missing)

    for execution, call in ((foreign_run, foreign), (missing_run, absent)):
        assert execution.status == "failed"
        assert call.error["code"] == "http.no_credential" and call.error["class"] == "permanent"
    assert foreign.error["message"] == f"no credential '{bobs.pk}': it does not exist or is not yours"
    assert absent.error["message"] == f"no credential '{missing}': it does not exist or is not yours"
    assert httpserver.log == []


def test_a_run_without_an_owner_cannot_use_a_credential(alice, httpserver):
    credential = services.create_credential(alice, "api", "bearer", {"token": SECRET})

    execution, call = run_call(None, httpserver.url_for("/x"), credential.pk)

    assert call.error["code"] == "http.no_credential"
    assert httpserver.log == []


def test_credential_headers_are_dropped_on_a_redirect_to_another_origin(alice, httpserver):
    credential = services.create_credential(alice, "api", "http_header", {"name": "X-API-Key", "value": SECRET})
    elsewhere = httpserver.url_for("/landing").replace("localhost", "127.0.0.1")
    httpserver.expect_request("/same").respond_with_response(Response(status=302, headers={"Location": "/other"}))
    httpserver.expect_request("/other").respond_with_response(Response(status=302, headers={"Location": elsewhere}))
    httpserver.expect_request("/landing").respond_with_handler(echo)

    execution, call = run_call(alice, httpserver.url_for("/same"), credential.pk)

    assert execution.status == "succeeded", call.error
    assert [request.headers.get("X-API-Key") for request, _ in httpserver.log] == [SECRET, SECRET, None]


# ---------------------------------------------------------------------------
# OAuth2 client credentials


def oauth2_credential(owner, httpserver, **extra):
    data = {"token_url": httpserver.url_for("/token"), "client_id": "client-77", "client_secret": SECRET,
            "scope": "read write", **extra}
    return services.create_credential(owner, "oauth", "oauth2_client_credentials", data)


def token_endpoint(access_token, expires_in=3600):
    def handler(request):
        return Response(json.dumps({"access_token": access_token, "token_type": "Bearer", "expires_in": expires_in}),
                        content_type="application/json")

    return handler


def test_oauth2_gets_a_token_once_and_sends_it_as_bearer(alice, httpserver):
    access_token = "at-91c0d2e6b7f84a2c9d"
    credential = oauth2_credential(alice, httpserver)
    httpserver.expect_request("/token", method="POST").respond_with_handler(token_endpoint(access_token))
    httpserver.expect_request("/echo").respond_with_handler(echo)

    first, first_call = run_call(alice, httpserver.url_for("/echo"), credential.pk)
    second, second_call = run_call(alice, httpserver.url_for("/echo"), credential.pk)

    assert first.status == second.status == "succeeded", (first_call.error, second_call.error)
    paths = [request.path for request, _ in httpserver.log]
    assert paths == ["/token", "/echo", "/echo"]  # the token is cached until it expires
    token_request = httpserver.log[0][0]
    assert token_request.form.to_dict() == {"grant_type": "client_credentials", "scope": "read write"}
    assert token_request.headers["Authorization"] == "Basic " + base64.b64encode(f"client-77:{SECRET}".encode()).decode()
    assert received(httpserver)["Authorization"] == f"Bearer {access_token}"
    for call in (first_call, second_call):
        assert access_token not in json.dumps([call.output, call.input, call.logs])
        assert call.output["body"]["headers"]["authorization"] == f"Bearer {MASK}"


def test_oauth2_client_auth_body_sends_the_client_in_the_form(alice, httpserver):
    credential = oauth2_credential(alice, httpserver, client_auth="body")
    httpserver.expect_request("/token", method="POST").respond_with_handler(token_endpoint("at-body-1234"))
    httpserver.expect_request("/echo").respond_with_handler(echo)

    execution, call = run_call(alice, httpserver.url_for("/echo"), credential.pk)

    assert execution.status == "succeeded", call.error
    form = httpserver.log[0][0].form
    assert form["client_id"] == "client-77" and form["client_secret"] == SECRET
    assert "Authorization" not in httpserver.log[0][0].headers


def test_a_changed_oauth2_credential_gets_a_new_token(alice, httpserver):
    credential = oauth2_credential(alice, httpserver)
    httpserver.expect_ordered_request("/token").respond_with_handler(token_endpoint("at-first-0001"))
    httpserver.expect_ordered_request("/echo").respond_with_handler(echo)
    httpserver.expect_ordered_request("/token").respond_with_handler(token_endpoint("at-second-002"))
    httpserver.expect_ordered_request("/echo").respond_with_handler(echo)

    run_call(alice, httpserver.url_for("/echo"), credential.pk)
    services.update_credential(credential, data={"scope": "admin"})
    execution, call = run_call(alice, httpserver.url_for("/echo"), credential.pk)

    assert execution.status == "succeeded", call.error
    assert received(httpserver)["Authorization"] == "Bearer at-second-002"


def test_an_oauth2_token_endpoint_that_refuses_fails_the_node_without_showing_the_secret(alice, httpserver):
    credential = oauth2_credential(alice, httpserver)
    httpserver.expect_request("/token").respond_with_json(
        {"error": "invalid_client", "error_description": f"unknown secret {SECRET}"}, status=401)

    execution, call = run_call(alice, httpserver.url_for("/echo"), credential.pk)

    assert execution.status == "failed"
    assert call.error["code"] == "http.oauth2_token" and call.error["class"] == "permanent"
    assert "invalid_client" in call.error["message"]
    assert SECRET not in json.dumps(call.error) and MASK in call.error["details"]["body"]
    assert [request.path for request, _ in httpserver.log] == ["/token"]


def test_the_oauth2_token_endpoint_goes_through_the_network_guard(alice, httpserver, allow_networks):
    allow_networks("localhost")  # the API by name; the token URL below uses the address
    credential = oauth2_credential(alice, httpserver)
    services.update_credential(credential, data={"token_url": httpserver.url_for("/token").replace("localhost",
                                                                                                   "127.0.0.1")})
    httpserver.expect_request("/token").respond_with_handler(token_endpoint("at-never-used"))

    execution, call = run_call(alice, httpserver.url_for("/echo"), credential.pk)

    assert execution.status == "failed"
    assert call.error["code"] == "http.blocked"
    assert httpserver.log == []
