"""Recording what a consenting visitor does: events scored into their profile and counted.

``personalize.track(request, name, **props)`` is the public entry point; the middleware tracks
page views, and receivers track Wagtail form submissions and document downloads. Nothing is
written for a visitor who has not allowed personalization, for bots, or in previews.

A visitor id minted in the current request gets no profile row for a page view: the browser
may keep no cookies at all. The page view rides in the visitor cookie
(:meth:`~personalize.visitors.visitor.Visitor.first_visit`) and is scored into the profile when the
browser sends the cookie back. Events that earn points, and stated preferences, are stored at
once. Consent choices and stated preferences are :mod:`personalize.tracking.choices`.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from django.db import DatabaseError, transaction
from django.http import HttpRequest

from personalize.analytics.goals import REGISTRATION_EVENT, on_event
from personalize.conf import personalize_settings
from personalize.profiles.scoring import ScoringConfig, current_config
from personalize.profiles.store import ProfileKey, ProfileStoreError, profile_store
from personalize.rules.scoring import Event, ProfileState, apply_event, needs_write
from personalize.signals.consent import ANALYTICS, PERSONALIZATION
from personalize.visitors.visitor import Visitor, current_visitor, visitor_of

logger = logging.getLogger(__name__)


#: Event names: letters, digits, ``_ - . :``, at most 64 characters.
EVENT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
#: Most tags of one page counted as interests.
_TAG_LIMIT = 20


@dataclass(frozen=True, slots=True)
class PageFacts:
    """What a page view records about a page, known without loading it (a cached response)."""

    page_id: int
    page_type: str
    tags: tuple[str, ...] = ()


def page_event(page: Any, name: str = "page_view") -> Event:
    """The event for a view of ``page`` (its id, type and tags).

    Args:
        page: a Wagtail page, or the :class:`PageFacts` of one.
        name: the event's name.
    """
    if isinstance(page, PageFacts):
        return Event(name=name, page_id=page.page_id, page_type=page.page_type, tags=page.tags)
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
    if not visitor.is_real or not (personalization or analytics):
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
                seeded(state, first, config, attributes),
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


def seeded(
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
        store.update(key, lambda state: seeded(state, first, config, attributes))
    except (DatabaseError, ProfileStoreError):
        logger.exception("first visit not stored: the profile could not be written")


def track_registration(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    """Track ``"registration"`` when a visitor creates their account (``post_save`` on users).

    Only inside a request (the current visitor), not when fixtures are loaded, and not when a
    logged-in user (an editor in the admin) creates someone else's account. The event is tracked
    once the transaction commits, so a failed sign-up counts nothing.
    """
    if not created or kwargs.get("raw"):
        return
    visitor = current_visitor()
    if visitor is None:
        return
    user = getattr(visitor.request, "user", None)
    if user is not None and user.is_authenticated and user.pk != instance.pk:
        return
    transaction.on_commit(
        lambda: track(visitor.request, REGISTRATION_EVENT, visitor=visitor),
        robust=True,
    )
