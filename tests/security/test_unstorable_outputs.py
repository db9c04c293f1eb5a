"""Issue 21, finding 6: an HTTP answer holding NaN, Infinity or U+0000 ends its node clearly.

The attack: a server answering `{"a": NaN}` made the node's result fail to store; the task
crashed, the reaper re-sent it, and ~90 s later the execution ended "worker lost 3 times"
with on_error never applied. Here a real local server answers, the HTTP node routes its
error, and the run is over at once, on PostgreSQL (the suite's database) and on SQLite."""

import json
import subprocess
import sys
import time

import pytest
from werkzeug import Response

from executions.inline import run_inline
from tests.conftest import ROOT
from tests.nodes.support import node, runs_of, workflow

ROUTED = "{{ nodes.call.error.code }}"


def document(url):
    return workflow(
        [
            {"id": "call", "type": "http.request", "params": {"url": url}, "on_error": "route"},
            node("handled", "flow.terminal", result={"routed": ROUTED, "message": "{{ nodes.call.error.message }}"}),
            node("fine", "flow.terminal", result={"body": "{{ nodes.call.output.body }}"}),
        ],
        edges=[{"from": "start", "to": "call"}, {"from": "call", "port": "error", "to": "handled"},
               {"from": "call", "to": "fine"}],
    )


def answer(httpserver, text):
    httpserver.expect_request("/data").respond_with_response(Response(text, content_type="application/json"))
    return httpserver.url_for("/data")


@pytest.mark.django_db
@pytest.mark.parametrize("text, shown", [('{"a": NaN}', "NaN"), ('{"a": [1, Infinity]}', "Infinity"),
                                         ('{"a": {"b": -Infinity}}', "-Infinity")])
def test_a_non_json_number_in_an_http_answer_is_routed_through_on_error(httpserver, text, shown):
    started = time.monotonic()
    execution = run_inline(document(answer(httpserver, text)))
    runs = runs_of(execution)

    assert time.monotonic() - started < 10
    assert execution.status == "succeeded", execution.error
    assert execution.result["routed"] and shown in execution.result["message"]
    assert "$.body.a" in execution.result["message"] or "$.a" in execution.result["message"]
    assert runs["call"].status == "failed" and runs["fine"].status == "skipped"


@pytest.mark.django_db
def test_u0000_in_an_http_answer_is_stored_as_the_replacement_character(httpserver):
    execution = run_inline(document(answer(httpserver, '{"a\\u0000": "x\\u0000y"}')))

    assert execution.status == "succeeded", execution.error
    assert execution.result == {"body": {"a\ufffd": "x\ufffdy"}}
    assert runs_of(execution)["call"].output["body"] == {"a\ufffd": "x\ufffdy"}


@pytest.mark.slow
def test_on_sqlite_too_a_nan_answer_is_routed_through_on_error(httpserver, tmp_path):
    path = tmp_path / "nan.json"
    path.write_text(json.dumps(document(answer(httpserver, '{"a": NaN}'))))
    env = {"DJANGO_SETTINGS_MODULE": "nodeflow.settings", "NODEFLOW_DATA_DIR": str(tmp_path),
           "DATABASE_URL": f"sqlite:///{tmp_path}/nodeflow.sqlite3", "NODEFLOW_HTTP_ALLOW_NETWORKS": "127.0.0.1/32",
           "PATH": "/usr/bin:/bin"}
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True, timeout=120)

    started = time.monotonic()
    ran = subprocess.run([*manage, "nodeflow", "run", str(path), "--inline"], cwd=ROOT, env=env, timeout=120,
                         capture_output=True, text=True)

    assert time.monotonic() - started < 60
    assert "NaN" in ran.stdout and "routed" in ran.stdout, ran.stdout + ran.stderr
    assert "worker lost" not in ran.stdout + ran.stderr
