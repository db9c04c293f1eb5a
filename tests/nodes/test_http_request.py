"""http.request v1 through real workflow runs against a real local HTTP server (pytest-httpserver)."""

import json
import socket
import time

import pytest
from werkzeug import Response

from engine.errors import NodeError
from tests.nodes.support import log_text, node, run, workflow

pytestmark = pytest.mark.django_db

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"]


def echo(request):
    """Answers with what the server received, as JSON."""
    payload = {
        "method": request.method,
        "path": request.path,
        "args": {key: request.args.getlist(key) for key in request.args},
        "raw_query": request.query_string.decode(),
        "headers": {key.lower(): value for key, value in request.headers.items()},
        "content_type": request.headers.get("Content-Type"),
        "body": request.get_data(as_text=True),
    }
    return Response(json.dumps(payload), content_type="application/json")


def http(url, **params):
    return node("call", "http.request", url=url, **params)


def call_http(url, input_data=None, **params):
    """Run start -> call (http.request); returns (execution, the call node's run)."""
    execution, runs = run(workflow([http(url, **params)]), input_data)
    return execution, runs["call"]


def assert_failed(execution, run, code, error_class):
    assert execution.status == "failed", (run.output, run.error)
    assert run.status == "failed"
    assert run.error["code"] == code, run.error
    assert run.error["class"] == error_class, run.error
    assert execution.error["node_id"] == "call"
    return run.error


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ---------------------------------------------------------------------------
# Methods, query, headers, bodies


@pytest.mark.parametrize("method", METHODS)
def test_each_method_is_sent_as_given(httpserver, method):
    httpserver.expect_request("/thing", method=method).respond_with_handler(echo)

    execution, call = call_http(httpserver.url_for("/thing"), method=method)

    assert execution.status == "succeeded", call.error
    assert call.output["status"] == 200
    if method == "HEAD":
        assert call.output["body"] is None
    else:
        assert call.output["body"]["method"] == method


def test_lower_case_method_is_accepted(httpserver):
    httpserver.expect_request("/thing", method="PATCH").respond_with_handler(echo)

    execution, call = call_http(httpserver.url_for("/thing"), method="patch")

    assert call.output["body"]["method"] == "PATCH"


def test_unknown_method_fails_with_the_allowed_ones(httpserver):
    execution, call = call_http(httpserver.url_for("/thing"), method="BREW")

    error = assert_failed(execution, call, "http.invalid_params", "permanent")
    assert "params.method" in error["message"] and "'GET'" in error["message"]


def test_query_values_are_url_encoded_lists_repeat_and_null_is_left_out(httpserver):
    httpserver.expect_request("/search").respond_with_handler(echo)

    execution, call = call_http(
        httpserver.url_for("/search?fixed=1"),
        query={"q": "a b&c=d/é", "tag": ["x", "y"], "limit": 10, "exact": True, "skip": None},
    )

    received = call.output["body"]
    assert received["args"] == {"fixed": ["1"], "q": ["a b&c=d/é"], "tag": ["x", "y"], "limit": ["10"], "exact": ["true"]}
    assert "skip" not in received["raw_query"]
    assert call.output["url"].startswith(httpserver.url_for("/search?fixed=1&q=a+b%26c%3Dd%2F%C3%A9"))


def test_headers_are_sent_and_null_leaves_a_header_out(httpserver):
    httpserver.expect_request("/h").respond_with_handler(echo)

    execution, call = call_http(
        httpserver.url_for("/h"), headers={"X-Api-Key": "k-1", "X-Count": 3, "X-Flag": False, "X-Gone": None}
    )

    headers = call.output["body"]["headers"]
    assert headers["x-api-key"] == "k-1"
    assert headers["x-count"] == "3"
    assert headers["x-flag"] == "false"
    assert "x-gone" not in headers
    assert headers["user-agent"].startswith("NodeFlow")


