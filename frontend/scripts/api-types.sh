#!/bin/sh
# Regenerates src/api/schema.d.ts from the server's OpenAPI schema:
# `manage.py spectacular` writes the schema, openapi-typescript turns it into types.
# Usage: npm run api-types [-- path/to/schema.yml]   (no argument: generate the schema now)
set -eu
cd "$(dirname "$0")/.."
schema="${1:-}"
if [ -z "$schema" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  schema="$tmp/schema.yml"
  # The schema needs no data: a throwaway SQLite file keeps it independent of any database.
  (cd .. && DATABASE_URL="sqlite:///$tmp/db.sqlite3" .venv/bin/python manage.py spectacular --file "$schema" >/dev/null 2>&1) \
    || { echo "manage.py spectacular failed" >&2; exit 1; }
fi
npx openapi-typescript "$schema" --default-non-nullable false --empty-objects-unknown -o src/api/schema.d.ts
