"""A Redis cache that fails soft: when Redis is down, the cache is a miss, never an error.

Nothing Huying keeps in the cache is the only copy of anything: rate-limit counters, the routing
table's version stamp, holiday overrides, presence. Filing an appeal must never depend on it, so every
call that cannot reach Redis is logged (once per ``LOG_EVERY_SECONDS``, with a running count), counted
in ``failure_count()`` and answered as a miss: reads return the default, writes are dropped, ``add``
reports success (so a rate-limit counter starts afresh and the request is allowed) and ``incr``
returns ``delta``.

After a failure the cache is not tried again for ``BACKOFF_SECONDS``, so an outage costs one connection
attempt per process every few seconds, not one per call; the socket timeouts in ``CACHES["default"]``
bound that attempt.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger("huying.cache")

BACKOFF_SECONDS = 5.0
LOG_EVERY_SECONDS = 30.0
# What "Redis is unreachable" looks like: redis-py's errors and the socket errors beneath them
# (ConnectionRefusedError, TimeoutError, ...).
UNREACHABLE = (RedisError, OSError)

_lock = threading.Lock()
_state = {"failures": 0, "down_until": 0.0, "logged_at": 0.0}


def failure_count() -> int:
    """Cache calls answered as misses because Redis was unreachable, since the process started."""
    return int(_state["failures"])


def reset() -> None:
    """Forget past failures (tests)."""
    with _lock:
        _state.update(failures=0, down_until=0.0, logged_at=0.0)


def _is_down() -> bool:
    return time.monotonic() < _state["down_until"]


def _failed(operation: str, exc: BaseException | None) -> None:
    now = time.monotonic()
    with _lock:
        _state["failures"] += 1
        if exc is not None:
            _state["down_until"] = now + BACKOFF_SECONDS
        should_log = now - _state["logged_at"] >= LOG_EVERY_SECONDS
        if should_log:
            _state["logged_at"] = now
        count = _state["failures"]
    if should_log:
        logger.warning(
            "Cache unreachable (%s: %s); answering as a miss. %d cache call(s) failed soft so far.",
            operation,
            exc if exc is not None else "still backing off",
            count,
        )


class FailSoftRedisCache(RedisCache):
    """Django's Redis cache; an unreachable Redis is a cache miss (see the module docstring)."""

    def _soft(self, operation: str, call: Any, fallback: Any) -> Any:
        if _is_down():
            _failed(operation, None)
            return fallback
        try:
            return call()
        except UNREACHABLE as exc:
            _failed(operation, exc)
            return fallback

    def add(self, key: Any, value: Any, timeout: Any = None, version: int | None = None) -> bool:
        # True: the caller proceeds as if it created the key (a rate-limit window starts at 1).
        return self._soft("add", lambda: super(FailSoftRedisCache, self).add(key, value, timeout, version), True)

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        return self._soft("get", lambda: super(FailSoftRedisCache, self).get(key, default, version), default)

    def set(self, key: Any, value: Any, timeout: Any = None, version: int | None = None) -> None:
        self._soft("set", lambda: super(FailSoftRedisCache, self).set(key, value, timeout, version), None)

    def touch(self, key: Any, timeout: Any = None, version: int | None = None) -> bool:
        return self._soft("touch", lambda: super(FailSoftRedisCache, self).touch(key, timeout, version), False)

    def delete(self, key: Any, version: int | None = None) -> bool:
        return self._soft("delete", lambda: super(FailSoftRedisCache, self).delete(key, version), False)

    def get_many(self, keys: Any, version: int | None = None) -> dict[Any, Any]:
        return self._soft("get_many", lambda: super(FailSoftRedisCache, self).get_many(keys, version), {})

    def has_key(self, key: Any, version: int | None = None) -> bool:
        return self._soft("has_key", lambda: super(FailSoftRedisCache, self).has_key(key, version), False)

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        return self._soft("incr", lambda: super(FailSoftRedisCache, self).incr(key, delta, version), delta)

    def set_many(self, data: Any, timeout: Any = None, version: int | None = None) -> list[Any]:
        return self._soft("set_many", lambda: super(FailSoftRedisCache, self).set_many(data, timeout, version), [])

    def delete_many(self, keys: Any, version: int | None = None) -> None:
        self._soft("delete_many", lambda: super(FailSoftRedisCache, self).delete_many(keys, version), None)

    def clear(self) -> None:
        self._soft("clear", lambda: super(FailSoftRedisCache, self).clear(), None)
