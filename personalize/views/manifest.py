"""The edge manifest endpoint, ``personalize:manifest`` (``/personalize/manifest.json``).

Front-end servers (Next.js middleware, CDN workers) fetch the live segments' conditions here and
evaluate them before they call the origin (docs/how-to/edge.md). Only requests with a front-end
key get it: segment rules are not public. Without a valid key the answer is a 403 that says
nothing about why (missing and wrong keys look the same), and such requests count against
``RATE_LIMITS["manifest"]``; key holders are not counted, as for GraphQL.

Caching: the answer carries a strong ``ETag`` (a hash of the content) and
``Cache-Control: private, no-cache`` with ``Vary: X-Personalize-Frontend-Key``: a front end keeps
it and revalidates with ``If-None-Match`` (a ``304`` without a body while nothing changed), and
shared caches must not keep it, since they would hand it to clients without a key.
"""

from __future__ import annotations

import logging

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified, JsonResponse
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.http import parse_etags
from django.views.decorators.http import require_safe

from personalize.edge.access import FRONTEND_KEY_HEADER, has_frontend_key
from personalize.edge.manifest import current_manifest
from personalize.visitors.ratelimit import retry_after, too_many_requests

logger = logging.getLogger(__name__)

#: The one answer to a request without a valid key.
FORBIDDEN_MESSAGE = f"A valid front-end key is required in the {FRONTEND_KEY_HEADER} header."
#: The answer when the segments cannot be loaded (nothing about why).
UNAVAILABLE_MESSAGE = "The manifest is not available right now."


def _cache_headers(response: HttpResponse, etag: str | None = None) -> HttpResponse:
    if etag is not None:
        response["ETag"] = etag
    patch_cache_control(response, private=True, no_cache=True)
    patch_vary_headers(response, (FRONTEND_KEY_HEADER,))
    return response


def _refused(status: int, message: str) -> HttpResponse:
    response = JsonResponse({"error": message}, status=status)
    patch_cache_control(response, private=True, no_store=True)
    return response


def _not_modified(request: HttpRequest, etag: str) -> bool:
    header = request.headers.get("If-None-Match", "")
    if not header:
        return False
    tags = parse_etags(header[:4096])
    # Weak comparison, as for If-None-Match: W/"x" matches "x".
    return "*" in tags or any(tag.removeprefix("W/") == etag for tag in tags)


@require_safe
def manifest(request: HttpRequest) -> HttpResponse:
    """The edge manifest (JSON) for front-end servers with a key (GET and HEAD).

    Returns:
        200 with the manifest, 304 when ``If-None-Match`` names its ETag, 403 without a valid
        key (429 once such requests exceed ``RATE_LIMITS["manifest"]``), 503 when the segments
        cannot be loaded.
    """
    if not has_frontend_key(request):
        seconds = retry_after(request, "manifest")
        if seconds is not None:
            return too_many_requests(seconds, json=True)
        return _refused(403, FORBIDDEN_MESSAGE)
    try:
        built = current_manifest()
    except DatabaseError:
        logger.exception("manifest: the segments could not be loaded")
        return _refused(503, UNAVAILABLE_MESSAGE)
    if _not_modified(request, built.etag):
        return _cache_headers(HttpResponseNotModified(), built.etag)
    response = HttpResponse(built.body, content_type="application/json")
    return _cache_headers(response, built.etag)
