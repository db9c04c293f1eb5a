"""When a service NodeFlow depends on is down: 503 with a clear error, never a bare 500.

PostgreSQL holds every workflow and execution, and Redis the broker and the cache (rate
limits, replay markers). While either is unreachable a request cannot be served; the
client is told so, with `Retry-After`, and can try again. Django calls `server_error`
(handler500) for any exception a view or a middleware did not handle; it tells the
outages apart from bugs, which stay 500s (logged with their traceback)."""

import sys

from django.db import InterfaceError, OperationalError
from django.views.defaults import server_error as django_server_error
from kombu.exceptions import OperationalError as BrokerUnreachable

from nodeflow.api import error_response

RETRY_AFTER_S = 5


def unavailable_service(exc):
    """"the database" or "the broker or cache", when `exc` (or what caused it) says one is unreachable."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, (OperationalError, InterfaceError)):
            return "the database"
        if isinstance(exc, BrokerUnreachable) or _is_redis_connection_error(exc):
            return "the broker or cache"
        exc = exc.__cause__ or exc.__context__
    return None


def _is_redis_connection_error(exc):
    redis = sys.modules.get("redis.exceptions")  # imported only where Redis is used at all
    return redis is not None and isinstance(exc, (redis.ConnectionError, redis.TimeoutError))


def server_error(request):
    """handler500: 503 for an outage (JSON under /api/ and /hooks/, a short page elsewhere), else Django's 500."""
    service = unavailable_service(sys.exc_info()[1])
    if service is None:
        if request.path.startswith(("/api/", "/hooks/")):
            return error_response(500, "server_error", "the server failed to answer this request; the error is in its log")
        return django_server_error(request)
    message = f"{service} is unreachable right now; try again in a few seconds"
    return error_response(503, "service_unavailable", message, {"service": service},
                          headers={"Retry-After": str(RETRY_AFTER_S)})
