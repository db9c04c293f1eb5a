"""Workers SIGKILLed whole (main process and pool children) with work in flight, held or waiting.

A killed worker's main process takes with it what it held: its prefetched messages and the ETA
messages of timers, which Redis keeps unacknowledged for its visibility timeout (an hour).
Running nodes come back when their lease expires (the reaper); the rest only because the
database knows what was queued and when it was due (executions.recovery): without recovery,
these executions wait an hour, past the bound."""

import time
from datetime import datetime, timezone

import pytest

from tests.chaos.conftest import (
    HTTP_NODES,
    NODES,
    assert_each_node_completed_once,
    assert_http_called_once_unless_lost,
    chain_and_fan_out,
    held_messages,
    hostname_of,
    lost_runs,
    report,
    running_on,
    wait_all_succeeded,
    wait_document,
    wait_until,
)

pytestmark = [pytest.mark.chaos, pytest.mark.worker, pytest.mark.slow]


def test_a_worker_main_process_killed_mid_run_loses_no_execution(deployment, counter):
    doc = chain_and_fan_out(counter)
    victim = deployment.worker()
    deployment.worker()
    ids = deployment.start(doc, 16)
    wait_until(lambda: running_on(ids, hostname_of(victim)) > 0, 30, "a node running on the victim")
    held = held_messages(deployment)
    victim.kill()
    killed = time.monotonic()
    time.sleep(3)
    deployment.worker()  # the victim's replacement
    restarted = time.monotonic()
    recovered_s = wait_all_succeeded(ids, since=restarted)
    assert_each_node_completed_once(ids, NODES)
    repeated = assert_http_called_once_unless_lost(ids, HTTP_NODES, counter)
    report("worker main process SIGKILL", executions=len(ids), held_unacked_at_kill=held,
           after_kill_s=round(restarted - killed + recovered_s, 1),
           after_restart_s=round(recovered_s, 1), lost=lost_runs(ids), repeated_http_calls=repeated)


def test_every_worker_down_for_ten_seconds_loses_no_execution(deployment, counter):
    doc = chain_and_fan_out(counter)
    deployment.worker()
    deployment.worker()
    ids = deployment.start(doc, 10)
    wait_until(lambda: running_on(ids) >= 2, 30, "nodes running")
    held = held_messages(deployment)
    deployment.kill_workers()
    killed = time.monotonic()
    ids += deployment.start(doc, 6)  # queued while no worker is up
    time.sleep(max(0.0, 10 - (time.monotonic() - killed)))
    restarted = time.monotonic()
    deployment.worker()
    deployment.worker()
    recovered_s = wait_all_succeeded(ids, since=restarted)
    assert_each_node_completed_once(ids, NODES)
    repeated = assert_http_called_once_unless_lost(ids, HTTP_NODES, counter)
    report("every worker down 10 s", executions=len(ids), held_unacked_at_kill=held,
           down_s=round(restarted - killed, 1), after_restart_s=round(recovered_s, 1), lost=lost_runs(ids),
           repeated_http_calls=repeated)


def test_waits_across_a_kill_of_every_worker_fire_when_a_worker_is_back(deployment, counter):
    from executions.models import NodeRun

    wait_s = 5
    doc = wait_document(counter, wait_s)
    deployment.worker()
    ids = deployment.start(doc, 10)
    waiting = NodeRun.objects.filter(execution_id__in=ids, node_id="wait", status="waiting")
    wait_until(lambda: waiting.count() == len(ids), 30, "every execution waiting")
    # The fault this experiment is about: every timer's ETA message is in the worker's hands.
    wait_until(lambda: held_messages(deployment) >= len(ids), 10, "the timers' messages held by the worker")
    deployment.kill_workers()
    killed = time.monotonic()
    due = max(NodeRun.objects.filter(execution_id__in=ids, node_id="wait").values_list("wait__until", flat=True))
    time.sleep(max(0.0, (datetime.fromisoformat(due) - datetime.now(timezone.utc)).total_seconds()) + 1)
    restarted = time.monotonic()
    deployment.worker()
    recovered_s = wait_all_succeeded(ids, since=restarted)
    assert_each_node_completed_once(ids, ("start", "wait", "h", "done"))
    repeated = assert_http_called_once_unless_lost(ids, ("h",), counter)
    report("flow.wait across a SIGKILL of every worker", executions=len(ids), wait_s=wait_s,
           down_s=round(restarted - killed, 1), after_restart_s=round(recovered_s, 1), lost=lost_runs(ids),
           repeated_http_calls=repeated)


def test_a_worker_killed_while_a_chain_of_code_nodes_runs_inside_one_transaction_loses_none(deployment):
    from django.db import connection

    from executions.models import Execution
    from tests.chaos.conftest import document

    # c0 runs after its claim's commit, leased; its finish runs c1–c7 inside its transaction, about
    # 40 ms each, and the worker is killed while that is open. The limits on that are raised so that a
    # loaded machine (the suite runs two test processes at once) still runs them there: a code node
    # over LOCAL_RUN_CONTAINED_MS (100 ms) would be stopped and run after the commit instead.
    deployment.env.update(NODEFLOW_LOCAL_RUN_CONTAINED_MS="1000", NODEFLOW_LOCAL_RUN_BUDGET_S="5")
    code = ("import time\n\ndef run(ctx):\n    end = time.monotonic() + 0.04\n    while time.monotonic() < end:\n"
            "        pass\n    return max([n['output'] for n in ctx['nodes'].values() if isinstance(n['output'], int)]"
            " or [0]) + 1\n")
    chain = [f"c{i}" for i in range(8)]
    nodes = [{"id": "start", "type": "trigger.manual"},
             *[{"id": node_id, "type": "code.python", "params": {"code": code}} for node_id in chain],
             {"id": "done", "type": "flow.terminal", "params": {"result": "{{ nodes.c7.output }}"}}]
    names = [node["id"] for node in nodes]
    doc = document(nodes, [{"from": a, "to": b} for a, b in zip(names, names[1:])])
    victim = deployment.worker()
    ids = deployment.start(doc, 4)

    def in_a_finish():
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                           "AND state = 'idle in transaction' AND xact_start < now() - interval '60 milliseconds'")
            return cursor.fetchone()[0] > 0

    wait_until(in_a_finish, 30, "a worker inside a finish transaction that runs code nodes")
    victim.kill()
    killed = time.monotonic()
    deployment.worker()
    recovered_s = wait_all_succeeded(ids, since=killed)
    assert_each_node_completed_once(ids, names)
    assert list(Execution.objects.filter(pk__in=ids).values_list("result", flat=True)) == [8] * len(ids)
    report("worker SIGKILL inside a finish running code nodes", executions=len(ids),
           after_kill_s=round(recovered_s, 1), lost=lost_runs(ids))
