"""Erasure: everything stored about a visitor, deleted on their request.

Profiles (the account's and this browser's anonymous one), their cached copies, what analytics
remembers about the visitor id, and the browser's cookies.
"""

from __future__ import annotations

from django.http import HttpRequest

from personalize.analytics.store import counter_store, safely
from personalize.conf import personalize_settings
from personalize.profiles.store import ProfileKey, profile_store
from personalize.visitors.identity import read_visitor_id
from personalize.visitors.visitor import visitor_of


def erase_visitor(request: HttpRequest) -> int:
    """Erase everything stored about the request's visitor: profiles, cached copies, cookies.

    For a logged-in user, their profile (and the anonymous one of this browser) is deleted.
    The browser forgets the visitor id, attribution, time zone and consent cookies.

    Returns:
        How many profiles were deleted.
    """
    visitor = visitor_of(request)
    store = profile_store()
    deleted = 0
    user_key = visitor.user_key()
    if user_key is not None:
        account_id = store.visitor_id_of(user_key)
        deleted += store.erase(user_key)
        if account_id:
            forget_analytics(account_id)
    raw = request.COOKIES.get(personalize_settings.VISITOR_COOKIE)
    anonymous_id = read_visitor_id(raw)
    if anonymous_id is not None:
        deleted += store.erase(ProfileKey(visitor_id=anonymous_id))
        forget_analytics(anonymous_id)
    visitor.forget_browser = True
    visitor.forget_consent = True
    visitor.pending_visitor_id = None
    visitor.refresh()
    return deleted


def forget_analytics(visitor_id: str) -> None:
    """Delete what analytics remembers about one visitor id (exposures, goals, assignments)."""
    store = counter_store()
    safely(lambda: store.forget_visitor(visitor_id), None)