@pytest.mark.parametrize("headers", [
    {"X-Note": "a\r\nX-Injected: 1"},  # a line break in a value would start a header of its own
    {"X-Note\r\nX-Injected": "1"},  # and in a name
    {"X-Note": " leading space"},
    {"X-Note": "price in €"},  # not Latin-1: HTTP/1.1 cannot carry it
], ids=["value_crlf", "name_crlf", "value_leading_space", "value_not_latin1"])
def test_an_invalid_header_fails_the_node_as_permanent_without_sending_it(httpserver, headers):
    httpserver.expect_request("/h").respond_with_handler(echo)

    execution, call = call_http(httpserver.url_for("/h"), headers=headers)

    error = assert_failed(execution, call, "http.invalid_params", "permanent")  # so never retried
    assert "header" in error["message"]
    assert httpserver.log == []


def test_object_body_is_sent_as_json(httpserver):
    httpserver.expect_request("/j", method="POST").respond_with_handler(echo)

    execution, call = call_http(httpserver.url_for("/j"), method="POST", body={"name": "Zoë", "n": [1, 2.5, None]})

    received = call.output["body"]
    assert received["content_type"] == "application/json"
    assert json.loads(received["body"]) == {"name": "Zoë", "n": [1, 2.5, None]}


def test_list_body_is_sent_as_json(httpserver):
    httpserver.expect_request("/j", method="PUT").respond_with_handler(echo)

    execution, call = call_http(httpserver.url_for("/j"), method="PUT", body=[{"id": 1}, {"id": 2}])

    assert call.output["body"]["content_type"] == "application/json"
    assert json.loads(call.output["body"]["body"]) == [{"id": 1}, {"id": 2}]


def test_string_body_is_sent_as_text(httpserver):
    httpserver.expect_request("/t", method="POST").respond_with_handler(echo)

    execution, call = call_http(httpserver.url_for("/t"), method="POST", body="hello, wörld")

    assert call.output["body"]["content_type"] == "text/plain; charset=utf-8"
    assert call.output["body"]["body"] == "hello, wörld"


def test_json_body_type_sends_json_text_as_written(httpserver):
    httpserver.expect_request("/j", method="POST").respond_with_handler(echo)

    execution, call = call_http(httpserver.url_for("/j"), method="POST", body='{"raw": true}', body_type="json")

    assert call.output["body"]["content_type"] == "application/json"
    assert call.output["body"]["body"] == '{"raw": true}'


def test_json_body_type_with_text_that_is_not_json_fails(httpserver):
    execution, call = call_http(httpserver.url_for("/j"), method="POST", body="{not json", body_type="json")

    error = assert_failed(execution, call, "http.invalid_body", "permanent")
    assert "not valid JSON" in error["message"]
    assert len(httpserver.log) == 0


def test_form_body_is_url_encoded(httpserver):
    httpserver.expect_request("/f", method="POST").respond_with_handler(echo)

    execution, call = call_http(
        httpserver.url_for("/f"), method="POST", body_type="form",
        body={"user": "a b", "roles": ["x", "y"], "active": True, "empty": None},
    )

    received = call.output["body"]
    assert received["content_type"] == "application/x-www-form-urlencoded"
    assert received["body"] == "user=a+b&roles=x&roles=y&active=true"


def test_form_body_with_a_nested_object_fails(httpserver):
    execution, call = call_http(httpserver.url_for("/f"), method="POST", body_type="form", body={"user": {"id": 1}})

    error = assert_failed(execution, call, "http.invalid_body", "permanent")
    assert "'user'" in error["message"]


def test_content_type_header_given_by_the_author_wins(httpserver):
    httpserver.expect_request("/j", method="POST").respond_with_handler(echo)

    execution, call = call_http(
        httpserver.url_for("/j"), method="POST", body={"a": 1}, headers={"content-type": "application/vnd.acme+json"}
    )

    assert call.output["body"]["content_type"] == "application/vnd.acme+json"


