"""The visitor's local clock.

Time zone names arrive from CDN headers, GeoIP databases and a cookie the
visitor controls, so every name is validated before it reaches
:class:`zoneinfo.ZoneInfo`, which treats its key as a path below the zone
database and can be steered to read arbitrary files or raise on odd input.
An invalid name never raises: it falls back to the next candidate and finally
to ``"UTC"``.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["DEFAULT_TIMEZONE", "local_time", "pick_timezone", "valid_timezone"]

#: The zone used when no candidate is valid.
DEFAULT_TIMEZONE = "UTC"

#: Longest accepted name. The longest IANA name is about 30 characters.
_MAX_NAME_LENGTH = 64

#: IANA names are ASCII words joined by "/". No dots, so no ".." and no
#: file extensions; no leading "/", so no absolute paths.
_ZONE_NAME = re.compile(r"[A-Za-z0-9_+\-]+(?:/[A-Za-z0-9_+\-]+)*", re.ASCII)


def valid_timezone(name: str | None) -> str | None:
    """Validate an IANA time zone name.

    Args:
        name: A candidate such as ``"Europe/Berlin"``. Any value is accepted;
            surrounding whitespace is ignored.

    Returns:
        The name if the zone database knows it, else ``None``. Never raises.
    """
    if not isinstance(name, str):
        return None
    candidate = name.strip()
    if len(candidate) > _MAX_NAME_LENGTH or not _ZONE_NAME.fullmatch(candidate):
        return None
    return candidate if _zone_exists(candidate) else None


@functools.lru_cache(maxsize=1024)
def _zone_exists(name: str) -> bool:
    # Cached because the same few names arrive on every request, and a miss
    # costs a filesystem probe. Only pattern-checked names get here, so the
    # cache cannot be filled with arbitrary long strings.
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def _zone(name: str) -> tzinfo:
    # Without a system zone database even "UTC" cannot be loaded; the
    # standard library's fixed UTC keeps the clock working in that case.
    return ZoneInfo(name) if _zone_exists(name) else UTC


def pick_timezone(geo_tz: str | None, cookie_tz: str | None, site_tz: str | None) -> str:
    """Choose the zone for the visitor's clock.

    Args:
        geo_tz: The zone from geolocation (CDN header or GeoIP database).
        cookie_tz: The zone the browser reported in the ``pz_tz`` cookie.
        site_tz: The site's configured zone.

    Returns:
        The first valid name in that order, or ``"UTC"`` when none is valid.
    """
    for candidate in (geo_tz, cookie_tz, site_tz):
        valid = valid_timezone(candidate)
        if valid is not None:
            return valid
    return DEFAULT_TIMEZONE


def local_time(now: datetime, timezone: str | None, fallback: str) -> dict[str, Any]:
    """Describe a moment on the visitor's wall clock.

    Args:
        now: The moment, normally the server's current time. A naive datetime
            is taken to be in UTC.
        timezone: The visitor's zone name; garbage is replaced by ``fallback``.
        fallback: The zone used when ``timezone`` is invalid; when it is
            invalid too, ``"UTC"`` is used.

    Returns:
        A dict with ``hour`` (0-23), ``minute`` (0-59), ``weekday`` (ISO:
        1 = Monday ... 7 = Sunday), ``month`` (1-12), ``date``
        (``"YYYY-MM-DD"``), ``time`` (``"HH:MM"``) and ``timezone`` (the name
        of the zone actually used).
    """
    name = valid_timezone(timezone) or valid_timezone(fallback) or DEFAULT_TIMEZONE
    if now.tzinfo is None or now.utcoffset() is None:
        now = now.replace(tzinfo=UTC)
    local = now.astimezone(_zone(name))
    return {
        "hour": local.hour,
        "minute": local.minute,
        "weekday": local.isoweekday(),
        "month": local.month,
        "date": local.date().isoformat(),
        "time": f"{local.hour:02d}:{local.minute:02d}",
        "timezone": name,
    }
