"""A django-redis cache backend with a circuit breaker, for the site's own caches.

Wagtail and Django read the ``default`` cache on every request (Wagtail's site root paths, for
example). django-redis's ``IGNORE_EXCEPTIONS`` turns a failed Redis into cache misses, but each
call still waits for its socket timeout while Redis hangs. This backend puts the same circuit
breaker the package uses for its own calls (:class:`personalize.cache.CircuitBreaker`) in front
of the cache's client: after a failure, calls skip Redis for a back-off window, so a hung Redis
costs one timeout per process per window. Use it with ``IGNORE_EXCEPTIONS``::

    CACHES = {
        "default": {
            "BACKEND": "personalize.cache_backend.CircuitBreakerRedisCache",
            "LOCATION": "redis://cache.internal:6379/0",
            "OPTIONS": {
                "SOCKET_CONNECT_TIMEOUT": 0.25,
                "SOCKET_TIMEOUT": 0.25,
                "IGNORE_EXCEPTIONS": True,
                "CIRCUIT_BREAKER_SECONDS": 3.0,  # the default
            },
        },
    }

While the circuit is open every call raises django-redis's ``ConnectionInterrupted`` at once,
which ``IGNORE_EXCEPTIONS`` turns into a miss (``get`` returns its default, ``set`` does
nothing). Without ``IGNORE_EXCEPTIONS`` callers see the error, as with django-redis alone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django_redis.cache import RedisCache
from django_redis.exceptions import ConnectionInterrupted
from redis.exceptions import ConnectionError as RedisConnectionError

from personalize.cache import CACHE_ERRORS, CacheUnavailable, CircuitBreaker

#: Client methods that do no I/O: passed through untouched.
_LOCAL_METHODS = frozenset(
    {
        "close",
        "connect",
        "decode",
        "disconnect",
        "do_close_clients",
        "encode",
        "get_client",
        "get_client_with_index",
        "get_next_client_index",
        "make_key",
        "make_pattern",
    }
)
#: Default back-off in seconds (``OPTIONS["CIRCUIT_BREAKER_SECONDS"]``).
DEFAULT_BACKOFF = 3.0


class _GuardedClient:
    """The django-redis client, with every call that talks to Redis under the breaker."""

    def __init__(self, client: Any, breaker: CircuitBreaker) -> None:
        self._client = client
        self._breaker = breaker

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if name in _LOCAL_METHODS or not callable(attribute):
            return attribute
        return self._guard(attribute)

    def _guard(self, method: Callable[..., Any]) -> Callable[..., Any]:
        breaker = self._breaker

        def guarded(*args: Any, **kwargs: Any) -> Any:
            try:
                return breaker.call(lambda: method(*args, **kwargs))
            except CacheUnavailable as exc:
                cause = exc.__cause__
                if isinstance(cause, CACHE_ERRORS):
                    raise cause from cause.__cause__  # django-redis re-raises the cause
                # As django-redis raises it: the cause is what callers see without
                # IGNORE_EXCEPTIONS.
                raise ConnectionInterrupted(connection=None) from RedisConnectionError(
                    "circuit open after a recent failure"
                )

        return guarded


class CircuitBreakerRedisCache(RedisCache):  # type: ignore[type-arg]
    """django-redis's ``RedisCache`` that stops calling a failed Redis for a back-off window."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        options = params.get("OPTIONS", {})
        backoff = float(options.get("CIRCUIT_BREAKER_SECONDS", DEFAULT_BACKOFF))
        #: This cache's breaker (one per cache alias and process).
        self.breaker = CircuitBreaker(backoff, label=f"cache {server!r}")
        self._guarded: _GuardedClient | None = None

    @property
    def client(self) -> Any:
        """The django-redis client, guarded by :attr:`breaker`."""
        if self._guarded is None:
            self._guarded = _GuardedClient(super().client, self.breaker)
        return self._guarded