def test_expressions_are_rendered_in_url_query_headers_and_body(httpserver):
    httpserver.expect_request("/users/42/orders", method="POST").respond_with_handler(echo)
    base = httpserver.url_for("")

    execution, call = call_http(
        base.rstrip("/") + "/users/{{ input.user.id }}/orders",
        input_data={"user": {"id": 42, "name": "Zoë"}, "tags": ["new", "vip"], "token": "t0k3n", "qty": 3},
        method="POST",
        query={"tag": "{{ input.tags }}", "by": "{{ input.user.name }}"},
        headers={"Authorization": "Bearer {{ input.token }}"},
        body={"user_id": "{{ input.user.id }}", "qty": "{{ input.qty }}", "note": "for {{ input.user.name }}"},
    )

    assert execution.status == "succeeded", call.error
    received = call.output["body"]
    assert received["args"] == {"tag": ["new", "vip"], "by": ["Zoë"]}
    assert received["headers"]["authorization"] == "Bearer t0k3n"
    # A value that is exactly one expression keeps its JSON type: numbers stay numbers.
    assert json.loads(received["body"]) == {"user_id": 42, "qty": 3, "note": "for Zoë"}
    assert call.input["url"].endswith("/users/42/orders")


def test_output_of_one_request_feeds_the_next_through_expressions(httpserver):
    httpserver.expect_request("/token").respond_with_json({"token": "abc", "next": "/data"})
    httpserver.expect_request("/data").respond_with_handler(echo)
    base = httpserver.url_for("").rstrip("/")
    document = workflow([
        node("login", "http.request", url=f"{base}/token"),
        node("fetch", "http.request", url=base + "{{ nodes.login.output.body.next }}",
             headers={"Authorization": "Bearer {{ nodes.login.output.body.token }}"}),
    ])

    execution, runs = run(document)

    assert execution.status == "succeeded"
    assert runs["fetch"].output["body"]["headers"]["authorization"] == "Bearer abc"


# ---------------------------------------------------------------------------
# The response


def test_output_has_status_headers_body_url_and_elapsed_ms(httpserver):
    httpserver.expect_request("/r").respond_with_json({"ok": True, "items": [1, 2]}, status=201,
                                                      headers={"X-Request-Id": "r-9"})

    execution, call = call_http(httpserver.url_for("/r"))

    output = call.output
    assert set(output) == {"status", "headers", "body", "url", "elapsed_ms"}
    assert output["status"] == 201
    assert output["body"] == {"ok": True, "items": [1, 2]}
    assert output["headers"]["x-request-id"] == "r-9"
    assert output["headers"]["content-type"] == "application/json"
    assert all(name == name.lower() for name in output["headers"])
    assert output["url"] == httpserver.url_for("/r")
    assert isinstance(output["elapsed_ms"], float) and output["elapsed_ms"] > 0


def test_auto_parses_json_media_types_with_suffix(httpserver):
    httpserver.expect_request("/p").respond_with_data('{"title": "x"}', content_type="application/problem+json")

    execution, call = call_http(httpserver.url_for("/p"))

    assert call.output["body"] == {"title": "x"}


def test_auto_returns_text_for_text_responses(httpserver):
    httpserver.expect_request("/t").respond_with_data('{"looks": "like json"}', content_type="text/plain")

    execution, call = call_http(httpserver.url_for("/t"))

    assert call.output["body"] == '{"looks": "like json"}'


def test_auto_returns_text_when_a_json_response_is_broken_and_logs_it(httpserver):
    httpserver.expect_request("/b").respond_with_data("{broken", content_type="application/json")

    execution, call = call_http(httpserver.url_for("/b"))

    assert execution.status == "succeeded"
    assert call.output["body"] == "{broken"
    assert "says it is JSON but is not" in log_text(call)


def test_response_text_keeps_json_as_text(httpserver):
    httpserver.expect_request("/j").respond_with_json({"a": 1})

    execution, call = call_http(httpserver.url_for("/j"), response="text")

    assert isinstance(call.output["body"], str)
    assert json.loads(call.output["body"]) == {"a": 1}


def test_response_json_parses_json_sent_as_text(httpserver):
    httpserver.expect_request("/j").respond_with_data('[1, 2]', content_type="text/plain")

    execution, call = call_http(httpserver.url_for("/j"), response="json")

    assert call.output["body"] == [1, 2]


