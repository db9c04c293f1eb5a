"""GET /healthz: database, broker and workers, with 200 when all are up and 503 otherwise."""

from django.conf import settings
from django.db import connection
from django.http import JsonResponse

from nodeflow.celery import app


def _database():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return {"ok": True, "vendor": connection.vendor}
    except Exception as exc:
        return {"ok": False, "error": str(exc)}


def _broker():
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=1)
        return {"ok": True, "transport": conn.transport_cls if isinstance(conn.transport_cls, str) else "memory"}
    except Exception as exc:
        return {"ok": False, "error": str(exc)}


def _workers():
    if settings.NODEFLOW["EMBEDDED"]:
        from nodeflow.embedded import embedded_worker_state

        return embedded_worker_state()
    try:
        replies = app.control.ping(timeout=settings.NODEFLOW["HEALTH_WORKER_TIMEOUT_S"]) or []
    except Exception as exc:
        return {"ok": False, "count": 0, "error": str(exc)}
    names = sorted(name for reply in replies for name in reply)
    return {"ok": bool(names), "count": len(names), "names": names}


def _sandbox():
    import sandbox

    return sandbox.sandbox_status()


def healthz(request):
    checks = {"database": _database(), "broker": _broker(), "workers": _workers()}
    healthy = all(check["ok"] for check in checks.values())
    # The code-node sandbox mode is reported, not judged: a weak or missing sandbox
    # disables code nodes but not the rest of NodeFlow.
    body = {**checks, "sandbox": _sandbox(), "status": "ok" if healthy else "unhealthy"}
    return JsonResponse(body, status=200 if healthy else 503)
