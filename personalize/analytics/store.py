"""The process's counter store, and counting that never breaks a page.

:func:`counter_store` picks the store: :class:`~personalize.analytics.redis_store.RedisCounterStore`
when the package's cache alias is a django-redis cache, else
:class:`~personalize.analytics.file_store.FileCounterStore` when ``ANALYTICS_FILE`` is set, else
:class:`~personalize.analytics.local_store.LocalCounterStore`. Callers wrap store calls in
:func:`safely`, which turns an unreachable store into a default and one warning a minute.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from django.core.cache import caches

from personalize.analytics.counters import WARNING_INTERVAL, AnalyticsUnavailable, BaseCounterStore
from personalize.analytics.file_store import FileCounterStore
from personalize.analytics.local_store import LocalCounterStore
from personalize.analytics.redis_store import RedisCounterStore
from personalize.cache import CacheUnavailable
from personalize.conf import personalize_settings, register_reset

logger = logging.getLogger(__name__)

T = TypeVar("T")
D = TypeVar("D")


class _RateLimitedWarning:
    """Logs "analytics store unreachable" at most once per ``interval`` seconds."""

    def __init__(self, interval: float = WARNING_INTERVAL) -> None:
        self.interval = interval
        self.clock: Callable[[], float] = time.monotonic
        self.last: float | None = None
        self._lock = threading.Lock()

    def __call__(self, exc: BaseException) -> None:
        now = self.clock()
        with self._lock:
            if self.last is not None and now - self.last < self.interval:
                return
            self.last = now
        logger.warning("analytics store unreachable, counting skipped: %s", exc)

    def reset(self) -> None:
        with self._lock:
            self.last = None


_warn_unavailable = _RateLimitedWarning()


def safely(call: Callable[[], T], default: D) -> T | D:
    """Run a store call; when the store is unreachable, log (once a minute) and return default.

    Example::

        first = safely(lambda: store.first_time(visitor_id, field, now, ttl), False)

    Args:
        call: a function without arguments that uses the store.
        default: what to return when the store raised :class:`AnalyticsUnavailable`.
    """
    try:
        return call()
    except AnalyticsUnavailable as exc:
        if isinstance(exc.__cause__, CacheUnavailable):
            # The shared cache's circuit breaker has logged the outage.
            logger.debug("analytics store unreachable, counting skipped: %s", exc)
        else:
            _warn_unavailable(exc)
        return default


_store: BaseCounterStore | None = None
_store_lock = threading.Lock()


def _make_store() -> BaseCounterStore:
    from django_redis.cache import RedisCache

    alias = personalize_settings.CACHE_ALIAS
    if isinstance(caches[alias], RedisCache):
        return RedisCounterStore(alias)
    path = personalize_settings.analytics_file
    if path is not None:
        return FileCounterStore(path)
    return LocalCounterStore()


def counter_store() -> BaseCounterStore:
    """The process's counter store.

    :class:`RedisCounterStore` when ``CACHES[PERSONALIZE["CACHE_ALIAS"]]`` is a django-redis
    cache, else :class:`FileCounterStore` when ``PERSONALIZE["ANALYTICS_FILE"]`` names a file,
    else :class:`LocalCounterStore`. Created once per process.
    """
    global _store
    store = _store
    if store is None:
        with _store_lock:
            if _store is None:
                _store = _make_store()
            store = _store
    return store


def reset_counter_store() -> None:
    """Forget the store (settings changed; every test starts empty) and the warning limit.

    A file store writes what it holds first.
    """
    global _store
    with _store_lock:
        old, _store = _store, None
    if isinstance(old, FileCounterStore):
        old.close()
    _warn_unavailable.reset()


register_reset(reset_counter_store, frozenset({"CACHES", "PERSONALIZE", "TIME_ZONE"}))
