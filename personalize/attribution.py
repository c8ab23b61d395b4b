"""The visit's landing attribution, kept in a signed first-party cookie.

GA4 attributes a whole visit to the source it landed from: a click from the site's own pages
does not change the channel. The cookie stores the landing attribution and the time of the last
request; after ``ATTRIBUTION_TIMEOUT`` seconds of inactivity the visit is over.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import time
from functools import lru_cache
from typing import Any

from django.conf import settings

logger = logging.getLogger(__name__)

_SALT = "personalize.attribution"
#: Bytes of HMAC-SHA256 kept in the cookie (128 bits).
_MAC_BYTES = 16
#: Cookies longer than this are not even unsigned (hostile input).
_MAX_COOKIE_LENGTH = 2048
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
    if not value or len(value) > _MAX_COOKIE_LENGTH:
        return None
    data = _unsign(value)
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
    payload = json.dumps(
        {"a": {k: attribution.get(k) for k in _KEYS}, "t": ts}, separators=(",", ":")
    ).encode()
    body = base64.urlsafe_b64encode(payload).rstrip(b"=")
    return (body + b"." + _mac(body, _keys(settings.SECRET_KEY)[0])).decode()


def needs_refresh(
    stored: dict[str, Any] | None, attribution: dict[str, Any], now: float | None = None
) -> bool:
    """Whether the cookie must be (re)written for this request."""
    if stored is None or stored["attribution"] != attribution:
        return True
    current = time.time() if now is None else now
    return bool(current - stored["ts"] >= _REFRESH_SECONDS)


@lru_cache(maxsize=4)
def _derive(secret: str) -> bytes:
    return hashlib.sha256(f"{_SALT}:{secret}".encode()).digest()


def _keys(secret: str) -> list[bytes]:
    """The signing key, then those of SECRET_KEY_FALLBACKS (accepted when reading)."""
    fallbacks = getattr(settings, "SECRET_KEY_FALLBACKS", [])
    return [_derive(secret), *(_derive(str(old)) for old in fallbacks)]


def _mac(body: bytes, key: bytes) -> bytes:
    digest = hmac.new(key, body, hashlib.sha256).digest()[:_MAC_BYTES]
    return base64.urlsafe_b64encode(digest).rstrip(b"=")


def _unsign(value: str) -> Any:
    """The cookie's JSON payload when its MAC is genuine, else None.

    The HMAC key is derived from SECRET_KEY once per process (Django's ``signing`` derives it on
    every call, which shows on a page that reads the cookie on every request).
    """
    body, sep, mac = value.encode("ascii", "replace").rpartition(b".")
    if not sep:
        return None
    if not any(hmac.compare_digest(_mac(body, key), mac) for key in _keys(settings.SECRET_KEY)):
        logger.debug("ignoring attribution cookie: bad signature")
        return None
    try:
        return json.loads(base64.urlsafe_b64decode(body + b"=" * (-len(body) % 4)))
    except (binascii.Error, ValueError) as exc:
        logger.debug("ignoring attribution cookie: %s", exc)
        return None


def _clean(value: Any) -> str | None:
    return value[:200] if isinstance(value, str) else None
