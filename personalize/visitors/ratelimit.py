"""Rate limits per client address for what a hostile client can repeat cheaply.

Six limits, each set in ``PERSONALIZE["RATE_LIMITS"]`` as ``"<count>/<period>"`` (``"60/m"``,
``"1000/h"``, ``"10/5s"``; ``None`` turns one off):

``mint``
    New visitor ids. A client over the limit simply gets no id on that request (the page is
    served as to a visitor without one), never a 429.
``events``, ``consent``, ``preferences``
    Posts to ``personalize:events``, ``personalize:consent`` and ``personalize:preference``.
``graphql``
    Requests to :class:`~personalize.graphql.views.PersonalizeGraphQLView`. Front-end servers
    with a valid ``FRONTEND_KEYS`` key, which call on behalf of many visitors, are not limited.
``manifest``
    Requests to ``personalize:manifest`` without a valid ``FRONTEND_KEYS`` key (guessing keys).

Each limit is a fixed-window counter in the shared cache, ``"<prefix>:rl:<limit>:<window>:
<client>"``, incremented with one ``INCR`` per request (the first of a window adds the key with
its expiry). Every call goes through the cache's circuit breaker
(:func:`personalize.cache.guarded`): when Redis is down the request is allowed (fail open).

The client is the address that :func:`personalize.signals.network.client_ip` finds through
``TRUSTED_PROXIES``, never a raw ``X-Forwarded-For``. IPv6 clients are counted per ``/64``
network, the block one subscriber typically holds.

Why not django-ratelimit: it reads and writes through ``caches[RATELIMIT_USE_CACHE]`` itself, a
project-wide setting, so its Redis calls would bypass the package's cache alias and circuit
breaker (a Redis outage would cost a socket timeout per request or be silently ignored).
"""

from __future__ import annotations

import ipaddress
import logging
import math
import re
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.cache import patch_cache_control

from personalize.cache import CacheUnavailable, guarded, shared_cache
from personalize.conf import DEFAULTS, personalize_settings, register_reset
from personalize.signals.network import client_ip

logger = logging.getLogger(__name__)

#: The limits, with their defaults (per client address).
DEFAULT_RATE_LIMITS: dict[str, str | None] = dict(DEFAULTS["RATE_LIMITS"])
#: Seconds each counter outlives its window (clock skew between web processes).
_EXPIRY_MARGIN = 5
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smhd])\s*$")
_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
#: The message of every 429 answer: nothing about the limit or the client.
MESSAGE = "Too many requests"


@dataclass(frozen=True, slots=True)
class Rate:
    """At most ``count`` requests per ``period`` seconds."""

    count: int
    period: int


def parse_rate(value: object) -> Rate:
    """Read ``"<count>/<period>"`` (``"60/m"``, ``"10/5s"``; periods s, m, h and d).

    Raises:
        ValueError: the value is not such a rate.
    """
    match = _RATE.match(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"{value!r} is not a rate such as '60/m'")
    count, multiple, unit = match.groups()
    period = int(multiple or 1) * _PERIODS[unit]
    if int(count) < 1 or period < 1:
        raise ValueError(f"{value!r} allows nothing: use at least '1/s'")
    return Rate(int(count), period)


@lru_cache(maxsize=1)
def rate_limits() -> dict[str, Rate | None]:
    """``RATE_LIMITS`` over the defaults, parsed (None: the limit is off).

    Raises:
        ImproperlyConfigured: an unknown limit name or a value that is no rate.
    """
    configured = personalize_settings.RATE_LIMITS
    if configured is None:
        return dict.fromkeys(DEFAULT_RATE_LIMITS)
    if not isinstance(configured, dict):
        raise ImproperlyConfigured(
            "PERSONALIZE['RATE_LIMITS'] must be a dict such as {'events': '120/m'} "
            "(None turns every limit off)."
        )
    unknown = sorted(set(configured) - set(DEFAULT_RATE_LIMITS))
    if unknown:
        raise ImproperlyConfigured(
            f"Unknown limit(s) in PERSONALIZE['RATE_LIMITS']: {', '.join(map(str, unknown))}. "
            f"Valid names: {', '.join(DEFAULT_RATE_LIMITS)}."
        )
    limits: dict[str, Rate | None] = {}
    for name, default in DEFAULT_RATE_LIMITS.items():
        value = configured.get(name, default)
        try:
            limits[name] = None if value is None else parse_rate(value)
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"PERSONALIZE['RATE_LIMITS']['{name}']: {exc}. Write '<count>/<period>' with a "
                "period of s, m, h or d (e.g. '120/m', '10/5s'), or None for no limit."
            ) from exc
    return limits


