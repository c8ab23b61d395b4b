"""Whether a personalized response may be shared: served to every visitor with the same key.

The decision key covers the page's block decisions and the visitor's consent choice. Anything
else about the visitor that reached the response makes it private, as every personalized
response was before keys existed:

* a cookie set by the response (a new visitor id, the visit's attribution, a CSRF cookie);
* a CSRF token in the page (each visitor's token is their own);
* a logged-in user, or a session cookie in the request (a user's name, the userbar, messages);
* a read of the visitor outside the block decisions while the page rendered (a template asking
  ``in_segment``, a profile panel: :attr:`Visitor.uncovered
  <personalize.visitors.visitor.Visitor.uncovered>`);
* a preview, "view as" or an editor's simulated visitor, and anything but a ``200`` answer to
  ``GET`` or ``HEAD``.

Per-visitor fragments belong in a small response of their own, fetched by the page (or an ESI
include), so the page itself stays shareable: see docs/how-to/cdn.md.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

_SAFE_METHODS = frozenset({"GET", "HEAD"})


def request_private_reason(request: HttpRequest, visitor: Any) -> str | None:
    """Why no response to this request can be shared, known before it renders (or None)."""
    if request.method not in _SAFE_METHODS:
        return "method"
    if not getattr(visitor, "is_real", True) or getattr(request, "is_preview", False):
        return "preview"
    if settings.SESSION_COOKIE_NAME in request.COOKIES:
        return "session"
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return "user"
    return None


def response_private_reason(
    request: HttpRequest, response: HttpResponseBase, visitor: Any
) -> str | None:
    """Why this response cannot be shared (or None: it may be)."""
    reason = request_private_reason(request, visitor)
    if reason is not None:
        return reason
    if response.status_code != 200 or response.streaming:
        return "status"
    if response.cookies:
        return "cookie"
    if request.META.get("CSRF_COOKIE_NEEDS_UPDATE") or request.META.get("CSRF_COOKIE_USED"):
        return "csrf"
    if visitor.uncovered:
        return "visitor"
    cache_control = str(response.get("Cache-Control", "")).lower()
    if "private" in cache_control or "no-store" in cache_control:
        return "cache-control"
    return None
