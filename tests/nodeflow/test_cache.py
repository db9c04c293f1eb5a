"""nodeflow.cache: Django's Redis cache, one connection pool per process however many contexts use it."""

import contextvars

import redis
from django.conf import settings
from django.core.cache import caches


def test_requests_in_contexts_of_their_own_share_the_processs_redis_connections():
    # Under ASGI each request runs in a context of its own, and Django keeps a cache object per
    # context: with Django's own backend each of them opened a Redis connection of its own.
    assert settings.CACHES["default"]["BACKEND"] == "nodeflow.cache.SharedRedisCache"
    server = redis.Redis.from_url(settings.REDIS_URL)
    contextvars.Context().run(caches["default"].get, "nodeflow:test:warm")
    before = server.info("stats")["total_connections_received"]
    objects, clients = [], set()

    def request(n):
        cache = caches["default"]
        cache.set(f"nodeflow:test:key{n}", n, 5)
        assert cache.get(f"nodeflow:test:key{n}") == n
        objects.append(cache)  # kept, so that no two share an id
        clients.add(id(cache._cache))

    for n in range(30):
        contextvars.Context().run(request, n)
    # Django's objects, one per context; one client under them.
    assert len({id(cache) for cache in objects}) == 30 and len(clients) == 1
    assert server.info("stats")["total_connections_received"] - before < 5  # not one per request


def test_one_redis_client_serves_every_operation_and_thread():
    # Django's client built a redis.Redis object per operation, which cost more than the GET.
    import threading

    from django.core.cache import cache

    seen = set()

    def operate(n):
        cache.set(f"nodeflow:test:t{n}", n, 5)
        assert cache.get(f"nodeflow:test:t{n}") == n and cache.incr(f"nodeflow:test:t{n}") == n + 1
        seen.add(id(cache._cache.get_client(write=True)))
        seen.add(id(cache._cache.get_client()))

    threads = [threading.Thread(target=operate, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 1
