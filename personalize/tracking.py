"""Recording what a consenting visitor does: events, consent choices and stated preferences.

``personalize.track(request, name, **props)`` is the public entry point; the middleware tracks
page views, and receivers track Wagtail form submissions and document downloads. Nothing is
written for a visitor who has not allowed personalization, for bots, or in previews.

A visitor id minted in the current request gets no profile row for a page view: the browser
may keep no cookies at all. The page view rides in the visitor cookie
(:meth:`~personalize.visitor.Visitor.first_visit`) and is scored into the profile when the
browser sends the cookie back. Events that earn points, and stated preferences, are stored at
once.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable
from dataclasses import replace
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from django.db import DatabaseError
from django.http import HttpRequest

from personalize.conf import personalize_settings
from personalize.consent import (
    ANALYTICS,
    PERSONALIZATION,
    PURPOSES,
    ConsentState,
    clean_purposes,
)
from personalize.profiles import ProfileKey, ProfileStoreError, profile_store
from personalize.rules.scoring import Event, ProfileState, apply_event, needs_write
from personalize.scoring_config import ScoringConfig, current_config

if TYPE_CHECKING:
    from personalize.visitor import Visitor

logger = logging.getLogger(__name__)


def visitor_of(request: HttpRequest) -> Visitor:
    """The request's visitor (imported late: the visitor module imports this one's users)."""
    from personalize.visitor import visitor_of as of

    return of(request)


#: Event names: letters, digits, ``_ - . :``, at most 64 characters.
EVENT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
#: Preference keys (they become attribute paths ``visitor.prefs.<key>``).
PREFERENCE_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,49}$")
#: Longest preference value kept.
PREFERENCE_VALUE_LENGTH = 100
#: Most preferences kept per visitor.
PREFERENCE_LIMIT = 50
#: Most tags of one page counted as interests.
_TAG_LIMIT = 20


def page_event(page: Any, name: str = "page_view") -> Event:
    """The event for a view of ``page`` (its id, type and tags)."""
    specific_class = getattr(page, "specific_class", None) or type(page)
    return Event(
        name=name,
        page_id=page.pk,
        page_type=specific_class._meta.label_lower,
        tags=page_tags(page),
    )


def page_tags(page: Any) -> tuple[str, ...]:
    """The page's tag names (cached per page and publication; empty for untagged page types)."""
    specific = getattr(page, "specific_deferred", page)
    if not hasattr(specific, "tags"):
        return ()
    published = getattr(page, "last_published_at", None)
    label = type(specific)._meta.label
    return _tags(label, page.pk, published.timestamp() if published else 0.0)


@lru_cache(maxsize=2048)
def _tags(label: str, pk: int, published: float) -> tuple[str, ...]:
    from django.apps import apps

    instance = apps.get_model(label)._default_manager.filter(pk=pk).first()
    if instance is None:
        return ()
    names = instance.tags.order_by("name").values_list("name", flat=True)[:_TAG_LIMIT]
    return tuple(name.lower() for name in names)


def page_tags_changed() -> None:
    """Forget the remembered page tags (tests; tags change with a new publication anyway)."""
    _tags.cache_clear()


def track(
    request: HttpRequest,
    name: str,
    *,
    page: Any = None,
    target: str | int | None = None,
    tags: Iterable[str] = (),
    visitor: Visitor | None = None,
) -> bool:
    """Record an event for the request's visitor and score it.

    Args:
        request: the current request.
        name: ``"page_view"``, ``"form_submit"``, ``"download"`` or a custom event name.
        page: the page the event happened on (its id, type and tags are recorded).
        target: the form or document the event is about (for scoring rules).
        tags: extra interest tags (at most 20 are kept).
        visitor: the visitor to act for (default: the request's; a relayed headless visitor).

    Returns:
        True when the event was recorded: scored into the profile (consent to personalization)
        and/or counted for goals, conversions and funnels (consent to analytics); a page view of
        a visitor id minted in this request is scored once the browser sends the id back. False
        without either consent, for bots, in previews, for an invalid event name, a target with a
        NUL character, or when the profile could not be written (logged).
    """
    if not isinstance(name, str) or not EVENT_NAME.match(name):
        logger.debug("event not tracked: invalid name %r", name)
        return False
    if target is not None and "\x00" in str(target):
        # PostgreSQL stores no NUL character in text or JSON.
        logger.debug("event not tracked: NUL character in the target")
        return False
    visitor = visitor or visitor_of(request)
    personalization = visitor.consent.allows(PERSONALIZATION)
    analytics = visitor.consent.allows(ANALYTICS)
    if visitor.as_segments is not None or not (personalization or analytics):
        return False
    if visitor.context.attributes["device"].get("type") == "bot":
        return False
    event = page_event(page, name) if page is not None else Event(name=name)
    extra = tuple(t.lower()[:100] for t in tags if isinstance(t, str) and t and "\x00" not in t)[
        :_TAG_LIMIT
    ]
    event = replace(
        event,
        target=None if target is None else str(target)[:100],
        tags=(*event.tags, *extra),
    )
    visitor.ensure_visitor_id()
    recorded = False
    if analytics:
        from personalize.analytics.goals import on_event

        on_event(visitor, event)
        recorded = True
    if personalization:
        # A view of a page with nothing added can be replayed from the page alone.
        replayable = name == "page_view" and page is not None and not extra and target is None
        recorded = _score(visitor, event, replayable=replayable) or recorded
    return recorded


