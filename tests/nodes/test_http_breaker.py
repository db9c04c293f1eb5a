"""http.request's circuit breaker: opens after N transient failures, fails fast while open, closes on recovery.

Against a real local server (pytest-httpserver) answering 503 and then recovering; the state is in
Redis (tests run with REDIS_URL), as in production, and in memory for embedded mode."""

import time

import pytest

from nodes.http_request import breaker
from nodes.http_request.breaker import CLOSED, HALF_OPEN, OPEN, MemoryStore, RedisStore, Settings, admit, record
from tests.nodes.support import node, run, workflow

pytestmark = pytest.mark.django_db

FAST = {"failures": 3, "window_s": 60, "cooldown_s": 1}


@pytest.fixture(autouse=True)
def clean_breaker():
    breaker.store().clear()
    yield
    breaker.store().clear()


def call(url, **params):
    execution, runs = run(workflow([node("call", "http.request", url=url, circuit_breaker=FAST, **params)]))
    return execution, runs["call"]


def test_the_breaker_opens_after_n_503s_fails_fast_and_closes_when_the_server_recovers(httpserver, client, settings):
    httpserver.expect_request("/api").respond_with_data("busy", status=503)
    url = httpserver.url_for("/api")
    for _ in range(3):
        execution, node_run = call(url)
        assert node_run.error["code"] == "http.status"
    assert len(httpserver.log) == 3

    started = time.monotonic()
    execution, node_run = call(url)
    assert time.monotonic() - started < 3  # a whole inline run; no request waits on the host
    assert execution.status == "failed"
    assert node_run.error["code"] == "circuit_open" and node_run.error["class"] == "transient"
    assert "circuit is open after 3 consecutive failures" in node_run.error["message"]
    assert len(httpserver.log) == 3  # failed fast: the server was not asked

    settings.NODEFLOW = {**settings.NODEFLOW, "METRICS_PUBLIC": True}
    host = breaker.host_of(url)
    assert f'nodeflow_http_circuit_state{{host="{host}"}} 2.0' in client.get("/metrics").content.decode()

    # The server recovers; after the cool-down one probe goes through and closes the circuit.
    httpserver.clear()
    httpserver.expect_request("/api").respond_with_json({"ok": True})
    time.sleep(1.1)
    execution, node_run = call(url)
    assert execution.status == "succeeded", node_run.error
    assert breaker.states()[host]["state"] == CLOSED
    for _ in range(3):
        assert call(url)[0].status == "succeeded"
    assert len(httpserver.log) == 4
    assert f'nodeflow_http_circuit_state{{host="{host}"}} 0.0' in client.get("/metrics").content.decode()


def test_a_failed_probe_opens_the_circuit_again(httpserver):
    httpserver.expect_request("/api").respond_with_data("down", status=502)
    url = httpserver.url_for("/api")
    for _ in range(3):
        call(url)
    time.sleep(1.1)
    assert call(url)[1].error["code"] == "http.status"  # the probe went through, and failed
    assert call(url)[1].error["code"] == "circuit_open"
    assert len(httpserver.log) == 4


def test_connection_failures_count_and_a_4xx_does_not(httpserver):
    httpserver.expect_request("/missing").respond_with_data("no", status=404)
    for _ in range(5):
        assert call(httpserver.url_for("/missing"))[1].error["code"] == "http.status"
    assert breaker.states() == {}  # a host that answers 404 works

    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    dead = f"http://127.0.0.1:{port}/"
    codes = [call(dead)[1].error["code"] for _ in range(4)]
    assert codes[-1] == "circuit_open" and "circuit_open" not in codes[:3]


def test_failures_outside_the_window_do_not_add_up(httpserver):
    httpserver.expect_request("/api").respond_with_data("busy", status=503)
    url = httpserver.url_for("/api")
    params = {**FAST, "window_s": 0.3}
    for _ in range(3):
        run(workflow([node("call", "http.request", url=url, circuit_breaker=params)]))
        time.sleep(0.35)
    assert breaker.states()[breaker.host_of(url)]["state"] == CLOSED


def test_failures_zero_turns_the_breaker_off(httpserver):
    httpserver.expect_request("/api").respond_with_data("busy", status=503)
    url = httpserver.url_for("/api")
    for _ in range(5):
        _, runs = run(workflow([node("call", "http.request", url=url, circuit_breaker={"failures": 0})]))
        assert runs["call"].error["code"] == "http.status"
    assert len(httpserver.log) == 5 and breaker.states() == {}


def test_the_server_default_applies_to_nodes_without_the_param(httpserver, settings):
    settings.NODEFLOW = {**settings.NODEFLOW, "HTTP_BREAKER": {"failures": 2, "window_s": 60, "cooldown_s": 60}}
    httpserver.expect_request("/api").respond_with_data("busy", status=503)
    url = httpserver.url_for("/api")
    codes = [run(workflow([node("call", "http.request", url=url)]))[1]["call"].error["code"] for _ in range(3)]
    assert codes == ["http.status", "http.status", "circuit_open"]


def test_workers_share_the_state_through_redis(settings):
    """Two stores with their own connections (two workers) see one circuit."""
    prefix = "test-breaker-shared:"
    one, two = RedisStore(settings.REDIS_URL, prefix), RedisStore(settings.REDIS_URL, prefix)
    one.clear()
    rules = Settings(failures=2, window_s=60, cooldown_s=60)
    now = time.time()
    for store in (one, two):
        store.update("api.example.com:443", lambda state: (None, record(state, now, True, rules)))
    assert two.states()["api.example.com:443"]["state"] == OPEN
    allowed = one.update("api.example.com:443", lambda state: admit(state, now + 1, rules)[:2])
    assert allowed is False
    one.clear()


def test_in_embedded_mode_the_state_is_in_memory(settings):
    settings.REDIS_URL = None
    try:
        breaker._store = None
        assert isinstance(breaker.store(), MemoryStore)
    finally:
        breaker._store = None


def test_the_rules():
    rules = Settings(failures=2, window_s=10, cooldown_s=5)
    state = record({}, 100, True, rules)
    assert state["state"] == CLOSED and state["failures"] == 1
    state = record(state, 101, True, rules)
    assert state["state"] == OPEN
    assert admit(state, 105.9, rules)[:2] == (False, None)
    allowed, probing, _ = admit(state, 106, rules)
    assert allowed and probing["state"] == HALF_OPEN
    assert admit(probing, 107, rules)[0] is False  # one probe at a time
    assert admit(probing, 111, rules)[0] is True  # a probe that never reported frees the slot
    assert record(probing, 107, False, rules) == {"state": CLOSED, "failures": 0}
    assert record(probing, 107, True, rules)["state"] == OPEN
    # Failures further apart than the window start counting again.
    assert record(record({}, 100, True, rules), 111, True, rules) == {"state": CLOSED, "failures": 1,
                                                                      "first_failure": 111}
    assert record({"state": CLOSED, "failures": 0}, 1, False, rules) is None
