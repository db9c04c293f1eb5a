"""The seed pipeline (examples/products): 10,000 product records fetched over HTTP, each one's
thumbnail features (a registered node) scored against a reference in a code node inside a
flow.foreach, the scores exported over HTTP, on real worker processes with bounded memory.

The suite runs 300 items (about a minute), which exercises every part: the child per item, the
paged foreach, the HTTP pool, item order and memory. The issue's run of 10,000 items takes about
25 minutes on a 2-core machine, longer than CI allows, and is run by hand:

    NODEFLOW_PIPELINE_ITEMS=10000 .venv/bin/python -m pytest tests/executions/test_composition_pipeline.py -s
"""

import json
import os
import time
from pathlib import Path

import pytest

from bench.support import rss_mb
from examples.products.catalog import CatalogServer
from executions.models import Execution
from tests.chaos.conftest import ChaosWorker, deployment, suite_worker_stopped  # noqa: F401 — fixtures

# 10,000 items take about 25 minutes on a small machine (PERFORMANCE.md P10 has the figures).
pytestmark = [pytest.mark.worker, pytest.mark.slow, pytest.mark.timeout(3600)]

PIPELINE = Path(__file__).resolve().parents[2] / "examples" / "products" / "pipeline.json"
ITEMS = int(os.environ.get("NODEFLOW_PIPELINE_ITEMS") or 300)
MODULES = "tests.support.nodes,examples.products.nodes"


def test_the_product_pipeline_runs_every_item_in_order_with_bounded_worker_memory(deployment, settings):
    from nodes.registry import registry

    env = {**deployment.env, "NODEFLOW_NODE_MODULES": MODULES, "NODEFLOW_HTTP_ALLOW_NETWORKS": "127.0.0.1/32"}
    deployment.env = env  # the starter validates the document: it needs the node type too
    workers = [ChaosWorker(concurrency=2, queues="default,sandbox", env=env).start(timeout=60),
               ChaosWorker(concurrency=16, queues="http", pool="threads", env=env).start(timeout=60)]
    deployment.workers += workers
    server = CatalogServer(ITEMS)
    try:
        document = json.loads(PIPELINE.read_text())
        # The starter's input is its own ({"n": …}): the URLs go into the document.
        text = json.dumps(document).replace("{{ input.catalog_url }}", server.input()["catalog_url"])
        document = json.loads(text.replace("{{ input.export_url }}", server.input()["export_url"]))
        document.pop("input_schema")
        settings.NODEFLOW = {**settings.NODEFLOW, "NODE_MODULES": MODULES.split(",")}
        registry.reload()
        [execution_id] = deployment.start(document, 1)
        peak = 0.0
        deadline = time.monotonic() + 3600
        while True:
            peak = max(peak, rss_mb([worker.process.pid for worker in workers])[1])
            execution = Execution.objects.get(pk=execution_id)
            if execution.status in ("succeeded", "failed", "cancelled", "timed_out"):
                break
            assert time.monotonic() < deadline, f"the pipeline is still {execution.status}"
            time.sleep(1)
        assert execution.status == "succeeded", execution.error
        assert execution.result["exported"] == ITEMS
        assert execution.result["summary"]["count"] == ITEMS
        [export] = server.exports
        assert [r["id"] for r in export["results"]] == [f"p{i:05d}" for i in range(ITEMS)]  # item order
        assert all(0 <= r["score"] <= 1 for r in export["results"])
        assert Execution.objects.filter(parent_id=execution_id, status="succeeded").count() == ITEMS
        assert peak <= 300, f"worker peak RSS {peak:.0f} MB"
        print(f"pipeline of {ITEMS} items: {execution.duration_ms / 1000:.0f} s, worker peak RSS {peak:.0f} MB")
    finally:
        server.close()
        registry.reload()
