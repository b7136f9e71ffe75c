"""The shared cache (Redis) with a local fallback: a dead Redis degrades the cache, never a request.

Django's Redis backend raises when Redis cannot be reached, and every user of the cache would then
answer 500: the throttles (`school.api.throttling`, on every login and upload), the live frame guard,
the outbox's server-down flag, the face crops, the recognition breaker. `FallbackRedisCache` serves an
operation that Redis fails from this process's own local-memory cache instead, and keeps doing so for
`RETRY_SECONDS` before it tries Redis again (so an outage costs one failed connection per process every
few seconds, not one per call). That is the product's own configuration without REDIS_URL: throttle
counters, the live guard and the breaker count per process instead of for every process, so a limit
still holds in each process (a client gets at most the number of processes times its rate), and
nothing is refused or lost. Each fallback is counted (`cache_fallback_total`, `school.metrics`), the
switch is logged once as a warning and the return as info, and `/readyz` reports the shared cache as
failing (`degraded`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

from school import metrics

logger = logging.getLogger(__name__)

T = TypeVar("T")

# After a failure, operations go straight to the local cache for this long, then Redis is tried again.
RETRY_SECONDS = 5.0
# The local cache's size: throttle histories, guards and flags of one process during an outage.
LOCAL_MAX_ENTRIES = 10_000

# Per Redis location, shared by the threads of this process: until when Redis is not tried.
_down_until: dict[str, float] = {}
_down_lock = threading.Lock()


class FallbackRedisCache(RedisCache):
    """Django's Redis cache; an operation that Redis fails is served by this process's local cache."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._location = str(server)
        local: dict[str, Any] = {name: params[name] for name in ("TIMEOUT", "KEY_PREFIX", "VERSION", "KEY_FUNCTION")
                                 if name in params}
        local["OPTIONS"] = {"MAX_ENTRIES": LOCAL_MAX_ENTRIES}
        # Named by the location: every thread of the process shares one local store (LocMemCache's rule).
        self.local = LocMemCache(f"redis-fallback:{self._location}", local)

    @property
    def degraded(self) -> bool:
        """True while this process serves the cache locally because Redis failed a moment ago."""
        return time.monotonic() < _down_until.get(self._location, 0.0)

    def _run(self, operation: str, shared: Callable[[], T], local: Callable[[], T]) -> T:
        if not self.degraded:
            try:
                result = shared()
            except RedisError as exc:
                self._failed(operation, exc)
            else:
                self._answered()
                return result
        metrics.cache_fallback(operation=operation)
        return local()

    def _failed(self, operation: str, exc: RedisError) -> None:
        with _down_lock:
            first = self._location not in _down_until
            _down_until[self._location] = time.monotonic() + RETRY_SECONDS
        if first:
            logger.warning("the shared cache (Redis) failed on %s (%s: %s); this process uses its local cache "
                           "until Redis answers again", operation, type(exc).__name__, exc)
        else:
            logger.debug("the shared cache (Redis) still fails (%s)", exc)

    def _answered(self) -> None:
        if self._location in _down_until:
            with _down_lock:
                came_back = _down_until.pop(self._location, None) is not None
            if came_back:
                logger.info("the shared cache (Redis) answers again; this process uses it again")

    def add(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return self._run("add", lambda: super(FallbackRedisCache, self).add(key, value, timeout, version),
                         lambda: self.local.add(key, value, timeout, version))

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        return self._run("get", lambda: super(FallbackRedisCache, self).get(key, default, version),
                         lambda: self.local.get(key, default, version))

    def set(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> None:
        self._run("set", lambda: super(FallbackRedisCache, self).set(key, value, timeout, version),
                  lambda: self.local.set(key, value, timeout, version))

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return self._run("touch", lambda: super(FallbackRedisCache, self).touch(key, timeout, version),
                         lambda: self.local.touch(key, timeout, version))

    def delete(self, key: Any, version: int | None = None) -> bool:
        # Also locally: a guard taken during an outage must not outlive its release once Redis is back.
        local = self.local.delete(key, version)
        return self._run("delete", lambda: super(FallbackRedisCache, self).delete(key, version), lambda: local)

    def get_many(self, keys: Iterable[Any], version: int | None = None) -> dict[Any, Any]:
        keys = list(keys)
        return self._run("get_many", lambda: super(FallbackRedisCache, self).get_many(keys, version),
                         lambda: self.local.get_many(keys, version))

    def has_key(self, key: Any, version: int | None = None) -> bool:
        return self._run("has_key", lambda: super(FallbackRedisCache, self).has_key(key, version),
                         lambda: self.local.has_key(key, version))

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        return self._run("incr", lambda: super(FallbackRedisCache, self).incr(key, delta, version),
                         lambda: self.local.incr(key, delta, version))

    def set_many(self, data: dict[Any, Any], timeout: Any = DEFAULT_TIMEOUT,
                 version: int | None = None) -> list[Any]:
        return self._run("set_many", lambda: super(FallbackRedisCache, self).set_many(data, timeout, version),
                         lambda: self.local.set_many(data, timeout, version))

    def delete_many(self, keys: Iterable[Any], version: int | None = None) -> None:
        keys = list(keys)
        self.local.delete_many(keys, version)
        self._run("delete_many", lambda: super(FallbackRedisCache, self).delete_many(keys, version), lambda: None)

    def clear(self) -> None:
        self.local.clear()
        self._run("clear", lambda: super(FallbackRedisCache, self).clear(), lambda: None)
