"""A worker SIGKILLed in the middle of a burst of async webhooks, served by a real uvicorn process.

Every 202 was answered after its execution's row was committed; the killed worker held
prefetched messages of some of them, which Redis keeps unacknowledged for an hour. The
surviving worker's recovery sends them again: every accepted webhook's execution succeeds."""

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.chaos.conftest import (
    assert_each_node_completed_once,
    assert_http_called_once_unless_lost,
    held_messages,
    hook_document,
    lost_runs,
    report,
    wait_all_succeeded,
)

pytestmark = [pytest.mark.chaos, pytest.mark.worker, pytest.mark.slow]

POSTS = 200
CLIENTS = 8


def test_a_worker_killed_during_a_webhook_burst_loses_no_accepted_webhook(deployment, counter):
    counter.delay_s = 0.05  # 200 executions through one surviving worker
    hook = deployment.ask("publish_hook", document=hook_document(counter))
    base = deployment.web()
    victim = deployment.worker()
    deployment.worker()
    answers = []
    lock = threading.Lock()
    killed = {}

    def post(n):
        with requests.Session() as session:
            response = session.post(f"{base}{hook['hook_path']}", data=json.dumps({"n": n}),
                                    headers={"Content-Type": "application/json"}, timeout=60)
        with lock:
            answers.append((response.status_code, response.json().get("execution_id")))
            if len(answers) == POSTS // 3 and not killed:
                killed["held"] = held_messages(deployment)
                victim.kill()  # a third of the burst in: its messages held by the victim die with it
                killed["at"] = time.monotonic()

    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(post, range(POSTS)))
    assert killed, "the victim was not killed during the burst"
    statuses = {status for status, _ in answers}
    assert statuses == {202}, f"not every webhook was accepted: {sorted(statuses)}"
    ids = [execution_id for _, execution_id in answers]
    assert len(set(ids)) == POSTS
    recovered_s = wait_all_succeeded(ids, since=killed["at"])
    assert_each_node_completed_once(ids, ("hook", "set", "h", "done"))
    repeated = assert_http_called_once_unless_lost(ids, ("h",), counter)
    report("worker SIGKILL during a webhook burst", webhooks=POSTS, held_unacked_at_kill=killed["held"],
           after_kill_s=round(recovered_s, 1), lost=lost_runs(ids), repeated_http_calls=repeated)