def test_response_json_fails_when_the_body_is_not_json(httpserver):
    httpserver.expect_request("/h").respond_with_data("<html>hi</html>", content_type="text/html")

    execution, call = call_http(httpserver.url_for("/h"), response="json")

    error = assert_failed(execution, call, "http.invalid_json", "permanent")
    assert "text/html" in error["message"]
    assert error["details"]["body"] == "<html>hi</html>"


def test_text_is_decoded_with_the_declared_charset(httpserver):
    httpserver.expect_request("/l").respond_with_data("café".encode("latin-1"), content_type="text/plain; charset=iso-8859-1")

    execution, call = call_http(httpserver.url_for("/l"))

    assert call.output["body"] == "café"


def test_empty_response_body_is_null(httpserver):
    httpserver.expect_request("/e", method="DELETE").respond_with_data("", status=204)

    execution, call = call_http(httpserver.url_for("/e"), method="DELETE")

    assert call.output["status"] == 204
    assert call.output["body"] is None


# ---------------------------------------------------------------------------
# Non-2xx statuses


def test_4xx_fails_the_node_permanently_with_status_and_body(httpserver):
    httpserver.expect_request("/missing").respond_with_json({"error": "no such user"}, status=404)

    execution, call = call_http(httpserver.url_for("/missing"))

    error = assert_failed(execution, call, "http.status", "permanent")
    assert error["details"]["status"] == 404
    assert error["details"]["body"] == {"error": "no such user"}
    assert "404" in error["message"] and "no such user" in error["message"]
    assert "fail_on_status" in error["message"]


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_5xx_and_429_fail_the_node_as_transient(httpserver, status):
    httpserver.expect_request("/busy").respond_with_data("try later", status=status, headers={"Retry-After": "7"})

    execution, call = call_http(httpserver.url_for("/busy"))

    error = assert_failed(execution, call, "http.status", "transient")
    assert error["details"]["status"] == status
    assert error["details"]["body"] == "try later"
    assert error["details"]["retry_after"] == "7"


def test_fail_on_status_false_makes_any_status_the_output(httpserver):
    httpserver.expect_request("/missing").respond_with_json({"error": "gone"}, status=410)

    execution, call = call_http(httpserver.url_for("/missing"), fail_on_status=False)

    assert execution.status == "succeeded"
    assert call.output["status"] == 410
    assert call.output["body"] == {"error": "gone"}


def test_a_huge_error_body_is_truncated_in_the_error_details(httpserver):
    httpserver.expect_request("/big").respond_with_data("x" * 200_000, status=500)

    execution, call = call_http(httpserver.url_for("/big"))

    error = assert_failed(execution, call, "http.status", "transient")
    assert error["details"]["body_truncated"] is True
    assert len(error["details"]["body"]) == 64 * 1024
    assert len(error["message"]) < 1000


def test_a_4xx_can_be_routed_to_the_error_port(httpserver):
    httpserver.expect_request("/missing").respond_with_data("nope", status=404)
    document = workflow(
        [
            {**http(httpserver.url_for("/missing")), "on_error": "route"},
            node("handled", "flow.terminal", result={"status": "{{ nodes.call.error.details.status }}"}),
            node("fine", "flow.terminal", result="fine"),
        ],
        edges=[
            {"from": "start", "to": "call"},
            {"from": "call", "port": "error", "to": "handled"},
            {"from": "call", "to": "fine"},
        ],
    )

    execution, runs = run(document)

    assert execution.status == "succeeded"
    assert execution.result == {"status": 404}
    assert runs["fine"].status == "skipped"


# ---------------------------------------------------------------------------
# Redirects


