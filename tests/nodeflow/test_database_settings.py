"""Database settings from the environment: persistent connections, or a pool for the web process."""

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT, service_env

PROBE = """
import json, threading, django
django.setup()
from django.conf import settings
from django.db import connection, connections
config = settings.DATABASES["default"]
seen = []
def query():
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        seen.append(cursor.fetchone()[0])
    connections.close_all()  # with a pool: the connection goes back to it
for _ in range(10):
    thread = threading.Thread(target=query); thread.start(); thread.join()
print(json.dumps({"options": config.get("OPTIONS", {}), "max_age": config["CONN_MAX_AGE"],
                  "pooled": connection.pool is not None if hasattr(connection, "pool") else False, "pids": seen}))
"""


def probe(**env):
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=service_env(**env), capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.django_db
def test_with_a_pool_size_requests_in_new_threads_reuse_the_pooled_connections():
    found = probe(DATABASE_POOL_SIZE="3")
    assert found["options"]["pool"]["max_size"] == 3 and found["max_age"] == 0
    assert found["pooled"]
    # Ten threads, one after the other, each closing its connection: at most the pool's three
    # server connections served them all.
    assert len(found["pids"]) == 10 and len(set(found["pids"])) <= 3


@pytest.mark.django_db
def test_without_a_pool_each_new_thread_opens_a_connection_of_its_own():
    found = probe(DATABASE_CONN_MAX_AGE="0")
    assert "pool" not in found["options"] and not found["pooled"]
    assert len(set(found["pids"])) == 10


def test_a_bad_pool_size_is_refused_with_its_name():
    result = subprocess.run([sys.executable, "-c", "import django; django.setup()"], cwd=ROOT,
                            env=service_env(DATABASE_POOL_SIZE="many"), capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "DATABASE_POOL_SIZE='many' is not a whole number" in result.stderr


@pytest.mark.parametrize(("database", "expected"), [("sqlite", 0), ("postgres", 100), ("sqlite-set", 70)])
def test_code_nodes_run_inside_finish_transactions_by_default_only_on_postgres(tmp_path, database, expected):
    # On SQLite a transaction locks the whole database, so a code node run inside one would hold back
    # every other write of the embedded server; an operator may still ask for it.
    env = service_env(NODEFLOW_LOCAL_RUN_CONTAINED_MS="70") if database == "sqlite-set" else service_env()
    if database.startswith("sqlite"):
        env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'nodeflow.sqlite3'}"
    if database != "sqlite-set":
        env.pop("NODEFLOW_LOCAL_RUN_CONTAINED_MS", None)
    result = subprocess.run([sys.executable, "-c", "import django; django.setup(); from django.conf import settings; "
                             "print(settings.NODEFLOW['LOCAL_RUN_CONTAINED_MS'])"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    assert int(result.stdout.strip().splitlines()[-1]) == expected
