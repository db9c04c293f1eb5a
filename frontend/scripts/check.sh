#!/bin/sh
# The editor's part of `make test`: its unit tests (vitest), its type check, and a check that
# the committed bundle (static/frontend/app/) is exactly what the sources build.
set -eu
cd "$(dirname "$0")/.."

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "frontend: Node.js (^20.19 or >=22.12) and npm are needed to test the editor" >&2
  exit 1
fi
node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 22 || (a === 22 && b >= 12) || (a === 20 && b >= 19) ? 0 : 1)' || {
  echo "frontend: Node.js $(node --version) is too old; ^20.19 or >=22.12 is needed" >&2
  exit 1
}

# npm ci only when the lock file changed since the last install.
if [ ! -f node_modules/.nodeflow-installed ] || [ package-lock.json -nt node_modules/.nodeflow-installed ]; then
  npm ci --no-audit --no-fund --loglevel=error
  touch node_modules/.nodeflow-installed
fi

npx vitest run --reporter=dot

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
npm run --silent build -- --outDir "$out/app" --emptyOutDir --logLevel warn
if ! diff -r "$out/app" static/frontend/app >/dev/null; then
  echo "frontend: the committed bundle is stale; rebuild it with 'cd frontend && npm run build' and commit static/frontend/app:" >&2
  diff -r -q "$out/app" static/frontend/app >&2 || true
  exit 1
fi
echo "frontend: unit tests pass and the committed bundle matches the sources"
