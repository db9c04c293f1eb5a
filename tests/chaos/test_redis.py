"""Redis, the broker and the cache, killed mid-run and started again empty (no persistence).

Every message is gone with it: the queued node runs, the prefetched ones, the successors a
finishing node sends while it is down (refused, left to recovery), and the first node of the
executions started during the outage. The database knows what was queued; recovery sends it
again once Redis answers. Without recovery nothing sent before the restart ever runs.

The workers must outlive the outage (reconnect): with celery 5.7.0 and kombu 5.7.0 a worker's
main process may instead exit at the connection loss ("Unrecoverable error: AttributeError:
'NoneType' object has no attribute 'hostname'", raised while the consumer closes the lost
connection's channel, kombu/transport/redis.py:_connparams). The test replaces such a worker so
that recovery is still measured, and fails for it."""

import time

import pytest

from tests.chaos.conftest import (
    HTTP_NODES,
    NODES,
    RedisServer,
    assert_each_node_completed_once,
    assert_http_called_once_unless_lost,
    chain_and_fan_out,
    lost_runs,
    report,
    running_on,
    wait_all_succeeded,
    wait_until,
)

pytestmark = [pytest.mark.chaos, pytest.mark.worker, pytest.mark.slow]


@pytest.fixture
def private_redis(private_dir):
    redis = RedisServer(private_dir).start()
    try:
        yield redis
    finally:
        redis.kill()


def test_redis_restarted_empty_loses_no_execution_and_keeps_every_worker(deployment, private_redis, counter):
    # Every process of the deployment (workers, starter) uses the private Redis as broker and cache.
    deployment.env["REDIS_URL"] = private_redis.url
    doc = chain_and_fan_out(counter)
    workers = [deployment.worker(), deployment.worker()]
    ids = deployment.start(doc, 12)
    wait_until(lambda: running_on(ids) >= 2, 30, "nodes running")
    private_redis.kill()
    killed = time.monotonic()
    ids += deployment.start(doc, 4)  # accepted while Redis is down: their first message cannot be sent
    time.sleep(max(0.0, 5 - (time.monotonic() - killed)))
    private_redis.start()  # empty
    restarted = time.monotonic()
    # A worker must reconnect, not exit. One that exited is replaced, as a supervisor would, so
    # that recovery is still measured; the test fails for it at the end.
    exited = [worker for worker in workers if not worker.alive()]
    for _ in exited:
        deployment.worker()
    recovered_s = wait_all_succeeded(ids, since=restarted)
    assert_each_node_completed_once(ids, NODES)
    repeated = assert_http_called_once_unless_lost(ids, HTTP_NODES, counter)
    report("Redis restarted without persistence", executions=len(ids), down_s=round(restarted - killed, 1),
           after_restart_s=round(recovered_s, 1), workers_exited=len(exited), lost=lost_runs(ids),
           repeated_http_calls=repeated)
    assert not exited, (f"{len(exited)} of {len(workers)} workers exited when Redis went away instead of reconnecting: "
                        + "; ".join(f"{worker.log_path}: {_unrecoverable(worker)}" for worker in exited))


def _unrecoverable(worker):
    lines = worker.log_path.read_text(errors="replace").splitlines()
    return next((line for line in lines if "Unrecoverable error" in line), lines[-1] if lines else "(empty log)")
