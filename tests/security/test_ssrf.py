"""The HTTP node's private-network (SSRF) guard, through real workflow runs against a local server.

The suite's settings allow the loopback addresses (so node tests reach pytest-httpserver);
these tests narrow NODEFLOW_HTTP_ALLOW_NETWORKS to prove what is refused without it."""

import ipaddress
import json
import threading

import pytest
import requests
from django.core.exceptions import ImproperlyConfigured
from werkzeug import Response

from nodes.http_request import guard, v1
from tests.nodes.support import node, run, workflow

pytestmark = pytest.mark.django_db


def call_http(url, **params):
    execution, runs = run(workflow([node("call", "http.request", url=url, **params)]))
    return execution, runs["call"]


def assert_blocked(execution, call):
    assert execution.status == "failed", call.output
    assert call.error["code"] == "http.blocked", call.error
    assert call.error["class"] == "permanent"
    assert "NODEFLOW_HTTP_ALLOW_NETWORKS" in call.error["message"]
    return call.error


def echo_host(request):
    return Response(json.dumps({"host": request.headers.get("Host"), "path": request.path}),
                    content_type="application/json")


# ---------------------------------------------------------------------------
# Refused by default


@pytest.mark.parametrize("url, reason", [
    ("http://10.0.0.1/", "private"),
    ("http://172.16.5.4:8080/x", "private"),
    ("http://192.168.1.1/", "private"),
    ("http://127.0.0.1/", "loopback"),
    ("http://127.8.9.10/", "loopback"),
    ("http://[::1]/", "loopback"),
    ("http://0.0.0.0/", "unspecified"),
    ("http://169.254.169.254/latest/meta-data/", "cloud metadata"),
    ("http://[fd00:ec2::254]/latest/meta-data/", "cloud metadata"),
    ("http://169.254.10.1/", "link-local"),
    ("http://[fe80::1]/", "link-local"),
    ("http://[fc00::5]/", "private"),
    ("http://100.64.0.1/", "non-public"),
    ("http://224.0.0.1/", "multicast"),
    ("http://[::ffff:127.0.0.1]/", "loopback (IPv4 inside IPv6)"),
    ("http://[::ffff:10.0.0.1]/", "private (IPv4 inside IPv6)"),
    ("http://[64:ff9b::a00:1]/", "private (IPv4 inside IPv6)"),
    ("http://2130706433/", "loopback"),  # 127.0.0.1 as one decimal number
    ("http://0x7f.1/", "loopback"),
])
def test_a_private_address_is_refused_before_connecting(allow_networks, connections, url, reason):
    allow_networks()

    execution, call = call_http(url)

    error = assert_blocked(execution, call)
    assert error["details"]["reason"] == reason
    assert connections == []


def test_a_host_name_resolving_to_127_0_0_1_is_refused(httpserver, allow_networks, connections):
    allow_networks()
    httpserver.expect_request("/").respond_with_data("private")

    execution, call = call_http(httpserver.url_for("/"))  # http://localhost:<port>/

    error = assert_blocked(execution, call)
    assert "localhost resolves to 127.0.0.1" in error["message"]
    assert error["details"] == {"host": "localhost", "address": "127.0.0.1", "reason": "loopback"}
    assert httpserver.log == [] and connections == []


def test_a_public_name_with_one_private_address_is_refused(allow_networks, fake_dns, connections):
    allow_networks()
    fake_dns({"mixed.nodeflow.test": ["93.184.216.34", "10.1.2.3"]})

    execution, call = call_http("http://mixed.nodeflow.test/")

    error = assert_blocked(execution, call)
    assert error["details"]["address"] == "10.1.2.3"
    assert connections == []


def test_a_redirect_to_a_private_address_is_refused(httpserver, allow_networks, connections):
    allow_networks("localhost")  # the test server by name, nothing else
    internal = httpserver.url_for("/internal").replace("localhost", "127.0.0.1")
    httpserver.expect_request("/start").respond_with_response(Response(status=302, headers={"Location": internal}))
    httpserver.expect_request("/internal").respond_with_data("private data")

    execution, call = call_http(httpserver.url_for("/start"))

    error = assert_blocked(execution, call)
    assert error["details"]["address"] == "127.0.0.1"
    assert [request.path for request, _ in httpserver.log] == ["/start"]


