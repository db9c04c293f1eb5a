"""Django's Redis cache with one client, and so one connection pool, per process.

Django keeps a cache object per asyncio context (asgiref's Local), and its Redis backend
gives each object a client with pools of its own. Under ASGI every request runs in a
context of its own, so every request that used the cache opened a new Redis connection
and left it to the garbage collector (a sync webhook, a throttled API call, the door's
checks). Here the objects share one client per server list and options: its pool
(redis-py's, thread-safe, reset in a forked child) keeps the connections.

Django's client also builds a `redis.Redis` object for every operation; building one cost
more than the GET it was for (the webhook door's hook lookup, under load). Here each pool
has one, which redis-py lets threads share (it takes a connection from the pool per command)."""

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.utils.functional import cached_property

# No lock: dict.setdefault is atomic, and a client or pool made twice by two threads at once is one too
# many, not wrong (the loser has no connection yet: redis-py connects on first use). A lock held by
# another thread when a Celery worker forks its pool would stay held in the child for good.
_clients = {}


class _Client(RedisCacheClient):
    def __init__(self, servers, **options):
        super().__init__(servers, **options)
        self._redis = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._redis.get(index)
        if client is None:
            pool = self._pools.get(index)
            if pool is None:  # as Django's _get_connection_pool does, for this index (that one draws its own)
                pool = self._pools.setdefault(index, self._pool_class.from_url(self._servers[index],
                                                                               **self._pool_options))
            client = self._redis.setdefault(index, self._client(connection_pool=pool))
        return client


class SharedRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _Client

    @cached_property
    def _cache(self):
        key = (tuple(self._servers), repr(sorted(self._options.items())))
        client = _clients.get(key)
        if client is None:
            client = _clients.setdefault(key, self._class(self._servers, **self._options))
        return client


def count(key, delta=1, timeout=None, alias="default"):
    """Add `delta` to the counter at `key`, made at 0 (for `timeout` seconds; None: for good) if it is missing;
    its new value. On Redis one round trip, SET NX and INCRBY pipelined: Django's incr() asks whether the key
    exists first (a round trip more, and it raises when it does not), and a fixed window's counter made with
    add() paid a third for every request after the first (the webhook rate limit, the door's 202 counter)."""
    backend = caches[alias]
    if isinstance(backend, SharedRedisCache):
        key = backend.make_and_validate_key(key)
        pipeline = backend._cache.get_client(key, write=True).pipeline(transaction=False)
        pipeline.set(key, 0, ex=timeout, nx=True)
        pipeline.incrby(key, delta)
        return pipeline.execute()[1]
    backend.add(key, 0, timeout=timeout)
    try:
        return backend.incr(key, delta)
    except ValueError:  # it expired between the two
        backend.add(key, delta, timeout=timeout)
        return delta
