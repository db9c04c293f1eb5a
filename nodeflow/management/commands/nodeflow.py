"""`python manage.py nodeflow dev | run | validate | import | prune | bench`."""

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "NodeFlow: dev (embedded mode), run FILE.json, validate FILE.json, test FILE.json, bench."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        dev = sub.add_parser("dev", help="run everything in one process (embedded mode)")
        dev.add_argument("--host", default="127.0.0.1")
        dev.add_argument("--port", type=int, default=8000)
        run = sub.add_parser("run", help="run a workflow document and print its result and node table")
        run.add_argument("file")
        run.add_argument("--input", default="{}", help="the run's input as JSON")
        run.add_argument("--inline", action="store_true", help="run in this process instead of on Celery workers")
        run.add_argument("--timeout", type=float, default=600, help="seconds to wait for a Celery run")
        validate = sub.add_parser("validate", help="print a workflow document's validation errors")
        validate.add_argument("file")
        tests = sub.add_parser("test", help="run a workflow document's tests here; exit 0 only when all pass")
        tests.add_argument("file")
        tests.add_argument("--case", action="append", dest="cases", help="run only this case (repeatable)")
        imports = sub.add_parser("import", help="import a nodeflow, n8n or stageflow file as a new draft; print the report")
        imports.add_argument("file")
        imports.add_argument("--format", choices=["nodeflow", "n8n", "stageflow"], help="detected when omitted")
        imports.add_argument("--owner", help="username of the owner (default: the first superuser)")
        prune = sub.add_parser("prune", help="remove finished executions past their retention (README: operations)")
        prune.add_argument("--dry-run", action="store_true", help="only show what would be removed")
        bench = sub.add_parser("bench", help="the benchmark suite against the production setup (PERFORMANCE.md)")
        bench.add_argument("--quick", action="store_true", help="a smaller run (under 2 minutes)")
        bench.add_argument("--json", dest="json_path", help="also write the results to this JSON file")
        bench.add_argument("--only", help="comma-separated scenario ids to run (P1…P12, W40, N8N); all when omitted")

    def handle(self, *args, action, **options):
        if action == "dev":
            from nodeflow import embedded

            try:
                embedded.run(host=options["host"], port=options["port"], stdout=self.stdout)
            except embedded.PortTaken as exc:
                raise CommandError(exc.strerror) from None
            return
        if action == "bench":
            from django.conf import settings
            from django.db import connection

            if connection.vendor != "postgresql" or not settings.REDIS_URL:
                raise CommandError("nodeflow bench measures the production setup: it needs PostgreSQL and Redis "
                                   "(set DATABASE_URL and REDIS_URL; docs/PERFORMANCE.md, \"How to rerun\")")
            from bench.runner import BenchError, run

            try:
                only = [item.strip().upper() for item in options["only"].split(",")] if options["only"] else None
                run(quick=options["quick"], json_path=options["json_path"], only=only, out=self.stdout)
            except BenchError as exc:
                raise CommandError(str(exc)) from None
            return
        if action == "prune":
            from nodeflow.cli import prune

            prune(dry_run=options["dry_run"], out=self.stdout)
            return
        if action == "import":
            from importers.cli import import_file

            import_file(options["file"], options["format"], options["owner"], self.stdout)
            return
        document = _load_document(options["file"])
        if action == "validate":
            sys.exit(self._validate(document))
        if action == "test":
            from nodeflow.testing_cli import test_document

            sys.exit(test_document(document, options["cases"], out=self.stdout))
        if action == "run":
            try:
                input_data = json.loads(options["input"])
            except json.JSONDecodeError as exc:
                raise CommandError(f"--input is not JSON: {exc}") from None
            from nodeflow.cli import run_document

            sys.exit(run_document(document, input_data, inline=options["inline"], timeout=options["timeout"],
                                  out=self.stdout))

    def _validate(self, document):
        from nodes.validation import validate_document

        errors = validate_document(document)
        if not errors:
            self.stdout.write("valid\n")
            return 0
        for error in errors:
            where = error.get("node_id") or error.get("path") or ""
            self.stdout.write(f"{error['code']}: {error['message']}" + (f"  [{where}]" if where else "") + "\n")
        self.stdout.write(f"{len(errors)} error(s)\n")
        return 1


def _load_document(path):
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise CommandError(f"{path}: no such file") from None
    except json.JSONDecodeError as exc:
        raise CommandError(f"{path} is not JSON: {exc}") from None
    except RecursionError:
        raise CommandError(f"{path} is nested too deeply to be a workflow document") from None
