#!/usr/bin/env bash
# Starts PostgreSQL and Redis for the test suite when they are installed but not running.
set -euo pipefail

pg_up() { (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; }
redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; }

if ! pg_up; then
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    echo "starting PostgreSQL $version"
    pg_ctlcluster --skip-systemctl-redirect "$version" main start
  else
    echo "PostgreSQL is not running on 127.0.0.1:5432 and is not installed (apt-get install postgresql)" >&2
    exit 1
  fi
fi
if ! redis_up; then
  if command -v redis-server >/dev/null 2>&1; then
    echo "starting Redis"
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  else
    echo "Redis is not running on 127.0.0.1:6379 and is not installed (apt-get install redis-server)" >&2
    exit 1
  fi
fi
for _ in $(seq 1 50); do pg_up && redis_up && exit 0; sleep 0.2; done
echo "PostgreSQL or Redis did not come up" >&2
exit 1
