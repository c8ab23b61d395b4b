"""Recording a visitor's choices: consent to each purpose, and stated preferences.

A known user's choice is kept on their profile as well, as proof of consent. Withdrawing consent
deletes what that consent allowed to be stored.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable
from dataclasses import replace

from django.db import DatabaseError
from django.http import HttpRequest

from personalize.profiles.scoring import current_config
from personalize.profiles.store import ProfileKey, ProfileStoreError, profile_store
from personalize.rules.scoring import ProfileState
from personalize.signals.consent import (
    ANALYTICS,
    PERSONALIZATION,
    PURPOSES,
    ConsentState,
    clean_purposes,
)
from personalize.tracking.erasure import forget_analytics
from personalize.tracking.events import seeded
from personalize.visitors.visitor import Visitor, visitor_of

logger = logging.getLogger(__name__)

#: Preference keys (they become attribute paths ``visitor.prefs.<key>``).
PREFERENCE_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,49}$")
#: Longest preference value kept.
PREFERENCE_VALUE_LENGTH = 100
#: Most preferences kept per visitor.
PREFERENCE_LIMIT = 50


def record_consent(key: ProfileKey, purposes: Iterable[str], at: float) -> ProfileState:
    """Store a consent choice on a profile (created when missing)."""
    granted = tuple(sorted(clean_purposes(purposes)))
    return profile_store().update(key, lambda s: replace(s, consent=granted, consent_at=at))


def set_preference(
    request: HttpRequest, key: str, value: str | None, *, visitor: Visitor | None = None
) -> bool:
    """Store (or, with ``None``, remove) a stated preference for the request's visitor.

    Args:
        request: the current request.
        key: the preference key (``visitor.prefs.<key>``).
        value: the answer, or None to remove it.
        visitor: the visitor to act for (default: the request's).

    Returns:
        False when the key or value is invalid, the visitor has not allowed personalization, or
        the visitor already holds the most preferences kept (``PREFERENCE_LIMIT``).
    """
    if not isinstance(key, str) or not PREFERENCE_KEY.match(key):
        return False
    if value is not None and (not isinstance(value, str) or not value.strip() or "\x00" in value):
        return False
    visitor = visitor or visitor_of(request)
    if not visitor.is_real or not visitor.consent.allows(PERSONALIZATION):
        return False
    current = visitor.profile
    if (
        value is not None
        and current is not None
        and key not in current.prefs
        and len(current.prefs) >= PREFERENCE_LIMIT
    ):
        return False
    visitor.ensure_visitor_id()
    profile_key = visitor.profile_key
    if profile_key is None:
        return False
    now = time.time()
    text = None if value is None else value.strip()[:PREFERENCE_VALUE_LENGTH]
    first = visitor.first_visit()
    config = current_config() if first is not None else None
    attributes = visitor.context.attributes if config is not None and config.attribute_rules else {}

    def change(state: ProfileState) -> ProfileState:
        if config is not None:
            state = seeded(state, first, config, attributes)
        prefs, stamps = dict(state.prefs), dict(state.prefs_at)
        if text is None:
            prefs.pop(key, None)
            stamps.pop(key, None)
        elif key in prefs or len(prefs) < PREFERENCE_LIMIT:
            prefs[key], stamps[key] = text, now
        return replace(state, prefs=prefs, prefs_at=stamps)

    try:
        profile_store().update(profile_key, change)
    except (DatabaseError, ProfileStoreError):
        logger.exception("preference %r not stored: the profile could not be written", key)
        return False
    visitor.refresh()
    return True


def change_consent(
    request: HttpRequest, purposes: Iterable[object], *, visitor: Visitor | None = None
) -> ConsentState:
    """Record the visitor's consent choice (the response's cookie is set by the middleware).

    A known user's choice is kept on their profile as well. Withdrawing consent to
    personalization deletes what was stored about an anonymous visitor and clears a known user's
    behavioural data (visits, scores, interests, preferences), keeping the consent record.

    Args:
        request: the current request.
        purposes: the purposes granted; unknown values are ignored.
        visitor: the visitor to act for (default: the request's).

    Returns:
        The new consent state.
    """
    visitor = visitor or visitor_of(request)
    granted = clean_purposes(purposes)
    now = time.time()
    ordered = tuple(p for p in PURPOSES if p in granted)
    had_personalization = visitor.consent.allows(PERSONALIZATION)
    user_key = visitor.user_key()
    anonymous_id = visitor.visitor_id
    if PERSONALIZATION not in granted:
        if anonymous_id is not None:
            profile_store().erase(ProfileKey(visitor_id=anonymous_id))
        if user_key is not None and had_personalization:
            profile_store().update(user_key, lambda s: replace(ProfileState(), merges=s.merges))
    if ANALYTICS not in granted and anonymous_id is not None:
        forget_analytics(anonymous_id)
    if user_key is not None:
        record_consent(user_key, granted, now)
    # Only once the store has done its part: a choice that failed to apply changes no cookie.
    visitor.pending_consent = (ordered, now)
    if PERSONALIZATION not in granted:
        visitor.forget_browser = True
    visitor.refresh()
    return visitor.consent