def test_redirects_are_followed_and_url_is_the_final_one(httpserver):
    httpserver.expect_request("/old").respond_with_response(Response(status=301, headers={"Location": "/mid"}))
    httpserver.expect_request("/mid").respond_with_response(Response(status=302, headers={"Location": "/new?x=1"}))
    httpserver.expect_request("/new").respond_with_json({"here": True})

    execution, call = call_http(httpserver.url_for("/old"))

    assert call.output["status"] == 200
    assert call.output["body"] == {"here": True}
    assert call.output["url"] == httpserver.url_for("/new?x=1")
    assert "redirected to" in log_text(call)


def test_follow_redirects_false_returns_the_redirect_itself(httpserver):
    httpserver.expect_request("/old").respond_with_response(Response(status=302, headers={"Location": "/new"}))

    execution, call = call_http(httpserver.url_for("/old"), follow_redirects=False)

    assert execution.status == "succeeded"
    assert call.output["status"] == 302
    assert call.output["headers"]["location"] == "/new"
    assert [request.path for request, _ in httpserver.log] == ["/old"]


def test_303_after_post_continues_as_get_without_body(httpserver):
    httpserver.expect_request("/form", method="POST").respond_with_response(
        Response(status=303, headers={"Location": "/result"}))
    httpserver.expect_request("/result").respond_with_handler(echo)

    execution, call = call_http(httpserver.url_for("/form"), method="POST", body={"a": 1})

    received = call.output["body"]
    assert received["method"] == "GET"
    assert received["body"] == ""
    assert received["content_type"] is None


def test_307_keeps_method_and_body(httpserver):
    httpserver.expect_request("/v1/items", method="PUT").respond_with_response(
        Response(status=307, headers={"Location": "/v2/items"}))
    httpserver.expect_request("/v2/items", method="PUT").respond_with_handler(echo)

    execution, call = call_http(httpserver.url_for("/v1/items"), method="PUT", body={"a": 1})

    received = call.output["body"]
    assert received["method"] == "PUT"
    assert json.loads(received["body"]) == {"a": 1}


def test_redirect_loop_fails_after_ten_hops(httpserver):
    httpserver.expect_request("/loop").respond_with_response(Response(status=302, headers={"Location": "/loop"}))

    execution, call = call_http(httpserver.url_for("/loop"))

    error = assert_failed(execution, call, "http.too_many_redirects", "permanent")
    assert "more than 10 redirects" in error["message"]
    assert len(httpserver.log) == 11


def test_redirect_to_another_host_drops_the_authorization_header(httpserver):
    other_host = httpserver.url_for("/landing").replace("localhost", "127.0.0.1")
    httpserver.expect_request("/start").respond_with_response(Response(status=302, headers={"Location": other_host}))
    httpserver.expect_request("/landing").respond_with_handler(echo)

    execution, call = call_http(httpserver.url_for("/start"), headers={"Authorization": "Bearer secret", "X-Other": "kept"})

    headers = call.output["body"]["headers"]
    assert "authorization" not in headers
    assert headers["x-other"] == "kept"


def test_redirect_on_the_same_host_keeps_the_authorization_header(httpserver):
    httpserver.expect_request("/start").respond_with_response(Response(status=302, headers={"Location": "/landing"}))
    httpserver.expect_request("/landing").respond_with_handler(echo)

    execution, call = call_http(httpserver.url_for("/start"), headers={"Authorization": "Bearer secret"})

    assert call.output["body"]["headers"]["authorization"] == "Bearer secret"


def test_redirect_to_a_non_http_scheme_is_refused(httpserver):
    httpserver.expect_request("/start").respond_with_response(
        Response(status=302, headers={"Location": "file:///etc/passwd"}))

    execution, call = call_http(httpserver.url_for("/start"))

    error = assert_failed(execution, call, "http.invalid_url", "permanent")
    assert "file://" in error["message"]


