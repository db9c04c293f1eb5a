"""GET /metrics: Prometheus text, computed from the database and the broker at scrape time.

Executions and workers may be spread over many machines; the database sees them all,
so the figures are counted there rather than in each process. Webhook requests are
counted in the cache (Redis in production).

Who may scrape: a staff user's session, or `Authorization: Bearer <NODEFLOW_METRICS_TOKEN>`
when that is set. Without a token, embedded mode (one machine, its own user) answers
anyone, and so does a server with NODEFLOW_METRICS_PUBLIC=true; any other server answers
401, because the figures tell an outsider how busy it is and which node types it runs."""

import hmac

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, DurationField, ExpressionWrapper, F, FloatField, Max, Q, Sum
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.http import HttpResponse
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

from executions.leases import RENEWAL_FAILURES_KEY
from executions.retention import PRUNED_KEY, PRUNED_KINDS
from executions.models import Execution, NodeRun
from nodeflow.api import error_response
from nodeflow.cache import count as counter
from nodes.http_request import breaker
from nodes.registry import QUEUES

DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)
WEBHOOK_STATUSES = (200, 201, 202, 204, 400, 401, 403, 404, 405, 409, 413, 415, 422, 429, 500, 502, 503, 504)
_WEBHOOK_KEY = "nodeflow:metrics:webhook:{}"


def count_webhook_request(status, count=1):
    """Count webhook requests by their HTTP status (called by the webhook view, and by the door for
    each batch it committed)."""
    counter(_WEBHOOK_KEY.format(int(status)), count)


class _DatabaseCollector:
    def collect(self):
        executions = GaugeMetricFamily("nodeflow_executions", "Executions by status.", labels=["status"])
        for row in Execution.objects.values("status").annotate(n=Count("id")).order_by():
            executions.add_metric([row["status"]], row["n"])
        yield executions

        runs = GaugeMetricFamily("nodeflow_node_runs", "Node runs by status and node type.", labels=["status", "type"])
        for row in NodeRun.objects.values("status", "type").annotate(n=Count("id")).order_by():
            runs.add_metric([row["status"], row["type"]], row["n"])
        yield runs

        duration = ExpressionWrapper(F("finished_at") - F("started_at"), output_field=DurationField())
        from datetime import timedelta

        aggregates = {f"le_{i}": Count("id", filter=Q(took__lte=timedelta(seconds=bucket)))
                      for i, bucket in enumerate(DURATION_BUCKETS)}
        rows = (NodeRun.objects.exclude(started_at=None).exclude(finished_at=None).annotate(took=duration)
                .values("type").annotate(total=Count("id"), seconds=Sum("took"), **aggregates).order_by())
        histogram = HistogramMetricFamily("nodeflow_node_run_duration_seconds",
                                          "How long node runs took, from start to finish.", labels=["type"])
        for row in rows:
            buckets = [(str(bucket), row[f"le_{i}"]) for i, bucket in enumerate(DURATION_BUCKETS)]
            buckets.append(("+Inf", row["total"]))
            took = row["seconds"]
            histogram.add_metric([row["type"]], buckets, sum_value=took.total_seconds() if took else 0.0)
        yield histogram

        yield from _resource_families()

        depth = GaugeMetricFamily("nodeflow_queue_depth", "Messages waiting in each Celery queue.", labels=["queue"])
        for queue, size in _queue_depths().items():
            depth.add_metric([queue], size)
        yield depth

        webhooks = GaugeMetricFamily("nodeflow_webhook_requests", "Webhook requests by HTTP status.", labels=["status"])
        counts = cache.get_many([_WEBHOOK_KEY.format(status) for status in WEBHOOK_STATUSES])
        for status in WEBHOOK_STATUSES:
            webhooks.add_metric([str(status)], counts.get(_WEBHOOK_KEY.format(status), 0))
        yield webhooks

        renewals = CounterMetricFamily("nodeflow_lease_renewal_failures",
                                       "Failed renewals of running node runs' leases, by all workers.")
        renewals.add_metric([], cache.get(RENEWAL_FAILURES_KEY) or 0)
        yield renewals

        pruned = CounterMetricFamily("nodeflow_pruned", "What retention removed: executions, node runs, events, "
                                     "stored output files.", labels=["kind"])
        counts = cache.get_many([PRUNED_KEY.format(kind) for kind in PRUNED_KINDS])
        for kind in PRUNED_KINDS:
            pruned.add_metric([kind], counts.get(PRUNED_KEY.format(kind), 0))
        yield pruned

        circuits = GaugeMetricFamily("nodeflow_http_circuit_state", "HTTP circuit breaker per host: 0 closed, "
                                     "1 half-open, 2 open.", labels=["host"])
        failures = GaugeMetricFamily("nodeflow_http_circuit_failures", "Consecutive transient failures counted "
                                     "by the HTTP circuit breaker, per host.", labels=["host"])
        try:
            states = breaker.states()
        except Exception:  # noqa: BLE001 — Redis away: the other figures are still worth a scrape
            states = {}
        for host, state in sorted(states.items()):
            circuits.add_metric([host], breaker.STATE_VALUES.get(state.get("state"), 0))
            failures.add_metric([host], state.get("failures", 0))
        yield circuits
        yield failures


