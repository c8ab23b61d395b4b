"""The visit's landing attribution, kept in a signed first-party cookie.

GA4 attributes a whole visit to the source it landed from: a click from the site's own pages
does not change the channel. The cookie stores the landing attribution and the time of the last
request; after ``ATTRIBUTION_TIMEOUT`` seconds of inactivity the visit is over.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from personalize.signing import sign, unsign

logger = logging.getLogger(__name__)

_SALT = "personalize.visitors.attribution"
#: The cookie's timestamp is refreshed at most this often, so most responses set no cookie.
_REFRESH_SECONDS = 60
_KEYS = ("channel", "source", "medium", "campaign", "term", "content", "host")


def read_attribution(
    value: str | None, timeout: int, now: float | None = None
) -> dict[str, Any] | None:
    """Return the stored attribution when the cookie is genuine and the visit still running.

    Args:
        value: the raw cookie value (hostile input).
        timeout: seconds of inactivity after which the visit is over.
        now: the current Unix time (defaults to ``time.time()``).

    Returns:
        ``{"attribution": {...}, "ts": float}`` or ``None`` when absent, forged or expired.
    """
    data = unsign(value, _SALT)
    if not isinstance(data, dict) or not isinstance(data.get("a"), dict):
        return None
    ts = data.get("t")
    if not isinstance(ts, int | float) or isinstance(ts, bool):
        return None
    current = time.time() if now is None else now
    if current - ts > timeout or ts - current > _REFRESH_SECONDS:
        return None
    stored = data["a"]
    attribution = {key: _clean(stored.get(key)) for key in _KEYS}
    if attribution["channel"] is None:
        return None
    return {"attribution": attribution, "ts": float(ts)}


def dump_attribution(attribution: dict[str, Any], now: float | None = None) -> str:
    """Sign an attribution and the current time for the cookie."""
    ts = int(time.time() if now is None else now)
    return sign({"a": {k: attribution.get(k) for k in _KEYS}, "t": ts}, _SALT)


def needs_refresh(
    stored: dict[str, Any] | None, attribution: dict[str, Any], now: float | None = None
) -> bool:
    """Whether the cookie must be (re)written for this request."""
    if stored is None or stored["attribution"] != attribution:
        return True
    current = time.time() if now is None else now
    return bool(current - stored["ts"] >= _REFRESH_SECONDS)


def _clean(value: Any) -> str | None:
    return value[:200] if isinstance(value, str) else None
