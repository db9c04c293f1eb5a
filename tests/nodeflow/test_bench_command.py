"""`nodeflow bench` in embedded mode (SQLite, no Redis) says what it needs instead of failing on an import."""

import subprocess
import sys

from tests.conftest import ROOT
from tests.nodeflow.test_dev_port import embedded_env


def test_the_bench_in_embedded_mode_says_it_needs_postgresql_and_redis(tmp_path):
    done = subprocess.run([sys.executable, str(ROOT / "manage.py"), "nodeflow", "bench", "--quick", "--only", "P1"],
                          env=embedded_env(tmp_path), cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "it needs PostgreSQL and Redis (set DATABASE_URL and REDIS_URL" in done.stderr
    assert "Traceback" not in done.stderr
