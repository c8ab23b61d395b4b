"""Who may read the manifest: front-end servers with a key from ``PERSONALIZE["FRONTEND_KEYS"]``.

The same keys and the same header as the GraphQL relay of visitor signals
(:mod:`personalize.graphql.access`): segment rules are not public, so the manifest is only
given to servers that hold a key. Keys are compared in constant time.
"""

from __future__ import annotations

import hmac

from django.http import HttpRequest

from personalize.conf import personalize_settings

__all__ = ["FRONTEND_KEY_HEADER", "frontend_keys", "has_frontend_key"]

#: The header a trusted front-end server sends its key in.
FRONTEND_KEY_HEADER = "X-Personalize-Frontend-Key"


def frontend_keys() -> list[bytes]:
    """The configured keys, as bytes; empty ones and values that are not text are left out.

    Returns:
        ``PERSONALIZE["FRONTEND_KEYS"]``; a single string there is one key (not one per
        letter, as iterating it would give).
    """
    configured = personalize_settings.FRONTEND_KEYS
    if isinstance(configured, str):
        configured = [configured]
    if not isinstance(configured, (list, tuple, set, frozenset)):
        return []
    return [key.encode("utf-8", "replace") for key in configured if isinstance(key, str) and key]


def has_frontend_key(request: HttpRequest) -> bool:
    """Whether the request carries one of ``PERSONALIZE["FRONTEND_KEYS"]``.

    Args:
        request: The request; its ``X-Personalize-Frontend-Key`` header is read.

    Returns:
        True when the header holds a configured (non-empty) key. Every configured key is
        compared, in constant time, whatever the header holds.
    """
    given = request.headers.get(FRONTEND_KEY_HEADER, "")
    if not given:
        return False
    given_bytes = given.encode("utf-8", "replace")
    matches = [hmac.compare_digest(given_bytes, key) for key in frontend_keys()]
    return any(matches)