def test_every_redirect_hop_goes_through_the_network_guard(httpserver, monkeypatch):
    from nodes.http_request import guard

    checked = []

    def refuse_127(host, port):
        checked.append(host)
        if host == "127.0.0.1":
            raise NodeError(f"{host} is not allowed", code="http.blocked")

    monkeypatch.setattr(guard, "check_network", refuse_127)
    elsewhere = httpserver.url_for("/internal").replace("localhost", "127.0.0.1")
    httpserver.expect_request("/start").respond_with_response(Response(status=302, headers={"Location": elsewhere}))
    httpserver.expect_request("/internal").respond_with_data("secret")

    execution, call = call_http(httpserver.url_for("/start"))

    assert_failed(execution, call, "http.blocked", "permanent")
    assert checked == ["localhost", "127.0.0.1"]
    assert [request.path for request, _ in httpserver.log] == ["/start"]


def test_cookies_set_during_a_redirect_chain_are_sent_on_and_not_kept(httpserver):
    httpserver.expect_request("/login").respond_with_response(
        Response(status=302, headers={"Location": "/home", "Set-Cookie": "sid=s1; Path=/"}))
    httpserver.expect_request("/home").respond_with_handler(echo)

    first, call = call_http(httpserver.url_for("/login"))
    second, call_again = call_http(httpserver.url_for("/home"))

    assert call.output["body"]["headers"]["cookie"] == "sid=s1"
    assert "cookie" not in call_again.output["body"]["headers"]


# ---------------------------------------------------------------------------
# Transport errors


def test_invalid_scheme_is_refused_before_any_connection():
    execution, call = call_http("ftp://example.com/file")

    error = assert_failed(execution, call, "http.invalid_url", "permanent")
    assert "only http:// and https://" in error["message"]


def test_url_without_host_is_refused():
    execution, call = call_http("http:///path")

    error = assert_failed(execution, call, "http.invalid_url", "permanent")
    assert "no host" in error["message"]


def test_connection_refused_is_transient():
    port = free_port()

    execution, call = call_http(f"http://127.0.0.1:{port}/")

    error = assert_failed(execution, call, "http.connection_refused", "transient")
    assert f"127.0.0.1:{port} refused the connection" in error["message"]


def test_dns_failure_is_transient_and_names_the_host():
    execution, call = call_http("http://no-such-host.nodeflow.invalid/")

    error = assert_failed(execution, call, "http.dns_error", "transient")
    assert "'no-such-host.nodeflow.invalid' could not be resolved" in error["message"]


def test_tls_error_is_permanent(httpserver):
    httpserver.expect_request("/").respond_with_data("plain http")

    execution, call = call_http(httpserver.url_for("/").replace("http://", "https://"))

    error = assert_failed(execution, call, "http.tls_error", "permanent")
    assert "TLS" in error["message"]


def test_server_that_never_answers_times_out_after_timeout_s():
    with socket.socket() as silent:  # accepts connections (backlog) but never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        started = time.monotonic()

        execution, call = call_http(f"http://127.0.0.1:{silent.getsockname()[1]}/", timeout_s=0.3)

        took = time.monotonic() - started
    error = assert_failed(execution, call, "http.timeout", "timeout")
    assert "timed out after 0.3 s" in error["message"]
    assert took >= 0.3


def test_slow_body_counts_against_the_same_timeout(httpserver):
    def drip():
        for _ in range(40):
            yield b"x" * 10
            time.sleep(0.05)

    httpserver.expect_request("/slow").respond_with_response(Response(drip(), content_type="text/plain"))

    execution, call = call_http(httpserver.url_for("/slow"), timeout_s=0.4)

    error = assert_failed(execution, call, "http.timeout", "timeout")
    assert "while reading the body" in error["message"]
    # It gave up while the 400 bytes were still dripping in (2 s in all), not at their end.
    assert "400 bytes so far" not in error["message"]


# ---------------------------------------------------------------------------
# Response size


@pytest.fixture
def response_limit(settings):
    """Sets settings.NODEFLOW["HTTP_MAX_RESPONSE_BYTES"] for this test (the node reads it on every call)."""

    def set_limit(limit):
        settings.NODEFLOW = {**settings.NODEFLOW, "HTTP_MAX_RESPONSE_BYTES": limit}

    return set_limit


