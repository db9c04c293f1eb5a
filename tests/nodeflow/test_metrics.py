"""GET /metrics in Prometheus text."""

import pytest
from prometheus_client.parser import text_string_to_metric_families

from executions.inline import run_inline
from nodeflow.metrics import count_webhook_request
from tests.conftest import load_workflow
from workflows.services import with_node_versions


def scrape(client, **headers):
    response = client.get("/metrics", **headers)
    assert response.status_code == 200, response.content
    return {family.name: family for family in text_string_to_metric_families(response.content.decode())}


@pytest.mark.django_db
def test_metrics_count_executions_node_runs_durations_and_webhooks(admin_client):  # staff may scrape
    run_inline(with_node_versions(load_workflow("if_else")), input_data={"amount": 500})
    count_webhook_request(202)
    count_webhook_request(202)
    families = scrape(admin_client)
    executions = {s.labels["status"]: s.value for s in families["nodeflow_executions"].samples}
    assert executions == {"succeeded": 1}
    runs = {(s.labels["status"], s.labels["type"]): s.value for s in families["nodeflow_node_runs"].samples}
    assert runs[("skipped", "data.set")] == 1 and runs[("completed", "data.set")] == 1
    buckets = [s for s in families["nodeflow_node_run_duration_seconds"].samples
               if s.name.endswith("_bucket") and s.labels["type"] == "logic.if"]
    assert buckets[-1].labels["le"] == "+Inf" and buckets[-1].value == 1
    assert [b.value for b in buckets] == sorted(b.value for b in buckets)  # cumulative
    total = [s for s in families["nodeflow_node_run_duration_seconds"].samples
             if s.name.endswith("_sum") and s.labels["type"] == "logic.if"]
    assert 0 < total[0].value < 5
    webhooks = {s.labels["status"]: s.value for s in families["nodeflow_webhook_requests"].samples}
    assert webhooks["202"] >= 2
    depth = {s.labels["queue"] for s in families["nodeflow_queue_depth"].samples}
    assert depth == {"default", "http", "sandbox"}


@pytest.mark.django_db
def test_metrics_token_is_required_when_configured(client, settings):
    settings.NODEFLOW = {**settings.NODEFLOW, "METRICS_TOKEN": "s3cret"}
    assert client.get("/metrics").status_code == 401
    assert scrape(client, HTTP_AUTHORIZATION="Bearer s3cret")
