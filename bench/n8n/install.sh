#!/bin/sh
# Install n8n into DIR for the benchmark's peer step (NODEFLOW_BENCH_N8N_DIR=DIR).
#
#   bench/n8n/install.sh /tmp/n8n        # then: NODEFLOW_BENCH_N8N_DIR=/tmp/n8n … nodeflow bench --only N8N
#
# The recipe of issue 20: n8n 1.123.81 from npm on Node.js 20, installed without its install
# scripts (its isolated-vm does not build on Node.js 20; the bench starts n8n with
# N8N_RUNNERS_ENABLED=false, so it is never loaded), and its `xlsx` dependency overridden to
# the registry's 0.18.5: n8n's own package.json fetches xlsx from a CDN, which is unreachable
# from many build machines. Install it outside the repository: node_modules is ~1 GB.
set -eu
DIR=${1:?usage: bench/n8n/install.sh DIR}
VERSION=${N8N_VERSION:-1.123.81}
mkdir -p "$DIR"
cd "$DIR"
cat > package.json <<JSON
{
  "name": "nodeflow-bench-n8n",
  "private": true,
  "dependencies": {"n8n": "$VERSION"},
  "overrides": {"xlsx": "0.18.5"}
}
JSON
npm install --ignore-scripts --no-audit --no-fund --loglevel=error
test -x node_modules/.bin/n8n
node_modules/.bin/n8n --version
