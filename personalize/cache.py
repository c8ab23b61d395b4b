"""The one failure boundary between wagtail-personalize and the shared cache.

Redis can go away at any moment. Every cache call the package makes goes through here: an
unreachable cache becomes :class:`~personalize.segments.VersionStoreError` (callers fall back to
local state and default content) instead of an error page.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.cache import caches

from personalize.conf import personalize_settings
from personalize.segments import VersionStoreError


def _cache_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [OSError]
    try:
        from redis.exceptions import RedisError
    except ImportError:  # pragma: no cover - redis is optional for the local-memory cache
        pass
    else:
        errors.append(RedisError)
    try:
        from django_redis.exceptions import ConnectionInterrupted
    except ImportError:  # pragma: no cover
        pass
    else:
        errors.append(ConnectionInterrupted)
    return tuple(errors)


#: What an unreachable cache backend raises.
CACHE_ERRORS = _cache_errors()


class CacheVersionStore:
    """A version number kept under one key in the configured Django cache.

    Args:
        name: what is versioned (``"segments"``, ``"config"``), part of the key.
    """

    def __init__(self, name: str = "segments") -> None:
        self.name = name

    def _cache(self) -> Any:
        return caches[personalize_settings.CACHE_ALIAS]

    @property
    def key(self) -> str:
        """The cache key holding the version."""
        return f"{personalize_settings.CACHE_KEY_PREFIX}:{self.name}:version"

    def current(self) -> int:
        """Read the version, creating it when the cache was flushed.

        Raises:
            VersionStoreError: the cache is unreachable.
        """
        cache = self._cache()
        try:
            version = cache.get(self.key)
            if version is None:
                # A new number after a flush, so no process can mistake it for one it has seen.
                cache.add(self.key, time.time_ns() // 1000, timeout=None)
                version = cache.get(self.key)
        except CACHE_ERRORS as exc:
            raise VersionStoreError(str(exc)) from exc
        return int(version) if isinstance(version, int) else 0

    def bump(self) -> None:
        """Increment the version (every process rebuilds on its next request).

        Raises:
            VersionStoreError: the cache is unreachable.
        """
        cache = self._cache()
        try:
            try:
                cache.incr(self.key)
            except ValueError:
                cache.add(self.key, time.time_ns() // 1000, timeout=None)
        except CACHE_ERRORS as exc:
            raise VersionStoreError(str(exc)) from exc