def test_a_redirect_to_the_metadata_address_is_refused(httpserver, allow_networks, connections):
    allow_networks("localhost")
    httpserver.expect_request("/start").respond_with_response(
        Response(status=307, headers={"Location": "http://169.254.169.254/latest/meta-data/iam/"}))

    execution, call = call_http(httpserver.url_for("/start"))

    error = assert_blocked(execution, call)
    assert error["details"]["reason"] == "cloud metadata"
    assert all(address[0] == "127.0.0.1" for address in connections)


# ---------------------------------------------------------------------------
# The allow-list


def test_a_network_in_the_allow_list_can_be_reached(httpserver, allow_networks):
    allow_networks("127.0.0.0/8")
    httpserver.expect_request("/ok").respond_with_data("fine")

    execution, call = call_http(httpserver.url_for("/ok").replace("localhost", "127.0.0.1"))

    assert execution.status == "succeeded", call.error
    assert call.output["body"] == "fine"


def test_a_host_name_in_the_allow_list_opens_that_name_only(httpserver, allow_networks):
    allow_networks("localhost")
    httpserver.expect_request("/ok").respond_with_data("fine")

    by_name, named_call = call_http(httpserver.url_for("/ok"))
    by_address, address_call = call_http(httpserver.url_for("/ok").replace("localhost", "127.0.0.1"))

    assert by_name.status == "succeeded", named_call.error
    assert_blocked(by_address, address_call)


def test_a_wildcard_host_name_allows_its_subdomains(allow_networks, fake_dns, httpserver):
    allow_networks("*.corp.nodeflow.test")
    fake_dns({"api.corp.nodeflow.test": ["127.0.0.1"], "corp.nodeflow.test.evil.test": ["127.0.0.1"]})
    httpserver.expect_request("/").respond_with_data("fine")
    port = httpserver.port

    inside, inside_call = call_http(f"http://api.corp.nodeflow.test:{port}/")
    lookalike, lookalike_call = call_http(f"http://corp.nodeflow.test.evil.test:{port}/")

    assert inside.status == "succeeded", inside_call.error
    assert_blocked(lookalike, lookalike_call)


def test_an_allow_list_entry_that_is_neither_network_nor_name_is_a_configuration_error():
    with pytest.raises(ImproperlyConfigured, match="NODEFLOW_HTTP_ALLOW_NETWORKS"):
        guard.AllowList(["10.0.0.0/99"])


# ---------------------------------------------------------------------------
# DNS rebinding: the connection goes to the address that was checked


def test_the_connection_goes_to_the_checked_address_without_a_second_lookup(httpserver, allow_networks, fake_dns,
                                                                             connections):
    allow_networks("127.0.0.1/32")
    # First answer loopback (allowed here), every later one a private address: a client that
    # resolved again when connecting would go there (the `connections` fixture refuses it).
    lookups = fake_dns({"rebind.nodeflow.test": lambda count: ["127.0.0.1"] if count == 1 else ["10.9.9.9"]})
    httpserver.expect_request("/who").respond_with_handler(echo_host)

    execution, call = call_http(f"http://rebind.nodeflow.test:{httpserver.port}/who")

    assert execution.status == "succeeded", call.error
    assert call.output["body"]["host"] == f"rebind.nodeflow.test:{httpserver.port}"  # the Host header is kept
    assert lookups.count("rebind.nodeflow.test") == 1
    assert [address for address, _ in connections] == ["127.0.0.1"]


def test_a_connection_to_a_host_the_guard_did_not_check_is_refused(httpserver):
    httpserver.expect_request("/").respond_with_data("reached")
    outcome = []

    def request_without_check():
        # A new thread has no pinned addresses, as if the check had been skipped.
        try:
            v1.session().get(httpserver.url_for("/"), timeout=5)
            outcome.append("connected")
        except requests.ConnectionError as exc:
            outcome.append(str(exc))

    thread = threading.Thread(target=request_without_check)
    thread.start()
    thread.join(10)

    assert "was checked by the network guard" in outcome[0]
    assert httpserver.log == []


# ---------------------------------------------------------------------------
# The address rules


@pytest.mark.parametrize("address", ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111", "2a00:1450:4001:82a::200e"])
def test_public_addresses_pass(address):
    assert guard.refusal_reason(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize("address", ["::", "::127.0.0.1", "2002:7f00:1::1", "198.18.0.1", "240.0.0.1",
                                     "255.255.255.255", "192.0.2.1", "2001:db8::1", "ff02::1", "fec0::1"])
def test_special_addresses_are_refused(address):
    assert guard.refusal_reason(ipaddress.ip_address(address)) is not None