register_reset(rate_limits.cache_clear)


def client_key(request: HttpRequest) -> str:
    """The client a limit counts for: its address behind the trusted proxies (IPv6 per /64)."""
    forwarded = request.headers.get("x-forwarded-for")
    address = client_ip(
        request.META.get("REMOTE_ADDR"),
        forwarded if isinstance(forwarded, str) else None,
        personalize_settings.trusted_networks,
    )
    if address is None:
        return "-"
    parsed = ipaddress.ip_address(address)
    if parsed.version == 6:
        return str(ipaddress.IPv6Network((int(parsed) >> 64 << 64, 64)))
    return address


def _count(key: str, timeout: int) -> int:
    """Add one to the window's counter (created with its expiry) and return it.

    Raises:
        CacheUnavailable: the cache failed or is being skipped.
    """
    cache = shared_cache()

    def hit() -> int:
        try:
            return int(cache.incr(key))
        except ValueError:
            # The window's first request (``incr`` refuses a missing key).
            if cache.add(key, 1, timeout=timeout):
                return 1
            try:
                return int(cache.incr(key))
            except ValueError:  # expired in between: a new window
                return 1

    return guarded(hit)


def retry_after(request: HttpRequest, name: str, now: float | None = None) -> int | None:
    """Count this request against the limit ``name``.

    Args:
        request: the request (its client address is counted).
        name: one of :data:`DEFAULT_RATE_LIMITS`.
        now: the current Unix time (tests).

    Returns:
        None when the request is allowed (also when the limit is off or the cache is
        unreachable), else the seconds until the client's window ends (``Retry-After``).
    """
    rate = rate_limits()[name]
    if rate is None:
        return None
    moment = time.time() if now is None else now
    window = int(moment // rate.period)
    prefix = personalize_settings.CACHE_KEY_PREFIX
    key = f"{prefix}:rl:{name}:{window}:{client_key(request)}"
    try:
        count = _count(key, rate.period + _EXPIRY_MARGIN)
    except CacheUnavailable:
        return None  # fail open: the breaker has logged the outage
    if count <= rate.count:
        return None
    if count == rate.count + 1:
        logger.info("rate limit %r reached by %s", name, client_key(request))
    return max(1, math.ceil((window + 1) * rate.period - moment))


def too_many_requests(seconds: int, *, json: bool, body: Any = None) -> HttpResponse:
    """A 429 answer with ``Retry-After``: ``{"error": ...}`` (or ``body``) as JSON, else text.

    Args:
        seconds: the ``Retry-After`` value.
        json: answer JSON (a script asked) rather than plain text.
        body: the JSON body to send instead of ``{"error": "Too many requests"}``.
    """
    response: HttpResponse
    if json:
        response = JsonResponse(body if body is not None else {"error": MESSAGE}, status=429)
    else:
        response = HttpResponse(f"{MESSAGE}.", status=429, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(seconds)
    patch_cache_control(response, private=True, no_store=True)
    return response


def graphql_rate_limited(request: HttpRequest) -> HttpResponse | None:
    """A GraphQL-shaped 429 (``{"errors": [{"message": "Too many requests"}]}``) when the client
    is over ``RATE_LIMITS["graphql"]``, else None (the request is counted)."""
    seconds = retry_after(request, "graphql")
    if seconds is None:
        return None
    return too_many_requests(seconds, json=True, body={"errors": [{"message": MESSAGE}]})
