"""Compact signed cookie values: ``base64(json) . base64(hmac)``.

The HMAC key is derived from ``SECRET_KEY`` once per process and salt (Django's ``signing``
derives it on every call, which shows on a page that reads a cookie on every request). Keys of
``SECRET_KEY_FALLBACKS`` are accepted when reading, so rotating the secret keeps visitors' cookies.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
from functools import lru_cache
from typing import Any

from django.conf import settings

logger = logging.getLogger(__name__)

#: Bytes of HMAC-SHA256 kept in a value (128 bits).
MAC_BYTES = 16
#: Values longer than this are not even unsigned (hostile input).
MAX_LENGTH = 2048


@lru_cache(maxsize=16)
def _derive(salt: str, secret: str) -> bytes:
    return hashlib.sha256(f"{salt}:{secret}".encode()).digest()


def _keys(salt: str) -> list[bytes]:
    """The signing key, then those of SECRET_KEY_FALLBACKS (accepted when reading)."""
    fallbacks = getattr(settings, "SECRET_KEY_FALLBACKS", [])
    return [_derive(salt, settings.SECRET_KEY), *(_derive(salt, str(old)) for old in fallbacks)]


def _mac(body: bytes, key: bytes) -> bytes:
    digest = hmac.new(key, body, hashlib.sha256).digest()[:MAC_BYTES]
    return base64.urlsafe_b64encode(digest).rstrip(b"=")


def sign(payload: Any, salt: str) -> str:
    """Serialize ``payload`` as JSON and sign it.

    Args:
        payload: JSON-serializable data.
        salt: a namespace, so one cookie's value is never valid as another's.

    Returns:
        The cookie-safe signed value.
    """
    body = base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode())
    body = body.rstrip(b"=")
    return (body + b"." + _mac(body, _keys(salt)[0])).decode()


def unsign(value: str | None, salt: str) -> Any:
    """The payload of a genuine signed value, else None (never raises on hostile input).

    Args:
        value: the raw cookie value.
        salt: the namespace it was signed with.

    Returns:
        The decoded JSON payload, or None when absent, too long, forged or malformed.
    """
    if not value or not isinstance(value, str) or len(value) > MAX_LENGTH:
        return None
    body, sep, mac = value.encode("ascii", "replace").rpartition(b".")
    if not sep:
        return None
    if not any(hmac.compare_digest(_mac(body, key), mac) for key in _keys(salt)):
        logger.debug("ignoring %s cookie: bad signature", salt)
        return None
    try:
        return json.loads(base64.urlsafe_b64decode(body + b"=" * (-len(body) % 4)))
    except (binascii.Error, ValueError) as exc:
        logger.debug("ignoring %s cookie: %s", salt, exc)
        return None
