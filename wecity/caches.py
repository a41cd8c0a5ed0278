"""The cache backend for CACHE_URL=redis://…: Redis, and this process's memory while Redis is down.

What the portal keeps in its cache (allauth's rate-limit counters, the API's throttles and
validators) is shared by the web processes through Redis; none of it is worth a failed
page. While Redis cannot be reached each process keeps its own counters instead: limits
still apply, per process, and nothing answers 500 because of the cache.
"""

import logging
import os
import threading
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

REDIS_DOWN = (RedisConnectionError, RedisTimeoutError)
# While Redis stays down, its outage is logged once a minute per process, not per request.
WARN_EVERY_SECONDS = 60


def count_in_window(cache, key, seconds):
    """Add one to the counter `key`, which starts at the first count and is gone `seconds`
    later: (the count, the seconds left until it is gone). The API's rate limits.
    """
    counter = getattr(cache, "count_in_window", None)
    if counter is not None:
        return counter(key, seconds)
    return count_in_memory(cache, key, seconds)


def get_many_and_count(cache, keys, counter, seconds):
    """`cache.get_many(keys)` and `count_in_window(cache, counter, seconds)` together:
    (the values found, the count, the seconds left). On Redis, one round trip.
    """
    together = getattr(cache, "get_many_and_count", None)
    if together is not None:
        return together(keys, counter, seconds)
    return (cache.get_many(keys), *count_in_window(cache, counter, seconds))


def count_in_memory(cache, key, seconds):
    """`count_in_window` with the operations of every Django cache (a few of them)."""
    now = time.time()
    cache.add(f"{key}:ends", now + seconds, seconds)
    cache.add(key, 0, seconds)
    try:
        count = cache.incr(key)
    except ValueError:  # expired since the add
        cache.set(key, 1, seconds)
        count = 1
    ends = cache.get(f"{key}:ends") or now + seconds
    return count, max(0.0, ends - now)


# Add one to a counter and give it its expiry if it has none (it was just made): the count and
# the seconds it has left. Redis runs a script whole, no other client's command in between.
COUNT_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
local left = redis.call('TTL', KEYS[1])
if left < 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
  left = tonumber(ARGV[1])
end
return {count, left}
"""
# The same, then the values of the other keys (MGET): what the page cache's fast path asks
# for an API read, its rate limit and its stored answer, in one round trip.
COUNT_AND_GET_SCRIPT = COUNT_SCRIPT.replace(
    "return {count, left}",
    "local values = {}\n"
    "if #KEYS > 1 then values = redis.call('MGET', unpack(KEYS, 2, #KEYS)) end\n"
    "return {count, left, values}",
)


class ReusedRedisCacheClient(RedisCacheClient):
    """Django's client, keeping one redis.Redis per connection pool, thread and process,
    which holds a connection of its own.

    Django builds a new redis.Redis for every operation, and redis-py's constructor fills
    a table of several hundred response callbacks each time: about 0.4 ms a cache read, more
    than the read itself. A client keeping its connection (single_connection_client) also
    does not take one from the pool and give it back at each command: about a tenth of what
    a cached page costs. Such a client is not shared between threads, nor used again after
    a fork (the child makes its own).
    """

    def __init__(self, servers, **options):
        super().__init__(servers, **options)
        self._local = threading.local()

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        local = self._local
        if getattr(local, "pid", None) != os.getpid():
            local.clients, local.pid = {}, os.getpid()
        client = local.clients.get(id(pool))
        if client is None:
            client = self._client(connection_pool=pool, single_connection_client=True)
            local.clients[id(pool)] = client
        return client


class RedisCacheWithFallback(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusedRedisCacheClient
        local = {key: value for key, value in params.items() if key not in ("LOCATION", "OPTIONS")}
        self._fallback = LocMemCache(f"redis-fallback-{id(self)}", local)
        self._warned_at = None
        self._falling_back = False

    @property
    def is_falling_back(self):
        """Whether Redis could not be reached at the last operation, answered from memory.

        The page cache neither reads nor stores pages then: another process's invalidations
        would not reach this one's memory.
        """
        return self._falling_back

    def _either(self, method, *args, **kwargs):
        return self._redis_or_memory(
            lambda: getattr(super(RedisCacheWithFallback, self), method)(*args, **kwargs),
            lambda: getattr(self._fallback, method)(*args, **kwargs),
        )

    def _redis_or_memory(self, redis_call, memory_call):
        try:
            result = redis_call()
        except REDIS_DOWN as error:
            self._falling_back = True
            now = time.monotonic()
            if self._warned_at is None or now - self._warned_at > WARN_EVERY_SECONDS:
                self._warned_at = now
                logger.warning("Redis cache unreachable, using this process's memory: %s", error)
            return memory_call()
        self._falling_back = False
        return result

    def count_in_window(self, key, seconds):
        """`count_in_window` in one round trip: a script Redis runs at once (COUNT_SCRIPT)."""
        return self._redis_or_memory(
            lambda: self._count_in_redis(key, seconds),
            lambda: count_in_memory(self._fallback, key, seconds),
        )

    def _count_in_redis(self, key, seconds):
        key = self.make_and_validate_key(key)
        client = self._cache.get_client(key, write=True)
        count, left = self._script(COUNT_SCRIPT, client)(keys=[key], args=[seconds], client=client)
        return count, left

    def get_many_and_count(self, keys, counter, seconds):
        """`get_many_and_count` in one round trip (COUNT_AND_GET_SCRIPT)."""
        return self._redis_or_memory(
            lambda: self._get_many_and_count_in_redis(keys, counter, seconds),
            lambda: (
                self._fallback.get_many(keys),
                *count_in_memory(self._fallback, counter, seconds),
            ),
        )

    def _get_many_and_count_in_redis(self, keys, counter, seconds):
        # make_key, not make_and_validate_key: validating only warns of keys memcached would
        # refuse, and the page cache's keys (digests, quoted tags) are not; it is part
        # of the Python a cached API read costs.
        made = {self.make_key(key): key for key in keys}
        counter = self.make_key(counter)
        client = self._cache.get_client(counter, write=True)
        script = self._script(COUNT_AND_GET_SCRIPT, client)
        count, left, values = script(keys=[counter, *made], args=[seconds], client=client)
        loads = self._cache._serializer.loads
        found = {
            made[key]: loads(value)
            for key, value in zip(made, values, strict=True)
            if value is not None
        }
        return found, count, left

    def _script(self, source, client):
        """The script registered once per process (redis-py loads it again after a restart)."""
        scripts = self.__dict__.setdefault("_scripts", {})
        if source not in scripts:
            scripts[source] = client.register_script(source)
        return scripts[source]

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._either("add", key, value, timeout, version)

    def get(self, key, default=None, version=None):
        return self._either("get", key, default, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._either("set", key, value, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._either("touch", key, timeout, version)

    def delete(self, key, version=None):
        return self._either("delete", key, version)

    def get_many(self, keys, version=None):
        return self._either("get_many", keys, version)

    def has_key(self, key, version=None):
        return self._either("has_key", key, version)

    def incr(self, key, delta=1, version=None):
        return self._either("incr", key, delta, version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._either("set_many", data, timeout, version)

    def delete_many(self, keys, version=None):
        return self._either("delete_many", keys, version)

    def clear(self):
        return self._either("clear")
