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

# What start-up made lives as long as the process: out of the garbage collector's way. Each full
# collection scanned the 110,000 objects of Django, the apps and what they import (62 ms here), in
# the middle of whichever request set it off: the slowest answers of a burst of webhooks.
get_resolver().url_patterns  # the URLconf, imported now rather than by the first request
gc.freeze()
