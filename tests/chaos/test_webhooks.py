"""Bursts of async webhooks served by a real uvicorn process (the webhook door, triggers.door), and
NodeFlow's processes SIGKILLed under them.

Every 202 is answered once the request's row (an AcceptedRequest, or the execution itself) is
committed. A worker killed mid-burst holds prefetched messages, which Redis keeps unacknowledged
for an hour: the surviving worker's recovery sends them again. Every process killed right after
the last 202, with Redis restarted empty too: the accepted requests whose start was still a
message are started by recovery once workers are back, each exactly once."""

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.chaos.conftest import (
    RedisServer,
    assert_each_node_completed_once,
    document,
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


@pytest.fixture
def private_redis(private_dir):
    redis = RedisServer(private_dir).start()
    try:
        yield redis
    finally:
        redis.kill()


def test_every_process_killed_right_after_a_burst_of_202s_loses_no_accepted_webhook(deployment, private_redis):
    from executions.models import Execution
    from triggers.models import AcceptedRequest

    deployment.env["REDIS_URL"] = private_redis.url  # the start tasks in Redis die with it
    doc = document(
        [{"id": "hook", "type": "trigger.webhook", "params": {"response": "async"}},
         {"id": "set", "type": "data.set", "params": {"vars": {"n": "{{ input.body.n }}"}}},
         {"id": "done", "type": "flow.terminal", "params": {"result": "{{ vars.n }}"}}],
        [{"from": "hook", "to": "set"}, {"from": "set", "to": "done"}])
    hook = deployment.ask("publish_hook", document=doc)
    base = deployment.web()
    deployment.worker()

    def post(n):
        with requests.Session() as session:
            response = session.post(f"{base}{hook['hook_path']}", data=json.dumps({"n": n}),
                                    headers={"Content-Type": "application/json"}, timeout=60)
        return response.status_code, response.json().get("execution_id"), n

    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(post, range(POSTS)))
    # Right after the last 202: every NodeFlow process, and Redis with every message in it.
    deployment.kill_web()
    deployment.kill_workers()
    private_redis.kill()
    killed = time.monotonic()
    assert {status for status, _, _ in answers} == {202}, sorted({status for status, _, _ in answers})
    ids = [execution_id for _, execution_id, _ in answers]
    assert len(set(ids)) == POSTS
    waiting = AcceptedRequest.objects.count()  # accepted, no execution yet: only the rows remember them
    unfinished = Execution.objects.filter(pk__in=ids).exclude(status="succeeded").count()
    private_redis.start()  # empty
    deployment.worker()
    deployment.worker()
    recovered_s = wait_all_succeeded(ids, since=killed)
    assert_each_node_completed_once(ids, ("hook", "set", "done"))
    results = dict(Execution.objects.filter(pk__in=ids).values_list("pk", "result"))
    assert {str(pk): result for pk, result in results.items()} == {execution_id: n for _, execution_id, n in answers}
    workflow_executions = Execution.objects.filter(workflow_id=hook["workflow_id"]).count()
    assert workflow_executions == POSTS, f"{workflow_executions} executions for {POSTS} accepted requests"
    assert not AcceptedRequest.objects.exists()
    report("every process SIGKILLed right after a webhook burst", webhooks=POSTS,
           accepted_without_execution_at_kill=waiting, executions_unfinished_at_kill=unfinished,
           after_restart_s=round(recovered_s, 1))
    assert waiting + unfinished > 0, "everything was done before the kill: the experiment proved nothing"
