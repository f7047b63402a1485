"""The cache backend of production: Django's ``RedisCache`` that keeps answering while Redis
is unreachable or refuses to work.

While Redis is away — not answering, timing out, or answering with an error (out of memory,
a failed snapshot that stops writes, a read-only replica, too few replicas) — every cache call
goes to a per-process memory cache instead (Django's ``LocMemCache``, shared by the process's
threads), and a circuit breaker (``council.outage``) keeps requests from each waiting on or
failing against it: Redis is tried again once every few seconds, with a write (a server that
refuses writes still answers reads), and used again as soon as that write succeeds. The outage
is logged once when it starts and once when it ends, not per call.

What that means for the callers, all through ``django.core.cache.cache``: the thread rate limit
and sign-in throttling hold per process instead of across workers; the evidence page's shared
verification becomes each process's own; a cached notice PDF is rendered again. Nothing fails.
Values written to the memory cache during an outage stay there (until they expire) and are not
copied to Redis when it returns.

Settings: ``"BACKEND": "council.cache.FallbackRedisCache"``, with Django's usual ``LOCATION``
and ``OPTIONS`` (passed to redis-py; set short socket timeouts so a hung server fails fast)
and one option of its own, ``FALLBACK_RETRY_AFTER`` (seconds between tries while Redis is
away; default 5).
"""

from __future__ import annotations

from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

from .outage import Outage

# Every error of redis-py: a refused or dropped connection, a timeout, and an error reply
# (MISCONF, OOM, READONLY, NOREPLICAS …) — each would otherwise be a 500.
UNUSABLE = (RedisError,)

# What the try after an outage writes: a small key that expires on its own.
_PROBE_KEY = "weishi-cache-probe"

# One breaker per Redis location, shared by every instance of the backend in this process:
# Django makes one cache object per thread (per request under daphne).
_OUTAGES: dict[str, Outage] = {}


class FallbackRedisCache(RedisCache):
    def __init__(self, server, params):
        params = {**params}
        options = {**params.get("OPTIONS", {})}
        retry_after = float(options.pop("FALLBACK_RETRY_AFTER", 5))
        params["OPTIONS"] = options
        super().__init__(server, params)
        location = server if isinstance(server, str) else ",".join(server)
        self._outage = _OUTAGES.setdefault(location, Outage(f"Redis cache at {location}"))
        self._outage.retry_after = retry_after
        # LocMemCache instances of one name share their storage: this process's fallback.
        self._local = LocMemCache(
            f"weishi-fallback:{location}",
            {**params, "OPTIONS": {"MAX_ENTRIES": 10_000}},
        )

    @property
    def degraded(self) -> bool:
        """Whether calls go to this process's memory now (Redis unreachable)."""
        return self._outage.down

    def clear(self):
        self._local.clear()
        return self._redis_or_local("clear")

    def _redis_or_local(self, name: str, *args, **kwargs):
        if self._outage.available():
            try:
                if self._outage.down:
                    # This caller tries Redis again, first with a write: a server that refuses
                    # writes answers reads, and a read alone would end the outage only for the
                    # next write to start another.
                    RedisCache.set(self, _PROBE_KEY, 1, timeout=10)
                result = getattr(RedisCache, name)(self, *args, **kwargs)
            except UNUSABLE as error:
                self._outage.failed(error)
            else:
                self._outage.succeeded()
                return result
        return getattr(self._local, name)(*args, **kwargs)


def _falls_back(name: str):
    def method(self, *args, **kwargs):
        return self._redis_or_local(name, *args, **kwargs)

    method.__name__ = name
    method.__doc__ = f"``RedisCache.{name}``, or the process's memory cache while Redis is away."
    return method


# Every operation Django's RedisCache implements (the rest — get_or_set, decr, the async
# variants — are built on these by BaseCache).
for _name in (
    "add",
    "get",
    "set",
    "touch",
    "delete",
    "get_many",
    "has_key",
    "incr",
    "set_many",
    "delete_many",
):
    setattr(FallbackRedisCache, _name, _falls_back(_name))


def cache_degraded(alias: str = "default") -> bool:
    """Whether the cache answers from this process's memory now, Redis being unreachable
    (always False for other backends)."""
    return getattr(caches[alias], "degraded", False)
