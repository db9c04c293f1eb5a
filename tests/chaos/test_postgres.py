"""PostgreSQL stopped (`pg_ctl stop -m fast`: every connection is cut) mid-run, down a few seconds,
then started again: a private cluster, migrated, under workers and a real uvicorn web process.

Tasks that find the database gone retry with backoff; a finished node whose result cannot be
written waits with its lease held, then runs again as `result_not_recorded`; runs whose message
was consumed by a task that gave up are recovered from the database. Timers set just before the
outage fire during it, in idle worker processes. The web answers 503 while the database is away
(or holds the request until its pool has a connection) and never a 500 once it is back."""

import threading
import time
from datetime import datetime, timezone

import pytest
import requests

from tests.chaos.conftest import (
    HTTP_NODES,
    NODES,
    Deployment,
    PostgresCluster,
    assert_each_node_completed_once,
    assert_http_called_once_unless_lost,
    chain_and_fan_out,
    hook_document,
    lost_runs,
    report,
    running_on,
    wait_all_succeeded,
    wait_document,
    wait_until,
)

pytestmark = [pytest.mark.chaos, pytest.mark.worker, pytest.mark.slow]

DOWN_S = 5
# Set just before the outage, so that they fire during it.
TIMER_S = 5
# Renewed every third of it: an outage of DOWN_S misses at most one renewal.
LEASE_S = 20
# After PostgreSQL is back, the web must answer every request (2xx) within this long.
WEB_BACK_WITHIN_S = 5


@pytest.fixture
def private_postgres(private_dir):
    cluster = PostgresCluster(private_dir)
    try:
        yield cluster.create()
    finally:
        cluster.close()


@pytest.fixture
def chaos_db(private_postgres, django_db_blocker):
    """The private cluster as the Django database alias `chaos`, for the test's own checks."""
    from django.db import connections

    connections.databases["chaos"] = {**connections["default"].settings_dict, "NAME": "nodeflow",
                                      "HOST": "127.0.0.1", "PORT": str(private_postgres.port)}
    try:
        with django_db_blocker.unblock():
            yield "chaos"
    finally:
        connections["chaos"].close()
        del connections["chaos"]
        del connections.databases["chaos"]


@pytest.fixture
def postgres_deployment(private_postgres):
    # A lease longer than three renewals' worth of outage: no worker dies here, and a lease that
    # cannot be renewed for its whole length is taken for a lost worker (executions/leases.py).
    deployment = Deployment(DATABASE_URL=private_postgres.url, NODEFLOW_NODE_LEASE_S=str(LEASE_S))
    try:
        yield deployment
    finally:
        deployment.close()


class Prober(threading.Thread):
    """Asks the web, every 0.1 s, for the executions list (a read) and posts a webhook (a write);
    keeps (monotonic time, request, status, execution id) of each answer."""

    def __init__(self, base, api_token, hook_path):
        super().__init__(daemon=True)
        self.requests = [("GET", f"{base}/api/v1/executions/?page_size=5", None),
                         ("POST", f"{base}{hook_path}", {"n": 0})]
        self.headers = {"Authorization": f"Token {api_token}"}
        self.samples = []
        self.stopped = threading.Event()

    def run(self):
        with requests.Session() as session:
            while not self.stopped.is_set():
                for method, url, body in self.requests:
                    try:
                        response = session.request(method, url, json=body, headers=self.headers, timeout=30)
                        status = response.status_code
                        execution_id = response.json().get("execution_id") if status == 202 else None
                    except requests.RequestException as exc:
                        status, execution_id = type(exc).__name__, None
                    self.samples.append((time.monotonic(), method, status, execution_id))
                time.sleep(0.1)

    def stop(self):
        self.stopped.set()
        self.join(timeout=60)


def test_postgres_restarted_mid_run_loses_no_execution_and_the_web_answers_no_500(
        postgres_deployment, private_postgres, chaos_db, counter):
    from django.db import connections

    from executions.models import NodeRun

    deployment = postgres_deployment
    hook = deployment.ask("publish_hook", document=hook_document(counter))
    base = deployment.web()
    # Room to spare (eight processes): the timers' wake-ups meet the outage in idle processes
    # instead of waiting for one that finished its node.
    deployment.worker(concurrency=4)
    deployment.worker(concurrency=4)
    # Timers that fire while the database is away, and nodes that run across it.
    waits = deployment.start(wait_document(counter, TIMER_S), 6)
    ids = deployment.start(chain_and_fan_out(counter, sleep_s=3), 6)
    prober = Prober(base, hook["api_token"], hook["hook_path"])
    prober.start()
    try:
        wait_until(lambda: running_on(ids, using=chaos_db) >= 2, 30, "nodes running")
        timers = NodeRun.objects.using(chaos_db).filter(execution_id__in=waits, node_id="wait", status="waiting")
        wait_until(lambda: timers.count() == len(waits), 30, "every timer set")
        first_timer = min(timers.values_list("wait__until", flat=True))
        stopped_at = datetime.now(timezone.utc)
        stopped = time.monotonic()
        private_postgres.stop("fast")
        time.sleep(DOWN_S)  # requests meanwhile wait for the pool (then 503) or answer 503
        private_postgres.start()
        back = time.monotonic()
        connections[chaos_db].close()  # the test's own connection died with the server
        back_at = datetime.now(timezone.utc)
        time.sleep(WEB_BACK_WITHIN_S + 5)
    finally:
        prober.stop()
    assert stopped_at < datetime.fromisoformat(first_timer) < back_at, "the timers were due outside the outage"
    hooked = [execution_id for _, _, status, execution_id in prober.samples if status == 202]
    recovered_s = wait_all_succeeded(ids + waits + hooked, since=back, using=chaos_db)
    assert_each_node_completed_once(ids, NODES, using=chaos_db)
    assert_each_node_completed_once(waits, ("start", "wait", "h", "done"), using=chaos_db)
    assert_each_node_completed_once(hooked, ("hook", "set", "h", "done"), using=chaos_db)
    repeated = assert_http_called_once_unless_lost(ids, HTTP_NODES, counter, using=chaos_db)
    repeated += assert_http_called_once_unless_lost(waits + hooked, ("h",), counter, using=chaos_db)
    lost = lost_runs(ids + waits + hooked, using=chaos_db)
    assert "worker_lost" not in lost, f"no worker died, yet node runs were run again as lost: {lost}"

    errors = [(round(at - back, 1), method, status) for at, method, status, _ in prober.samples
              if not (isinstance(status, int) and (status < 500 or status == 503))]
    assert not errors, f"the web answered errors other than 503 (seconds after PostgreSQL was back): {errors}"
    late = [(round(at - back, 1), method, status) for at, method, status, _ in prober.samples
            if at > back + WEB_BACK_WITHIN_S and status not in (200, 202)]
    assert not late, f"the web still failed {WEB_BACK_WITHIN_S} s after PostgreSQL was back: {late}"
    unavailable = [at for at, _, status, _ in prober.samples if status == 503]
    report("PostgreSQL stop -m fast, 5 s down, start", executions=len(ids) + len(waits), webhooks_accepted=len(hooked),
           down_s=round(back - stopped, 1), after_restart_s=round(recovered_s, 1), web_503s=len(unavailable),
           last_503_after_back_s=round(max(unavailable) - back, 1) if unavailable else None,
           lost=lost, repeated_http_calls=repeated)
