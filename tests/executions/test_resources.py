"""Resource figures: a code node's CPU time and peak memory (from its sandbox child), every node run's CPU
time, an HTTP node's bytes; per node run and per execution in the API, and in /metrics."""

import json

import pytest

from executions.resources import totals
from tests.nodes.support import node, run, workflow

pytestmark = pytest.mark.django_db

HUNGRY = """
import time

def run(ctx):
    block = bytes(range(256)) * (50 * 1024 * 1024 // 256)  # 50 MB, every page written
    started = time.process_time()
    while time.process_time() - started < 0.2:  # 200 ms of CPU
        pass
    return {"size": len(block)}
"""


@pytest.fixture
def roomy_sandbox():
    """Limits above the defaults for one test (the node asks for them in its params)."""
    import sandbox
    from nodes.code_python import v1
    from sandbox import settings as sandbox_settings

    v1._configure_sandbox()
    saved = sandbox_settings.current().max_limits
    sandbox.configure(max_limits={**saved.as_dict(), "cpu_ms": 2000, "wall_ms": 10000, "memory_mb": 512})
    yield
    sandbox.configure(max_limits=saved)


def test_a_code_node_allocating_50_mb_and_burning_200_ms_shows_plausible_figures(alice, alice_client, client,
                                                                                   settings, roomy_sandbox):
    limits = {"cpu_ms": 2000, "wall_ms": 10000, "memory_mb": 512}
    document = workflow([node("hungry", "code.python", code=HUNGRY, limits=limits),
                         node("after", "data.set", output={"ok": True})])
    execution, runs = run(document)
    assert execution.status == "succeeded", runs["hungry"].error
    figures = runs["hungry"].resources
    assert 200 <= figures["sandbox_cpu_ms"] < 600, figures
    assert figures["cpu_ms"] >= figures["sandbox_cpu_ms"]
    assert 50 * 1024 <= figures["peak_memory_kb"] < 200 * 1024, figures
    # Every node run has its CPU time, an instant one too (small).
    assert 0 <= runs["after"].resources["cpu_ms"] < 100
    assert runs["start"].resources["cpu_ms"] >= 0

    execution.owner = alice
    execution.save(update_fields=["owner"])
    nodes = {row["node_id"]: row for row in alice_client.get(f"/api/v1/executions/{execution.pk}/nodes/").json()}
    assert nodes["hungry"]["resources"] == figures
    detail = alice_client.get(f"/api/v1/executions/{execution.pk}/").json()
    assert detail["resources"]["peak_memory_kb"] == figures["peak_memory_kb"]
    assert detail["resources"]["cpu_ms"] >= figures["cpu_ms"]

    settings.NODEFLOW = {**settings.NODEFLOW, "METRICS_PUBLIC": True}
    text = client.get("/metrics").content.decode()
    samples = {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line and not line.startswith("#")}
    assert samples['nodeflow_node_cpu_seconds_total{type="code.python"}'] >= 0.2
    assert samples['nodeflow_node_peak_memory_bytes{type="code.python"}'] == figures["peak_memory_kb"] * 1024


def test_an_http_node_counts_the_bytes_it_sent_and_received(httpserver):
    answer = json.dumps({"items": list(range(1000))})
    httpserver.expect_request("/data", method="POST").respond_with_data(answer, content_type="application/json")
    body = {"query": "x" * 5000}
    _, runs = run(workflow([node("call", "http.request", url=httpserver.url_for("/data"), method="POST", body=body)]))
    figures = runs["call"].resources
    assert figures["bytes_out"] == len(json.dumps(body, ensure_ascii=False).encode())
    assert figures["bytes_in"] == len(answer.encode())
    assert figures["cpu_ms"] > 0
    # The event of the run's end carries them: a live view totals an execution without asking again.
    [ended] = [event for event in runs["call"].execution.events.filter(node_id="call", type="NODE_STATE_CHANGED")
               if event.data["status"] == "completed"]
    assert ended.data["resources"] == figures


def test_execution_totals_add_up_and_take_the_largest_peak():
    assert totals([{"cpu_ms": 1.5, "peak_memory_kb": 10}, {"cpu_ms": 2, "peak_memory_kb": 30, "bytes_in": 5},
                   None, {"cpu_ms": 0.25}]) == {"cpu_ms": 3.75, "peak_memory_kb": 30, "bytes_in": 5}
