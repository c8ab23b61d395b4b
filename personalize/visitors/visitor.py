"""``request.visitor``: the visitor context and segment matches, computed once per request."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import replace
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject, empty

from personalize.conf import personalize_settings
from personalize.profiles.scoring import current_config
from personalize.profiles.store import ProfileKey, new_visitor_id, profile_store
from personalize.rules.scoring import ProfileState, empty_visitor_attributes, profile_attributes
from personalize.segments import CompiledSegment, SegmentSet
from personalize.signals.consent import ANALYTICS, PERSONALIZATION, ConsentState, resolve_consent
from personalize.visitors.context import FrontendSignals, VisitorContext, build_context
from personalize.visitors.identity import VisitorCookie, read_visitor_cookie, read_visitor_id
from personalize.visitors.ratelimit import retry_after
from personalize.visitors.registry import current_segments

#: The visitor of the request being handled (set by the middleware), for code that renders
#: without a template context, such as ``{{ page.body }}``.
_current_visitor: ContextVar[Visitor | None] = ContextVar("personalize_visitor", default=None)


def current_visitor() -> Visitor | None:
    """The visitor of the request this code runs in, or None outside a request."""
    return _current_visitor.get()


class Visitor:
    """The current visitor, as every delivery channel of the request sees it.

    Nothing is computed until first used; then the context is built once and the live segments
    are resolved once, so templates, blocks and APIs in the same request share one decision.

    Args:
        request: the current request.
        now: the time to evaluate at (defaults to the current time).
        as_segments: force the visitor into exactly these live segments (previews and the
            editors' "view as segment"); signals are still read for the attributes.
        signals: a trusted front end's relayed visitor signals (headless delivery).
    """

    def __init__(
        self,
        request: HttpRequest,
        now: datetime | None = None,
        *,
        as_segments: frozenset[int] | None = None,
        signals: FrontendSignals | None = None,
    ) -> None:
        self._request = request
        self._now = now
        self._signals = signals
        #: Segment ids forced by a preview or "view as", or None for a real visitor.
        self.as_segments = as_segments
        #: Set once anything in the request depended on who the visitor is.
        self.used = False
        #: Set once something outside the page's block decisions read who the visitor is (a
        #: template asking ``in_segment``, a profile panel): the decision key cannot cover it.
        self.uncovered = False
        self._covered = 0
        #: A visitor id minted in this request, for the middleware to set as a cookie.
        self.pending_visitor_id: str | None = None
        #: The id :meth:`ensure_visitor_id` minted in this request, and when.
        self._minted: tuple[str, float] | None = None
        #: Whether the mint rate limit refused this client an id (None: not asked yet).
        self._mint_refused: bool | None = None
        #: The page viewed in the request that minted the id (scored once a profile is stored).
        self.first_page: int | None = None
        #: A new visitor's analytics state, carried in their cookie until the browser returns it.
        self.carried: dict[str, str] = {}
        #: Set once what the returned cookie carried is stored: the cookie is written again.
        self.rewrite_cookie = False
        #: A consent choice ``(purposes, time)`` the middleware must write to the cookie.
        self.pending_consent: tuple[tuple[str, ...], float] | None = None
        #: Set when the browser must forget the visitor id and attribution (logout, erase).
        self.forget_browser = False
        #: Set when the browser must forget the consent choice too (erase).
        self.forget_consent = False

    #: Cached per request; :meth:`refresh` drops them when the user or consent changes.
    _CACHED = (
        "consent", "visitor_id", "_stored_profile", "context", "matches", "user_groups", "_slugs",
        "segment_ids",
    )  # fmt: skip

    @property
    def is_real(self) -> bool:
        """False for previews, "view as" and simulations: nothing is stored, counted or shared."""
        return self.as_segments is None

    def refresh(self) -> None:
        """Forget what was computed (after login, logout, a consent change or a profile write)."""
        for name in self._CACHED:
            self.__dict__.pop(name, None)

    def _user(self) -> Any:
        user = getattr(self._request, "user", None)
        return user if user is not None and user.is_authenticated else None

    def _consent_signals(self) -> tuple[str | None, str | None]:
        """The consent cookie and the ``Sec-GPC`` header (or what a front end relayed)."""
        if self._signals is not None:
            return self._signals.consent, "1" if self._signals.gpc else None
        cookie = self._request.COOKIES.get(personalize_settings.CONSENT_COOKIE)
        return cookie, self._request.headers.get("sec-gpc")

    def consent_reads_profile(self) -> bool:
        """Whether reading :attr:`consent` now would load the logged-in user's stored choice.

        True for a logged-in user whose browser made no explicit choice, until :attr:`consent`
        is read. Decided from the cookie first, so a browser's explicit choice never touches
        ``request.user``.
        """
        if "consent" in self.__dict__ or self.pending_consent is not None:
            return False
        if not self.is_real:
            return False
        cookie, gpc = self._consent_signals()
        if resolve_consent(cookie, gpc, mode=personalize_settings.consent_mode).explicit:
            return False
        return self._user() is not None

    @cached_property
    def consent(self) -> ConsentState:
        """What the visitor allowed (cookie, ``Sec-GPC``, and a known user's stored choice)."""
        conf = personalize_settings
        cookie, gpc = self._consent_signals()
        if self.pending_consent is not None:
            return resolve_consent(None, gpc, stored=self.pending_consent)
        consent = resolve_consent(cookie, gpc, mode=conf.consent_mode)
        user = self._user()
        if consent.explicit or user is None or not self.is_real:
            return consent
        # A known user who made no choice in this browser: their account's choice applies.
        stored = profile_store().load(ProfileKey(user_id=user.pk))
        if stored is None or stored.consent_at is None:
            return consent
        return resolve_consent(
            cookie, gpc, mode=conf.consent_mode, stored=(stored.consent, stored.consent_at)
        )

    def prefetch_keys(self) -> list[str]:
        """Cache keys this request will probably read: the visitor's profile copy.

        Decided from the cookies alone (reading the stored consent would read the profile),
        and the user only when authentication already loaded them.
        """
        if not self.is_real:
            return []
        conf = personalize_settings
        consent = resolve_consent(*self._consent_signals(), mode=conf.consent_mode)
        user = self._request.__dict__.get("user")
        if isinstance(user, SimpleLazyObject):
            user = None if user._wrapped is empty else user._wrapped
        if user is not None and user.is_authenticated:
            # A known user's profile decides their consent when the browser made no choice.
            if consent.allows(PERSONALIZATION) or not consent.explicit:
                return [ProfileKey(user_id=user.pk).cache_key]
            return []
        if not consent.allows(PERSONALIZATION):
            return []
        visitor_id = read_visitor_id(self._request.COOKIES.get(conf.VISITOR_COOKIE))
        return [ProfileKey(visitor_id=visitor_id).cache_key] if visitor_id else []

    def _may_identify(self) -> bool:
        """A visitor id needs consent to personalization or to analytics."""
        return self.consent.allows(PERSONALIZATION) or self.consent.allows(ANALYTICS)

    @cached_property
    def visitor_id(self) -> str | None:
        """The visitor id (with consent to personalization or analytics), or None."""
        if self.pending_visitor_id is not None:
            return self.pending_visitor_id
        if not self._may_identify():
            return None
        cookie = self.cookie
        return cookie.visitor_id if cookie is not None else None

    @cached_property
    def cookie(self) -> VisitorCookie | None:
        """The genuine visitor cookie the browser (or a front end) sent, whatever the consent."""
        if self._signals is not None:
            return read_visitor_cookie(self._signals.visitor_token)
        return read_visitor_cookie(self._request.COOKIES.get(personalize_settings.VISITOR_COOKIE))

    def ensure_visitor_id(self) -> str | None:
        """The visitor id, minting one (and its cookie) when consent allows and there is none."""
        if self.visitor_id is None and self._may_identify() and self._may_mint():
            self.pending_visitor_id = new_visitor_id()
            self._minted = (self.pending_visitor_id, time.time())
            self.__dict__["visitor_id"] = self.pending_visitor_id
        return self.visitor_id

    def _may_mint(self) -> bool:
        """Whether the client is under ``RATE_LIMITS["mint"]`` (asked once per request).

        A front end relaying its visitors (headless) mints for all of them and is not limited.
        """
        if self._signals is not None:
            return True
        if self._mint_refused is None:
            self._mint_refused = retry_after(self._request, "mint") is not None
        return not self._mint_refused

    @property
    def minted(self) -> bool:
        """Whether the visitor id was minted in this request.

        The browser has not sent it back yet, so it may keep no cookies at all: no profile row
        and no per-visitor cache keys are stored under it (see
        :mod:`personalize.visitors.identity`).
        """
        return self._minted is not None and self.pending_visitor_id == self._minted[0]

    def first_visit(self) -> tuple[float, int | None] | None:
        """When the request that minted the visitor id happened, and the page it showed.

        Known in that request, and later from the visitor cookie; None otherwise.
        """
        if self._minted is not None and self.minted:
            return self._minted[1], self.first_page
        cookie = self.cookie
        if cookie is None or cookie.minted_at is None or cookie.visitor_id != self.visitor_id:
            return None
        return cookie.minted_at, cookie.first_page

    def outgoing_cookie(self) -> VisitorCookie | None:
        """The visitor cookie the response must set, or None to leave the browser's as it is."""
        if self.pending_visitor_id is not None:
            if self._minted is not None and self.minted:
                at = self._minted[1]
                return VisitorCookie(self.pending_visitor_id, at, self.first_page, self.carried)
            return VisitorCookie(self.pending_visitor_id)
        if self.rewrite_cookie and self.cookie is not None:
            return replace(self.cookie, carried={})
        return None

    def user_key(self) -> ProfileKey | None:
        """The logged-in user's profile key (whatever the consent), or None."""
        user = self._user()
        return None if user is None or not self.is_real else ProfileKey(user_id=user.pk)

    @property
    def profile_key(self) -> ProfileKey | None:
        """How the visitor's profile is found: the user when logged in, else the visitor id."""
        if not self.is_real or not self.consent.allows(PERSONALIZATION):
            return None
        user = self._user()
        if user is not None:
            return ProfileKey(user_id=user.pk)
        return ProfileKey(visitor_id=self.visitor_id) if self.visitor_id else None

    @contextmanager
    def covered(self) -> Iterator[None]:
        """Within the block, reading the visitor is part of a block decision the key covers."""
        self._covered += 1
        try:
            yield
        finally:
            self._covered -= 1

    def _read_outside_decisions(self) -> None:
        if not self._covered:
            self.uncovered = True

    @property
    def profile(self) -> ProfileState | None:
        """The stored profile (with consent to personalization), or None."""
        self._read_outside_decisions()
        return self._stored_profile

    @cached_property
    def _stored_profile(self) -> ProfileState | None:
        key = self.profile_key
        if key is None or (key.user_id is None and self.minted):
            # An id minted in this request has no profile: nothing to look up or to cache.
            return None
        return profile_store().load(key)

    def profile_attributes(self) -> dict[str, Any]:
        """The ``visitor.*`` attributes (decayed to now)."""
        profile = self._stored_profile
        if profile is None:
            return empty_visitor_attributes()
        config = current_config()
        now = (self._now or datetime.now(UTC)).timestamp()
        return profile_attributes(profile, now, config.stages, config.half_life_days)

    @cached_property
    def segment_set(self) -> SegmentSet:
        """The compiled live segments at the time of this request."""
        return current_segments()

    @cached_property
    def context(self) -> VisitorContext:
        """The visitor context (signals of this request)."""
        include_groups = self.segment_set.reads("user.groups")
        return build_context(
            self._request,
            self._now,
            include_groups=include_groups,
            signals=self._signals,
            consent=self.consent,
            profile=self.profile_attributes(),
        )

    @property
    def attributes(self) -> Any:
        """The nested attribute dict (see docs/reference/attributes.md)."""
        self.used = True
        self._read_outside_decisions()
        return self.context.attributes

    @cached_property
    def matches(self) -> tuple[CompiledSegment, ...]:
        """The matched compiled segments, in stable order."""
        self.used = True
        if self.as_segments is not None:
            return tuple(s for s in self.segment_set.segments if s.id in self.as_segments)
        return self.segment_set.resolve(self.context.attributes)

    @cached_property
    def user_groups(self) -> frozenset[str]:
        """The logged-in user's group names (one query, only when a gate asks)."""
        self.used = True
        user = getattr(self._request, "user", None)
        if not self.is_real or user is None or not user.is_authenticated:
            return frozenset()
        return frozenset(user.groups.values_list("name", flat=True))

    @property
    def authenticated(self) -> bool:
        """Whether the visitor is logged in (previews and "view as" act as anonymous visitors)."""
        self.used = True
        if not self.is_real:
            return False
        user = getattr(self._request, "user", None)
        return bool(user is not None and user.is_authenticated)

    @property
    def request(self) -> HttpRequest:
        """The request this visitor belongs to."""
        return self._request

    @property
    def segments(self) -> list[Any]:
        """The matched ``Segment`` objects, in stable order (by name)."""
        self._read_outside_decisions()
        return [match.obj for match in self.matches]

    @property
    def segment_slugs(self) -> frozenset[str]:
        """The slugs of the matched segments."""
        self._read_outside_decisions()
        return self._slugs

    @cached_property
    def _slugs(self) -> frozenset[str]:
        return frozenset(match.slug for match in self.matches)

    @cached_property
    def segment_ids(self) -> frozenset[int]:
        """The primary keys of the matched segments."""
        return frozenset(match.id for match in self.matches)

    def in_segment(self, slug: str) -> bool:
        """Whether the visitor is in the live segment with this slug."""
        self._read_outside_decisions()
        return slug in self._slugs

    def explain(self) -> list[dict[str, Any]]:
        """Per live segment: matched or not, and which top-level rules matched."""
        self._read_outside_decisions()
        return self.segment_set.explain(self.context.attributes)

    def __repr__(self) -> str:
        return f"<Visitor segments={sorted(self._slugs)!r}>"


def visitor_of(request: HttpRequest) -> Visitor:
    """The request's visitor (``request.visitor``), attached when the middleware did not run."""
    visitor = getattr(request, "visitor", None)
    if not isinstance(visitor, Visitor):
        visitor = Visitor(request)
        request.visitor = visitor  # type: ignore[attr-defined]
    return visitor
