"""The shared cache (Redis) with a fallback, so that Redis being down never takes the site down.

Django's Redis backend raises on every call while Redis is unreachable, and allauth's rate
limits, the sessions of the second factor and every cached read would turn into 500s. This
backend catches a connection failure, logs it once, and serves from this process's memory for
`RETRY_AFTER` seconds before trying Redis again (a short connect timeout keeps each try cheap).

What degrades meanwhile (README, "Running it in production"): each application process counts
rate limits and keeps cached values on its own, so a limit is per process rather than shared,
and what was cached in Redis is computed again."""

import logging
import threading
import time

from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

RETRY_AFTER = 30.0  # seconds on the fallback before trying Redis again
UNREACHABLE = (RedisConnectionError, RedisTimeoutError, ConnectionError, TimeoutError)


class RedisWithFallbackCache(RedisCache):
    def __init__(self, server, params):
        options = dict(params.get("OPTIONS") or {})
        options.setdefault("socket_connect_timeout", 0.5)
        options.setdefault("socket_timeout", 1.0)
        super().__init__(server, {**params, "OPTIONS": options})
        self.fallback = LocMemCache(
            f"sesame-redis-fallback-{id(self)}",
            {key: value for key, value in params.items() if key in {"TIMEOUT", "KEY_PREFIX"}},
        )
        self._down_until = 0.0
        self._lock = threading.Lock()

    @property
    def redis_is_down(self) -> bool:
        return time.monotonic() < self._down_until

    def _call(self, name: str, *args, **kwargs):
        if not self.redis_is_down:
            try:
                return getattr(super(), name)(*args, **kwargs)
            except UNREACHABLE as error:
                with self._lock:
                    first = not self.redis_is_down
                    self._down_until = time.monotonic() + RETRY_AFTER
                if first:
                    logger.warning(
                        "Redis unreachable (%s): cache and rate limits use this process's "
                        "memory for %s s",
                        type(error).__name__,
                        RETRY_AFTER,
                    )
        return getattr(self.fallback, name)(*args, **kwargs)

    def add(self, *args, **kwargs):
        return self._call("add", *args, **kwargs)

    def get(self, *args, **kwargs):
        return self._call("get", *args, **kwargs)

    def set(self, *args, **kwargs):
        return self._call("set", *args, **kwargs)

    def touch(self, *args, **kwargs):
        return self._call("touch", *args, **kwargs)

    def delete(self, *args, **kwargs):
        return self._call("delete", *args, **kwargs)

    def get_many(self, *args, **kwargs):
        return self._call("get_many", *args, **kwargs)

    def has_key(self, *args, **kwargs):
        return self._call("has_key", *args, **kwargs)

    def incr(self, *args, **kwargs):
        return self._call("incr", *args, **kwargs)

    def set_many(self, *args, **kwargs):
        return self._call("set_many", *args, **kwargs)

    def delete_many(self, *args, **kwargs):
        return self._call("delete_many", *args, **kwargs)

    def clear(self):
        self.fallback.clear()
        return self._call("clear")