def test_body_of_exactly_the_limit_is_accepted(httpserver, response_limit):
    response_limit(1000)
    httpserver.expect_request("/fits").respond_with_data("x" * 1000)

    execution, call = call_http(httpserver.url_for("/fits"))

    assert execution.status == "succeeded"
    assert len(call.output["body"]) == 1000


def test_announced_body_over_the_limit_is_refused(httpserver, response_limit):
    response_limit(1000)
    httpserver.expect_request("/big").respond_with_data("x" * 1001)

    execution, call = call_http(httpserver.url_for("/big"))

    error = assert_failed(execution, call, "http.response_too_large", "permanent")
    assert "larger than the limit of 1000 bytes" in error["message"]
    assert "NODEFLOW_HTTP_MAX_RESPONSE_BYTES" in error["message"]


def test_endless_streamed_body_is_cut_off_at_the_limit(httpserver, response_limit):
    response_limit(64 * 1024)
    def endless():
        while True:
            yield b"y" * 8192

    httpserver.expect_request("/stream").respond_with_response(Response(endless(), content_type="text/plain"))

    execution, call = call_http(httpserver.url_for("/stream"), timeout_s=10)

    error = assert_failed(execution, call, "http.response_too_large", "permanent")
    assert "64 KB" in error["message"] and "reading stopped" in error["message"]


def test_default_limit_is_10_mb(httpserver):
    def eleven_mb():
        for _ in range(11):
            yield b"z" * (1024 * 1024)

    httpserver.expect_request("/huge").respond_with_response(Response(eleven_mb(), content_type="text/plain"))

    execution, call = call_http(httpserver.url_for("/huge"))

    error = assert_failed(execution, call, "http.response_too_large", "permanent")
    assert "limit of 10 MB" in error["message"]


def test_head_is_not_refused_for_the_size_it_announces(httpserver):
    httpserver.expect_request("/file", method="HEAD").respond_with_response(
        Response(status=200, headers={"Content-Length": str(50 * 1024 * 1024)}))

    execution, call = call_http(httpserver.url_for("/file"), method="HEAD")

    assert execution.status == "succeeded", call.error
    assert call.output["headers"]["content-length"] == str(50 * 1024 * 1024)


# ---------------------------------------------------------------------------
# Logs


def test_logs_say_method_url_status_and_time_but_not_header_values(httpserver):
    httpserver.expect_request("/logged").respond_with_json({"ok": True})

    execution, call = call_http(httpserver.url_for("/logged"), headers={"Authorization": "Bearer s3cr3t-value"})

    logs = log_text(call)
    assert f"GET {httpserver.url_for('/logged')} -> 200 OK in" in logs
    assert " ms" in logs
    assert "s3cr3t-value" not in logs


def test_password_in_the_url_is_not_logged():
    port = free_port()

    execution, call = call_http(f"http://user:hunter2@127.0.0.1:{port}/")

    assert "hunter2" not in log_text(call)
    assert "hunter2" not in call.error["message"]
    assert "user:***@" in call.error["message"]


def test_an_unknown_credential_fails_the_node_before_any_request(httpserver):
    execution, call = call_http(httpserver.url_for("/x"), credential="cred-1")

    error = assert_failed(execution, call, "http.no_credential", "permanent")
    assert "cred-1" in error["message"]
    assert len(httpserver.log) == 0


# ---------------------------------------------------------------------------
# On a real Celery worker (the node runs on the `http` queue, in another process)


def run_on_worker(document, input_data=None, timeout=30):
    from executions import starting
    from executions.tasks import dispatcher
    from tests.conftest import wait_for_execution

    started = starting.start_execution(document, dispatcher=dispatcher, input_data=input_data or {})
    execution = wait_for_execution(started.pk, timeout=timeout)
    return execution, {run.node_id: run for run in execution.node_runs.all()}


