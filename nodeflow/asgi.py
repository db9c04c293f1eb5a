"""ASGI entry point: HTTP through Django, WebSockets through Channels; on PostgreSQL, production
webhook URLs through the webhook door (triggers.door) in front of Django."""

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nodeflow.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402  (needs Django set up first)
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.db import connection  # noqa: E402
from django.urls import get_resolver, path, re_path  # noqa: E402

from executions.consumers import ExecutionConsumer  # noqa: E402
from nodeflow.channels import NotFoundConsumer, TokenAuthMiddleware  # noqa: E402
from nodeflow.security import BodySizeLimit  # noqa: E402
from triggers.webhooks import webhook_exists  # noqa: E402
from workflows.consumers import WorkflowConsumer  # noqa: E402

websocket_urlpatterns = [
    path("ws/executions/<uuid:execution_id>/", ExecutionConsumer.as_asgi()),
    path("ws/workflows/<uuid:workflow_id>/", WorkflowConsumer.as_asgi()),
]
# Every other path is refused with a close code, not raised as an error by the router.
_not_found = [re_path(r"", NotFoundConsumer.as_asgi())]

http_application = BodySizeLimit(django_asgi_app, webhook_exists=webhook_exists)
if connection.vendor == "postgresql":  # embedded mode (SQLite) does not load psycopg at all
    from triggers.door import WebhookDoor

    http_application = WebhookDoor(http_application)

application = ProtocolTypeRouter(
    {
        "http": http_application,
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(TokenAuthMiddleware(URLRouter([*websocket_urlpatterns, *_not_found])))
        ),
    }
)


def _ready_for_first_requests():
    """Make now what the first requests would make while the others wait: the URLconf, the node types, and
    what sending a task takes (the Celery app finalized, its broker transport and Redis client imported, by
    the webhook door's first send_start otherwise). A web process that met its first webhooks in a burst
    spent 190–240 ms on that in one of them — compiling modules where no bytecode is cached, holding the
    import lock that its other threads' first use of the cache waited for — and answered the burst late."""
    from nodeflow.celery import app
    from nodes.registry import registry

    get_resolver().url_patterns
    registry.all()  # the node types' modules, imported by the first lookup of a trigger otherwise
    app.tasks  # finalizes the app
    app.producer_pool  # resolves the broker's transport (imported); it connects on first use


_ready_for_first_requests()
# What start-up made lives as long as the process: out of the garbage collector's way. Each full
# collection scanned the 110,000 objects of Django, the apps and what they import (62 ms here), in
# the middle of whichever request set it off: the slowest answers of a burst of webhooks.
gc.freeze()
