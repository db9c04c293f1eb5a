"""Settings for the test suite: PostgreSQL and Redis on this machine unless told otherwise."""

import os
import uuid

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/nodeflow")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
# A prefix of our own on the broker's keys (and the cache's, the channel layer's), so parallel test runs
# never take each other's tasks. pytest-xdist's processes inherit the prefix of the process that started
# them, which imported these settings too: each adds its own name (gw0, gw1 …) to it.
_prefix = os.environ.get("NODEFLOW_BROKER_PREFIX") or f"nodeflow-test-{uuid.uuid4().hex[:8]}:"
_xdist_worker = os.environ.get("PYTEST_XDIST_WORKER")
if _xdist_worker and not _prefix.endswith(f"-{_xdist_worker}:"):
    _prefix = f"{_prefix.rstrip(':')}-{_xdist_worker}:"
os.environ["NODEFLOW_BROKER_PREFIX"] = _prefix
os.environ.setdefault("NODEFLOW_NODE_MODULES", "tests.support.nodes")
os.environ.setdefault("NODEFLOW_HTTP_ALLOW_NETWORKS", "127.0.0.1/32,::1/128,localhost")
# The HTTP circuit breaker is off unless a test's node turns it on (its state is per host, and every test's
# local server is one host: tests answering 503 on purpose would open it for the next ones).
os.environ.setdefault("NODEFLOW_HTTP_BREAKER_FAILURES", "0")

from nodeflow.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
