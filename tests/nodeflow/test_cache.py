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


def test_a_counter_is_made_and_counted_in_one_round_trip_and_keeps_its_window(monkeypatch):
    # The webhook rate limit's window and the door's 202 counter: Django's add() then incr() (which asks
    # whether the key exists first) cost up to three round trips a request.
    import redis.connection
    from django.core.cache import cache, caches
    from django.core.cache.backends.locmem import LocMemCache

    from nodeflow.cache import count

    cache.delete_many(["nodeflow:test:window", "nodeflow:test:forever"])
    sent = []
    send = redis.connection.AbstractConnection.send_packed_command
    monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command",
                        lambda self, *args, **kwargs: (sent.append(1), send(self, *args, **kwargs))[1])
    assert [count("nodeflow:test:window", timeout=60) for _ in range(3)] == [1, 2, 3]
    assert len(sent) == 3  # one round trip each
    assert cache.get("nodeflow:test:window") == 3  # what Django's cache reads
    client = cache._cache.get_client(write=True)
    ttl = client.ttl(cache.make_key("nodeflow:test:window"))
    assert 55 < ttl <= 60  # the first count opened the window; the others did not extend it
    assert count("nodeflow:test:forever", 5) == 5 and client.ttl(cache.make_key("nodeflow:test:forever")) == -1
    # Other caches (embedded mode's): add, then incr.
    monkeypatch.setitem(caches._settings, "locmem", {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"})
    assert isinstance(caches["locmem"], LocMemCache)
    assert [count("w", 2, timeout=60, alias="locmem") for _ in range(2)] == [2, 4]
