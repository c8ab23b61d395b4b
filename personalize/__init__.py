"""wagtail-personalize: segment-based personalization for Wagtail."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def track(request: Any, name: str, **props: Any) -> bool:
    """Record an event for the request's visitor (only with consent to personalization).

    ``personalize.track(request, "demo_request")`` or, for a page, ``track(request,
    "page_view", page=page)``; ``target=`` names the form or document, ``tags=`` adds interests.
    See :func:`personalize.tracking.events.track`.

    Returns:
        True when the event was recorded.
    """
    from personalize.tracking.events import track as _track

    return _track(request, name, **props)