def test_request_with_expressions_and_redirect_runs_on_the_worker(httpserver, celery_worker):
    httpserver.expect_request("/submit", method="POST").respond_with_response(
        Response(status=303, headers={"Location": "/done"}))
    httpserver.expect_request("/done").respond_with_json({"saved": True})
    document = workflow([
        http(httpserver.url_for("/submit"), method="POST", query={"id": "{{ input.id }}"}, body={"id": "{{ input.id }}"}),
        node("end", "flow.terminal", result={"status": "{{ nodes.call.output.status }}",
                                             "body": "{{ nodes.call.output.body }}"}),
    ])

    execution, runs = run_on_worker(document, {"id": 5})

    assert execution.status == "succeeded", runs["call"].error
    assert execution.result == {"status": 200, "body": {"saved": True}}
    assert runs["call"].worker.split("@")[0] == celery_worker.name.split("@")[0]
    first_request = httpserver.log[0][0]
    assert first_request.args["id"] == "5" and json.loads(first_request.get_data()) == {"id": 5}


def test_transient_status_is_retried_on_the_worker_until_it_succeeds(httpserver, celery_worker):
    httpserver.expect_ordered_request("/flaky").respond_with_data("busy", status=503)
    httpserver.expect_ordered_request("/flaky").respond_with_json({"ok": True})
    document = workflow([
        {**http(httpserver.url_for("/flaky")), "retry": {"max_attempts": 3, "backoff_s": 0.05, "jitter": False}},
    ])

    execution, runs = run_on_worker(document)

    assert execution.status == "succeeded", runs["call"].error
    assert runs["call"].output["body"] == {"ok": True}
    assert [attempt["error"] and attempt["error"]["code"] for attempt in runs["call"].attempts] == ["http.status", None]


def test_an_idempotency_key_is_sent_when_asked_the_same_for_one_try_and_new_for_each_retry(httpserver):
    httpserver.expect_ordered_request("/pay").respond_with_data("busy", status=503)
    httpserver.expect_ordered_request("/pay").respond_with_json({"paid": True})
    execution, runs = run(workflow([
        {**http(httpserver.url_for("/pay"), method="POST", body={"amount": 5}, idempotency_key=True),
         "retry": {"max_attempts": 2, "backoff_s": 0.01, "jitter": False}}]))
    assert execution.status == "succeeded", runs["call"].error
    keys = [request.headers.get("Idempotency-Key") for request, _ in httpserver.log]
    assert keys == [f"nodeflow:{execution.pk}:call:1", f"nodeflow:{execution.pk}:call:2"]


def test_no_idempotency_key_unless_asked_and_the_author_s_own_header_wins(httpserver):
    httpserver.expect_request("/h").respond_with_handler(echo)
    _, plain = call_http(httpserver.url_for("/h"))
    _, own = call_http(httpserver.url_for("/h"), idempotency_key=True, headers={"Idempotency-Key": "mine"})
    assert "idempotency-key" not in plain.output["body"]["headers"]
    assert own.output["body"]["headers"]["idempotency-key"] == "mine"


def test_connection_refused_on_the_worker_fails_the_execution_as_transient(celery_worker):
    execution, runs = run_on_worker(workflow([http(f"http://127.0.0.1:{free_port()}/")]))

    assert execution.status == "failed"
    assert execution.error["code"] == "http.connection_refused"
    assert execution.error["class"] == "transient"


# ---------------------------------------------------------------------------
# The pooled session


@pytest.fixture
def keep_alive_server():
    """An HTTP/1.1 server that keeps connections open and records the client port of each request."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    client_ports = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            client_ports.append(self.client_address[1])
            body = b'{"n": %d}' % len(client_ports)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/", client_ports
    server.shutdown()
    server.server_close()


def test_requests_of_successive_runs_reuse_one_pooled_connection(keep_alive_server):
    url, client_ports = keep_alive_server

    for _ in range(3):
        execution, call = call_http(url)
        assert execution.status == "succeeded", call.error

    assert len(client_ports) == 3
    assert len(set(client_ports)) == 1


def test_a_forked_worker_process_gets_its_own_session():
    import os

    from nodes.http_request import v1

    parent_session = v1.session()
    assert v1.session() is parent_session
    pid = os.fork()
    if pid == 0:  # the child: must not share the parent's pooled sockets
        os._exit(0 if v1.session() is not parent_session else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