def _resource_families():
    """What node runs used (NodeRun.resources), by node type: CPU time, peak memory, HTTP bytes."""
    def figure(key):
        return Cast(KeyTextTransform(key, "resources"), FloatField())

    rows = (NodeRun.objects.exclude(resources=None).values("type")
            .annotate(cpu=Sum(figure("cpu_ms")), peak=Max(figure("peak_memory_kb")), sent=Sum(figure("bytes_out")),
                      received=Sum(figure("bytes_in")))
            .order_by())
    cpu = CounterMetricFamily("nodeflow_node_cpu_seconds", "CPU time of node runs (worker thread and sandbox "
                              "child), by node type.", labels=["type"])
    peak = GaugeMetricFamily("nodeflow_node_peak_memory_bytes", "Largest peak memory of a code node's sandbox "
                             "child, by node type.", labels=["type"])
    http = CounterMetricFamily("nodeflow_http_body_bytes", "Bytes of request and response bodies of HTTP nodes.",
                               labels=["type", "direction"])
    for row in rows:
        cpu.add_metric([row["type"]], (row["cpu"] or 0) / 1000)
        if row["peak"] is not None:
            peak.add_metric([row["type"]], row["peak"] * 1024)
        if row["sent"] is not None or row["received"] is not None:
            http.add_metric([row["type"], "out"], row["sent"] or 0)
            http.add_metric([row["type"], "in"], row["received"] or 0)
    yield cpu
    yield peak
    yield http


def _queue_depths():
    if not settings.REDIS_URL:
        return {}
    import redis

    prefix = (getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", None) or {}).get("global_keyprefix", "")
    try:
        client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=1)
        # A queue is one Redis list per priority step (executions.limits.BROKER_PRIORITY): "default",
        # "default\x06\x163", …, as kombu's Redis transport names them.
        steps = [""] + [f"\x06\x16{step}" for step in (3, 6, 9)]
        pipe = client.pipeline()
        for queue in QUEUES:
            for step in steps:
                pipe.llen(f"{prefix}{queue}{step}")
        lengths = iter(pipe.execute())
        return {queue: sum(next(lengths) for _ in steps) for queue in QUEUES}
    except redis.RedisError:
        return {}


def may_scrape(request):
    """Whether this request may read /metrics (see the module docstring)."""
    config = settings.NODEFLOW
    token = config.get("METRICS_TOKEN")
    if token:
        sent = request.headers.get("Authorization", "")
        if hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
            return True
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.is_staff:
        return True
    return not token and bool(config.get("EMBEDDED") or config.get("METRICS_PUBLIC"))


def metrics(request):
    if not may_scrape(request):
        how = ("send Authorization: Bearer <NODEFLOW_METRICS_TOKEN>" if settings.NODEFLOW.get("METRICS_TOKEN")
               else "set NODEFLOW_METRICS_TOKEN and send it as Authorization: Bearer <token>")
        return error_response(401, "not_authenticated", f"metrics need a staff session; or {how}")
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_DatabaseCollector())
    return HttpResponse(generate_latest(registry), content_type="text/plain; version=0.0.4; charset=utf-8")
