"""The one failure boundary between wagtail-personalize and the shared cache (Redis).

Redis can go away, hang or restart at any moment. Every call the package makes to it goes
through :func:`guarded`, which runs it under a process-wide :class:`CircuitBreaker`:

* a call that fails (connection refused, timeout) opens the circuit; for
  ``PERSONALIZE["CACHE_BACKOFF_SECONDS"]`` the process does not call Redis at all and every
  caller gets :class:`CacheUnavailable` at once, so pages are served from the last compiled
  state, the database and defaults. A hung Redis costs one socket timeout per process per
  window, not one per call;
* after the window one call tries again (the others still skip); when it succeeds, the
  circuit closes;
* one warning is logged when the circuit opens and one line when Redis is back.

For a django-redis cache the package talks to its client directly, past django-redis's
``IGNORE_EXCEPTIONS`` (which the site may set for Wagtail's own use of the cache): the breaker
has to see failures to stop paying for them.

The reads a request needs from the cache (the versions of segments, scoring configuration,
goals and experiments, and the visitor's profile copy) are fetched together in one ``MGET``
when the request first needs one of them: see :func:`request_reads`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from django.core.cache import caches

from personalize.conf import personalize_settings, register_reset
from personalize.segments import VersionStoreError

logger = logging.getLogger(__name__)

T = TypeVar("T")


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


class CacheUnavailable(Exception):
    """The shared cache failed, or the circuit is open after a recent failure."""


class CircuitBreaker:
    """Stops calling a failed service for a back-off window; one trial call then tries again.

    The lock guards only the state, never the call itself, so threads of one process call
    Redis concurrently while it is healthy.

    Args:
        backoff: seconds without calls after a failure (read on every failure when callable).
        clock: monotonic seconds; tests inject one.
        label: what is called, for log lines.
    """

    def __init__(
        self,
        backoff: float | Callable[[], float],
        clock: Callable[[], float] = time.monotonic,
        label: str = "shared cache",
    ) -> None:
        self._backoff = backoff
        self.clock = clock
        self.label = label
        self._lock = threading.Lock()
        #: Until when calls are skipped (None: the circuit is closed).
        self.open_until: float | None = None
        #: When the current outage began (None while closed).
        self.opened_at: float | None = None
        #: Calls skipped since the circuit opened.
        self.skipped = 0

    @property
    def backoff(self) -> float:
        """The back-off window in seconds."""
        value = self._backoff() if callable(self._backoff) else self._backoff
        return max(0.0, float(value))

    @property
    def is_open(self) -> bool:
        """Whether calls are being skipped right now."""
        until = self.open_until
        return until is not None and self.clock() < until

    def _admit(self) -> bool:
        """Whether this call may go ahead (claims the trial call after a window)."""
        until = self.open_until
        if until is None:
            return True
        with self._lock:
            now = self.clock()
            if self.open_until is None:
                return True
            if now < self.open_until:
                self.skipped += 1
                return False
            # This call is the trial; the others keep skipping until it reports back.
            self.open_until = now + self.backoff
            return True

    def _failed(self, exc: BaseException) -> None:
        with self._lock:
            now = self.clock()
            first = self.opened_at is None
            self.open_until = now + self.backoff
            if first:
                self.opened_at = now
                self.skipped = 0
        if first:
            logger.warning(
                "%s unreachable (%s: %s); serving defaults and local state, retrying every %.3g s",
                self.label,
                type(exc).__name__,
                exc,
                self.backoff,
            )
        else:
            logger.debug("%s still unreachable: %s", self.label, exc)

    def _succeeded(self) -> None:
        if self.opened_at is None:
            return
        with self._lock:
            if self.opened_at is None:
                return
            outage = self.clock() - self.opened_at
            skipped = self.skipped
            self.open_until = self.opened_at = None
            self.skipped = 0
        logger.warning(
            "%s reachable again after %.1f s (%d calls skipped)", self.label, outage, skipped
        )

    @contextmanager
    def guarding(self) -> Iterator[None]:
        """The block runs unless the circuit is open; a cache error in it opens the circuit.

        Raises:
            CacheUnavailable: the circuit is open, or the block raised a cache error.
        """
        if not self._admit():
            raise CacheUnavailable("circuit open")
        try:
            yield
        except CACHE_ERRORS as exc:
            self._failed(exc)
            raise CacheUnavailable(str(exc) or type(exc).__name__) from exc
        self._succeeded()

    def call(self, function: Callable[[], T]) -> T:
        """Run ``function`` unless the circuit is open.

        Raises:
            CacheUnavailable: the circuit is open, or ``function`` raised a cache error.
        """
        if not self._admit():
            raise CacheUnavailable("circuit open")
        try:
            result = function()
        except CACHE_ERRORS as exc:
            self._failed(exc)
            raise CacheUnavailable(str(exc) or type(exc).__name__) from exc
        self._succeeded()
        return result

    def reset(self) -> None:
        """Close the circuit (settings changed; tests)."""
        with self._lock:
            self.open_until = self.opened_at = None
            self.skipped = 0


#: The process's breaker for the shared cache.
breaker = CircuitBreaker(lambda: personalize_settings.CACHE_BACKOFF_SECONDS)
register_reset(breaker.reset, frozenset({"CACHES", "PERSONALIZE"}))


def guarded(function: Callable[[], T]) -> T:
    """Run a call to the shared cache through the process's circuit breaker.

    Example::

        value = guarded(lambda: shared_cache().get(key))

    Raises:
        CacheUnavailable: the cache failed or is being skipped after a failure.
    """
    return breaker.call(function)


def shared_cache() -> Any:
    """The package's cache (``PERSONALIZE["CACHE_ALIAS"]``), errors not ignored.

    For django-redis this is the cache's client, which raises on connection errors even when
    the cache itself is configured with ``IGNORE_EXCEPTIONS``; its methods take the same
    arguments as Django's cache API.
    """
    cache = caches[personalize_settings.CACHE_ALIAS]
    client = getattr(cache, "client", None)
    if client is not None and hasattr(client, "get_many"):
        return client
    return cache


class _RequestReads:
    """The cache values one request read, fetched in one ``get_many``."""

    def __init__(self, hints: Callable[[], Iterable[str]] | None) -> None:
        self.hints = hints
        self.values: dict[str, Any] | None = None

    def fetch(self) -> dict[str, Any]:
        if self.values is None:
            keys = [*_PREFETCH_KEYS(), *(self.hints() if self.hints is not None else ())]
            self.values = {}  # also on failure: the request does not retry per read
            found = guarded(lambda: shared_cache().get_many(keys))
            self.values.update({key: found.get(key) for key in keys})
        return self.values


_reads: ContextVar[_RequestReads | None] = ContextVar("personalize_cache_reads", default=None)
#: Names of the versions every request reads, registered by :class:`CacheVersionStore`.
_VERSION_NAMES: set[str] = set()


def _PREFETCH_KEYS() -> list[str]:  # noqa: N802 - reads like the constant it stands for
    prefix = personalize_settings.CACHE_KEY_PREFIX
    return [f"{prefix}:{name}:version" for name in sorted(_VERSION_NAMES)]


@contextmanager
def request_reads(hints: Callable[[], Iterable[str]] | None = None) -> Iterator[None]:
    """Within the block, the first cache read fetches every per-request value at once.

    Args:
        hints: returns further keys the request will probably read (the visitor's profile).
    """
    token = _reads.set(_RequestReads(hints))
    try:
        yield
    finally:
        _reads.reset(token)


_MISSING = object()


def read(key: str) -> Any:
    """The cached value of ``key`` (None when missing), from the request's prefetch if any.

    Raises:
        CacheUnavailable: the cache failed or is being skipped.
    """
    reads = _reads.get()
    if reads is not None:
        value = reads.fetch().get(key, _MISSING)
        if value is not _MISSING:
            return value
    value = guarded(lambda: shared_cache().get(key))
    if reads is not None and reads.values is not None:
        reads.values[key] = value
    return value


def remember(key: str, value: Any) -> None:
    """Record a value just written, so later reads in this request see it."""
    reads = _reads.get()
    if reads is not None and reads.values is not None:
        reads.values[key] = value


class CacheVersionStore:
    """A version number kept under one key in the package's cache.

    Args:
        name: what is versioned (``"segments"``, ``"config"``), part of the key.
    """

    def __init__(self, name: str = "segments") -> None:
        self.name = name
        _VERSION_NAMES.add(name)

    @property
    def key(self) -> str:
        """The cache key holding the version."""
        return f"{personalize_settings.CACHE_KEY_PREFIX}:{self.name}:version"

    def current(self) -> int:
        """Read the version (from the request's prefetch), creating it after a flush.

        Raises:
            VersionStoreError: the cache is unreachable.
        """
        key = self.key
        try:
            version = read(key)
            if version is None:
                # A new number after a flush, so no process can mistake it for one it has seen.
                cache = shared_cache()
                guarded(lambda: cache.add(key, time.time_ns() // 1000, timeout=None))
                version = guarded(lambda: cache.get(key))
                remember(key, version)
        except CacheUnavailable as exc:
            raise VersionStoreError(str(exc), reported=True) from exc
        return int(version) if isinstance(version, int) else 0

    def bump(self) -> None:
        """Increment the version (every process rebuilds on its next request).

        Raises:
            VersionStoreError: the cache is unreachable.
        """
        key = self.key
        cache = shared_cache()

        def bump() -> None:
            try:
                cache.incr(key)
            except ValueError:
                cache.add(key, time.time_ns() // 1000, timeout=None)

        try:
            guarded(bump)
        except CacheUnavailable as exc:
            raise VersionStoreError(str(exc), reported=True) from exc
        remember(key, None)


def version_stamp() -> str:
    """Every registered version (segments, scoring, goals, experiments, pages) as one string.

    Part of keys that must move with any of them; read from the request's prefetch.

    Raises:
        CacheUnavailable: the cache failed or is being skipped.
    """
    return ".".join(str(CacheVersionStore(name).current()) for name in sorted(_VERSION_NAMES))
