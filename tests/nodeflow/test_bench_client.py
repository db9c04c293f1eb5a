"""P5's load client (bench/webhooks.py) against a real local HTTP server that stalls on one post.

An open loop (`post_at_rate`) sends on a schedule and charges a stall to every post it held
up; a closed loop (`post_all`) waits out the stall and measures the posts after it from when
it sent them, so the same stall shows in one latency only."""

import json
import time

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from bench.support import stolen_share
from bench.webhooks import post_all, post_at_rate

STALL_S = 0.3
STALLED = 10  # the post that waits STALL_S for its answer


@pytest.fixture
def port():
    """A local HTTP server (threaded, as a web server is) answering each post 202 with an execution id of its
    number; post STALLED waits STALL_S first."""
    server = HTTPServer(threaded=True)

    def answer(request):
        number = request.get_json()["n"]
        if number == STALLED:
            time.sleep(STALL_S)
        return Response(json.dumps({"execution_id": f"e{number}"}), status=202, content_type="application/json")

    server.expect_request("/hook", method="POST").respond_with_handler(answer)
    server.start()
    yield server.port
    server.clear()
    server.stop()


def by_number(run):
    return {sample["number"]: sample for sample in run.samples}


def test_an_open_loop_posts_on_schedule_and_charges_a_stall_to_every_post_it_held_up(port):
    started = time.perf_counter()
    run = post_at_rate(port, "/hook", count=40, rate=100, clients=2)
    elapsed = time.perf_counter() - started

    samples = by_number(run)
    assert sorted(samples) == list(range(40))
    assert {sample["status"] for sample in run.samples} == {202}
    assert samples[7]["execution_id"] == "e7"
    assert elapsed >= 0.39  # post 39 was due 0.39 s after the first: the client did not run ahead
    assert samples[STALLED]["latency_ms"] >= STALL_S * 1000
    # Posts 12 and 14 were due 20 and 40 ms after the stalled one, on its client: sent late, and charged for it.
    for number in (STALLED + 2, STALLED + 4):
        assert samples[number]["late_ms"] >= STALL_S * 1000 - 60
        assert samples[number]["latency_ms"] >= samples[number]["late_ms"]
    # The other client kept its schedule.
    assert samples[STALLED + 1]["latency_ms"] < 100
    assert samples[STALLED + 1]["late_ms"] < 50


def test_a_closed_loop_measures_each_post_from_when_it_was_sent(port):
    run = post_all(port, "/hook", count=40, clients=2)

    samples = by_number(run)
    assert sorted(samples) == list(range(40))
    assert samples[STALLED]["latency_ms"] >= STALL_S * 1000
    assert sum(sample["latency_ms"] >= STALL_S * 1000 for sample in run.samples) == 1
    assert {sample["late_ms"] for sample in run.samples} == {0.0}


def test_a_run_says_how_much_of_the_machines_cpu_its_hypervisor_took(port):
    run = post_all(port, "/hook", count=10, clients=2)
    assert 0 <= run.stolen <= 1  # /proc/stat's steal over the run
    before = {"user": 100, "nice": 0, "system": 50, "idle": 800, "iowait": 0, "irq": 0, "softirq": 0, "steal": 50}
    after = {**before, "user": 250, "idle": 900, "steal": 150}
    assert stolen_share(before, after) == 100 / 350
    assert stolen_share({}, after) is None and stolen_share(before, before) is None
