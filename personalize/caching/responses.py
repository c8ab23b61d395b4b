"""The server-side page cache: shareable responses kept in the package's cache alias.

Responses are stored under (versions, site, path and query, decision key). Every version the
package keeps is part of the key, so publishing, unpublishing, moving or deleting a page, and
changing a segment, the scoring rules, a goal or an experiment, leave the old entries unreachable
(they expire on their own). An entry lives no longer than ``PAGE_CACHE_TIMEOUT`` and never past
the next boundary of a time rule the page's segments read.

Only what :mod:`personalize.caching.policy` calls shareable is stored, so a stored response
carries no cookie and nothing of one visitor; a hit is counted like a render by the middleware.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseBase

from personalize import cache
from personalize.cache import CacheUnavailable
from personalize.caching.keys import PageDecisions
from personalize.conf import personalize_settings
from personalize.segments import VersionStoreError

logger = logging.getLogger(__name__)

#: Responses larger than this are not stored.
MAX_CONTENT = 2 * 1024 * 1024
#: Headers set per response, never stored.
_NOT_STORED = frozenset(
    {"set-cookie", "vary", "cache-control", "expires", "date", "age", "content-length",
     "x-personalize-key", "x-personalize-cache"}
)  # fmt: skip


def _key(request: HttpRequest, site_id: int, decisions: PageDecisions) -> str:
    stamp = cache.version_stamp()
    where = f"{stamp}|{site_id}|{request.get_full_path()}"
    digest = hashlib.blake2b(where.encode("utf-8", "surrogateescape"), digest_size=16).hexdigest()
    return f"{personalize_settings.CACHE_KEY_PREFIX}:page:{digest}:{decisions.key}"


def lookup(request: HttpRequest, site_id: int, decisions: PageDecisions) -> HttpResponse | None:
    """The stored response for this request's path and decisions, or None."""
    try:
        key = _key(request, site_id, decisions)
        stored = cache.guarded(lambda: cache.shared_cache().get(key))
    except (CacheUnavailable, VersionStoreError):
        return None
    if stored is None:
        return None
    try:
        response = HttpResponse(stored["content"], status=int(stored["status"]))
        for name, value in stored["headers"]:
            response[name] = value
    except (KeyError, TypeError, ValueError):
        logger.warning("stored page response is unreadable: rendered instead")
        return None
    return response


def store(
    request: HttpRequest, response: HttpResponseBase, site_id: int, decisions: PageDecisions
) -> bool:
    """Keep a shareable response for visitors with the same decisions.

    Returns:
        True when it was stored.
    """
    timeout = decisions.max_age(personalize_settings.page_cache_timeout)
    content = getattr(response, "content", None)
    if timeout <= 0 or content is None or len(content) > MAX_CONTENT:
        return False
    headers = [
        [name, value] for name, value in response.items() if name.lower() not in _NOT_STORED
    ]
    entry: dict[str, Any] = {
        "status": response.status_code,
        "headers": headers,
        "content": bytes(content),
    }
    try:
        key = _key(request, site_id, decisions)
        cache.guarded(lambda: cache.shared_cache().set(key, entry, timeout=timeout))
    except (CacheUnavailable, VersionStoreError):
        return False
    return True
