"""Django's Redis cache with one client, and so one connection pool, per process.

Django keeps a cache object per asyncio context (asgiref's Local), and its Redis backend
gives each object a client with pools of its own. Under ASGI every request runs in a
context of its own, so every request that used the cache opened a new Redis connection
and left it to the garbage collector (a sync webhook, a throttled API call, the door's
checks). Here the objects share one client per server list and options: its pool
(redis-py's, thread-safe, reset in a forked child) keeps the connections."""

import threading

from django.core.cache.backends.redis import RedisCache
from django.utils.functional import cached_property

_clients = {}
_lock = threading.Lock()


class SharedRedisCache(RedisCache):
    @cached_property
    def _cache(self):
        key = (tuple(self._servers), repr(sorted(self._options.items())))
        with _lock:
            if key not in _clients:
                _clients[key] = self._class(self._servers, **self._options)
            return _clients[key]