def _score(visitor: Visitor, event: Event, *, replayable: bool = False) -> bool:
    """Apply the event to the visitor's profile (with consent to personalization).

    For a visitor id minted in this request, the first page view that the page alone
    describes (``replayable``) rides in the visitor cookie instead; any other event is stored
    only when it earns points or interests.
    """
    key = visitor.profile_key
    if key is None:
        return False
    config = current_config()
    now = time.time()
    attributes = visitor.context.attributes if config.attribute_rules else {}
    if key.user_id is None and visitor.minted:
        if replayable and visitor.first_page is None:
            visitor.first_page = event.page_id
            return True
        if not _earns_points(event, config, attributes, now):
            # Nothing worth a profile row before the browser proves it keeps the id.
            return True
    current = visitor.profile or ProfileState()
    if visitor.profile is not None and not needs_write(
        current,
        event,
        config.rules,
        now,
        visit_timeout=personalize_settings.ATTRIBUTION_TIMEOUT,
        attributes=attributes,
    ):
        return True
    first = visitor.first_visit()
    try:
        profile_store().update(
            key,
            lambda state: apply_event(
                _seeded(state, first, config, attributes),
                event,
                config.rules,
                attributes,
                now,
                half_life_days=config.half_life_days,
                visit_timeout=personalize_settings.ATTRIBUTION_TIMEOUT,
            ),
        )
    except (DatabaseError, ProfileStoreError):
        logger.exception("event %r not recorded: the profile could not be written", event.name)
        return False
    visitor.refresh()
    return True


def _earns_points(event: Event, config: ScoringConfig, attributes: Any, now: float) -> bool:
    """Whether the event alone changes a new profile beyond a bare visit (points or interests)."""
    trial = apply_event(
        ProfileState(), event, config.rules, attributes, now, half_life_days=config.half_life_days
    )
    return any(trial.total_points.values()) or bool(trial.interests)


def _seeded(
    state: ProfileState,
    first: tuple[float, int | None] | None,
    config: ScoringConfig,
    attributes: Any,
) -> ProfileState:
    """The profile with the visitor's first visit applied, when it was never stored.

    Args:
        state: the stored profile (empty when it is being created).
        first: when the request that minted the visitor id happened and the page it showed.
        config: the scoring configuration.
        attributes: the visitor's attributes, for attribute rules.
    """
    if first is None or state.first_seen is not None:
        return state
    at, page_id = first
    page = None
    if page_id is not None:
        from wagtail.models import Page

        page = Page.objects.filter(pk=page_id).first()
    if page is None:
        # The visit itself, without a page to score.
        return apply_event(
            state,
            Event(name="page_view"),
            (),
            {},
            at,
            half_life_days=config.half_life_days,
            visit_timeout=personalize_settings.ATTRIBUTION_TIMEOUT,
        )
    return apply_event(
        state,
        page_event(page),
        config.rules,
        attributes,
        at,
        half_life_days=config.half_life_days,
        visit_timeout=personalize_settings.ATTRIBUTION_TIMEOUT,
    )


def store_first_visit(visitor: Visitor, visitor_id: str) -> None:
    """Store the first visit the returned visitor cookie carries, when ``visitor_id`` has no
    profile yet (at login, so that the visit merges into the account's profile)."""
    first = visitor.first_visit()
    cookie = visitor.cookie
    if first is None or cookie is None or cookie.visitor_id != visitor_id or visitor.minted:
        return
    key = ProfileKey(visitor_id=visitor_id)
    store = profile_store()
    if store.load(key) is not None:
        return
    config = current_config()
    attributes = visitor.context.attributes if config.attribute_rules else {}
    try:
        store.update(key, lambda state: _seeded(state, first, config, attributes))
    except (DatabaseError, ProfileStoreError):
        logger.exception("first visit not stored: the profile could not be written")


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
    if visitor.as_segments is not None or not visitor.consent.allows(PERSONALIZATION):
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
            state = _seeded(state, first, config, attributes)
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


def erase_visitor(request: HttpRequest) -> int:
    """Erase everything stored about the request's visitor: profiles, cached copies, cookies.

    For a logged-in user, their profile (and the anonymous one of this browser) is deleted.
    The browser forgets the visitor id, attribution, time zone and consent cookies.

    Returns:
        How many profiles were deleted.
    """
    from personalize.identity import read_visitor_id

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
    from personalize.analytics.store import counter_store, safely

    store = counter_store()
    safely(lambda: store.forget_visitor(visitor_id), None)
