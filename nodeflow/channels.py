"""Channels plumbing: an in-memory layer safe to send to from worker threads, token auth for sockets,
and the answer to a socket on a path nothing serves."""

import asyncio
import threading
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import InMemoryChannelLayer

# The close code of a socket on a path nothing serves (4403 is "not yours", as HTTP's 403).
CLOSE_NOT_FOUND = 4404


class ThreadSafeInMemoryChannelLayer(InMemoryChannelLayer):
    """The in-memory layer of embedded mode, where Celery's worker threads broadcast.

    Its queues belong to the web server's event loop; a send from another thread (which
    runs its own loop under async_to_sync) is handed over to that loop instead of
    touching its queues directly."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._home_loop = None
        self._home_lock = threading.Lock()

    def _remember_loop(self):
        if self._home_loop is None:
            with self._home_lock:
                self._home_loop = self._home_loop or asyncio.get_running_loop()

    async def _on_home_loop(self, coroutine):
        home = self._home_loop
        if home is None or home is asyncio.get_running_loop() or home.is_closed():
            return await coroutine
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coroutine, home))

    async def receive(self, channel):
        self._remember_loop()
        return await super().receive(channel)

    async def group_add(self, group, channel):
        self._remember_loop()
        return await self._on_home_loop(super().group_add(group, channel))

    async def group_discard(self, group, channel):
        return await self._on_home_loop(super().group_discard(group, channel))

    async def send(self, channel, message):
        return await self._on_home_loop(super().send(channel, message))

    async def group_send(self, group, message):
        return await self._on_home_loop(super().group_send(group, message))


@database_sync_to_async
def _user_for_token(key):
    from rest_framework.authtoken.models import Token

    token = Token.objects.select_related("user").filter(key=key).first()
    return token.user if token and token.user.is_active else None


class TokenAuthMiddleware:
    """`?token=<api token>` authenticates a WebSocket when there is no session user."""

    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        user = scope.get("user")
        if user is None or not user.is_authenticated:
            token = parse_qs(scope.get("query_string", b"").decode()).get("token", [None])[0]
            if token:
                found = await _user_for_token(token)
                if found is not None:
                    scope = dict(scope, user=found)
        return await self.inner(scope, receive, send)


class NotFoundConsumer(AsyncWebsocketConsumer):
    """Any WebSocket path no other route serves: refused with CLOSE_NOT_FOUND (Channels' router
    would raise instead, which the server logs as an error with a traceback)."""

    async def connect(self):
        await self.close(code=CLOSE_NOT_FOUND)
