"""PersonalizeMiddleware: ``request.visitor`` for every request, attribution for every visit."""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import nullcontext

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control

from personalize.analytics.recording import record_request
from personalize.blocks.simulation_bar import show_simulation
from personalize.cache import request_reads
from personalize.caching.sharing import (
    Keyed,
    cached_response,
    counted_by_preflight,
    decide_request,
    finish,
    keys_wanted,
    preflight,
    share,
)
from personalize.conf import personalize_settings
from personalize.signals.consent import PERSONALIZATION
from personalize.tracking.events import track
from personalize.visitors.attribution import dump_attribution
from personalize.visitors.context import visit_attribution
from personalize.visitors.identity import (
    cookie_secure,
    forget_browser,
    set_consent_cookie,
    set_visitor_cookie,
)
from personalize.visitors.simulated import VIEW_AS_PARAMETER as VIEW_AS_PARAMETER
from personalize.visitors.simulated import (
    SimulatedVisitor,
    hint_simulating,
    request_visitor,
    started_simulating,
)
from personalize.visitors.simulated import may_view_as as may_view_as
from personalize.visitors.skip_paths import is_skipped
from personalize.visitors.stand_in import rendered_as_anonymous
from personalize.visitors.visitor import Visitor, _current_visitor

logger = logging.getLogger(__name__)
# VIEW_AS_PARAMETER and may_view_as stay importable from here, where they were defined before.

_SAFE_METHODS = frozenset({"GET", "HEAD"})
#: Request attribute where the ``before_serve_page`` hook leaves the Wagtail page being served.
PAGE_ATTRIBUTE = "_personalize_page"


def _signed_out(request: HttpRequest, visitor: Visitor) -> bool:
    """Whether the page is rendered for a simulated visitor who is not signed in.

    Wagtail's previews (its dummy requests) choose their visitor and user in
    :meth:`~personalize.pages.PersonalizedPageMixin.serve_preview`.
    """
    if getattr(request, "is_dummy", False):
        return False
    return isinstance(visitor, SimulatedVisitor) and not visitor.signed_in


def _prefetch_keys(request: HttpRequest) -> list[str]:
    visitor = getattr(request, "visitor", None)
    return visitor.prefetch_keys() if isinstance(visitor, Visitor) else []


class PersonalizeMiddleware:
    """Attach a lazy :class:`~personalize.visitors.visitor.Visitor` as ``request.visitor``.

    Place it after ``AuthenticationMiddleware``. Nothing is computed unless something reads
    ``request.visitor``. For a visitor who allowed personalization, the visit's landing
    attribution (the GA4-style channel) is kept in a signed cookie, Wagtail page views are
    tracked into the profile (``TRACK_PAGE_VIEWS``), and a new visitor gets their id cookie.
    Logout and erasure delete those cookies again. Requests to the admin, static files, media
    and ``SKIP_PATHS`` get ``request.visitor`` and nothing else
    (:mod:`personalize.visitors.skip_paths`). An editor's simulated visitor who is not signed in
    gets the page rendered signed out (:mod:`personalize.visitors.stand_in`).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if is_skipped(request):
            return self._serve_skipped(request)
        # The request's cache reads (versions, the visitor's profile copy) in one round trip.
        with request_reads(lambda: _prefetch_keys(request)):
            return self._serve(request)

    def _serve(self, request: HttpRequest) -> HttpResponse:
        # An editor's simulation or "view as" (personalize.visitors.simulated), else the visitor.
        visitor = request_visitor(request)
        request.visitor = visitor  # type: ignore[attr-defined]
        token = _current_visitor.set(visitor)
        try:
            keyed = self._decide(request, visitor) if visitor.is_real else None
            answered = self._answer(request, visitor, keyed) if keyed is not None else None
            if answered is not None:
                response = answered
            else:
                # A simulated visitor who is not signed in gets the page signed out ("Log in");
                # the editor is request.user again for the bar and the middleware outside.
                signed_out = _signed_out(request, visitor)
                with rendered_as_anonymous(request) if signed_out else nullcontext():
                    response = self.get_response(request)
            # Before tracking reads the visitor: only what the render read counts.
            uncovered = visitor.uncovered
        finally:
            _current_visitor.reset(token)
        # The "Simulating: …" bar, for the visitor the page was rendered for (a preview's own).
        show_simulation(request, response)
        if not visitor.is_real:
            # Nothing stored or counted, no visitor cookie, and no cache may keep the page.
            if started_simulating(request):  # "view as" from a link: later pages look for it
                hint_simulating(request, response, on=True)
            patch_cache_control(response, private=True, no_store=True)
            return response
        page: object = getattr(request, PAGE_ATTRIBUTE, None)
        if answered is not None and keyed is not None:
            page = keyed.index.facts()
        counted_before = keyed is not None and counted_by_preflight(request, keyed)
        tracks = bool(
            page is not None
            and not counted_before
            and personalize_settings.TRACK_PAGE_VIEWS
            and request.method == "GET"
            and response.status_code in (200, 204)
        )
        if (
            request.method in _SAFE_METHODS
            and response.status_code < 400
            and not visitor.forget_browser
            and self._remembers_attribution(visitor, tracks)
        ):
            # Before tracking, which refreshes the visitor: the context's attribution is reused.
            self._store_attribution(request, visitor, response)
        if tracks:
            self._track_page_view(request, page)
        if not counted_before:
            served = response.status_code in (200, 204)
            page_view = page is not None and request.method == "GET" and served
            record_request(visitor, page_view=page_view)
        self._write_cookies(request, visitor, response)
        if keyed is not None:
            from_cache = answered is not None
            share(request, response, visitor, keyed, uncovered=uncovered, from_cache=from_cache)
        elif visitor.used:
            # The content depended on who asked: no shared cache may serve it to someone else.
            patch_cache_control(response, private=True)
        return response

    @staticmethod
    def _decide(request: HttpRequest, visitor: Visitor) -> Keyed | None:
        """The page's decisions for this visitor, before anything renders (None: not a page, or
        no key wanted)."""
        if request.method not in _SAFE_METHODS or not keys_wanted(request):
            return None
        with visitor.covered():
            return decide_request(request, visitor)

    @staticmethod
    def _answer(request: HttpRequest, visitor: Visitor, keyed: Keyed) -> HttpResponse | None:
        """A response without rendering: the key alone (a shared cache asks), or a stored page."""
        return preflight(request, keyed) or cached_response(request, visitor, keyed)

    def _serve_skipped(self, request: HttpRequest) -> HttpResponse:
        """A request personalization cannot affect (see :mod:`personalize.visitors.skip_paths`).

        ``request.visitor`` is there for code that asks, and cookie changes the request made
        (logging out of the admin forgets the browser) are applied; nothing else is done.
        """
        visitor = Visitor(request)
        request.visitor = visitor  # type: ignore[attr-defined]
        token = _current_visitor.set(visitor)
        try:
            response = self.get_response(request)
        finally:
            _current_visitor.reset(token)
        self._write_cookies(request, visitor, response)
        return response

    @staticmethod
    def _track_page_view(request: HttpRequest, page: object) -> None:
        """Track the page view; a database that fails now costs the view, not the page."""
        try:
            track(request, "page_view", page=page)
        except DatabaseError as exc:
            logger.warning("page view not tracked, the database failed: %s", type(exc).__name__)

    @staticmethod
    def _remembers_attribution(visitor: Visitor, tracks: bool) -> bool:
        """Whether the visit's attribution may be kept in the browser (consent to it).

        A logged-in user whose browser holds no consent choice is governed by the choice
        stored on their account. Reading it costs a profile load, worth it only when the
        request personalized or tracks a page view (which read the profile anyway); otherwise
        the attribution is not remembered for this request.
        """
        if visitor.consent_reads_profile() and not (visitor.used or tracks):
            return False
        return visitor.consent.allows(PERSONALIZATION)

    @staticmethod
    def _write_cookies(request: HttpRequest, visitor: Visitor, response: HttpResponse) -> None:
        """Apply what the request changed about the browser's memory of the visitor."""
        cookie = None if visitor.forget_browser else visitor.outgoing_cookie()
        if visitor.forget_browser:
            forget_browser(response)
        elif cookie is not None:
            set_visitor_cookie(request, response, cookie)
        if visitor.forget_consent:
            response.delete_cookie(personalize_settings.CONSENT_COOKIE, samesite="Lax")
        elif visitor.pending_consent is not None:
            set_consent_cookie(request, response, *visitor.pending_consent)
        if visitor.forget_browser or cookie is not None or visitor.pending_consent:
            patch_cache_control(response, private=True, no_store=True)

    def _store_attribution(
        self, request: HttpRequest, visitor: Visitor, response: HttpResponse
    ) -> None:
        if "context" in visitor.__dict__:
            attribution, refresh = (
                visitor.context.attributes["referral"],
                visitor.context.refresh_attribution,
            )
        else:
            attribution, refresh = visit_attribution(request)
        if not refresh:
            return
        conf = personalize_settings
        secure = conf.ATTRIBUTION_COOKIE_SECURE
        response.set_cookie(
            conf.ATTRIBUTION_COOKIE,
            dump_attribution(attribution),
            max_age=conf.ATTRIBUTION_TIMEOUT,
            secure=cookie_secure(request) if secure is None else bool(secure),
            httponly=True,
            samesite="Lax",
        )
        # The cookie belongs to one visitor: no shared cache may keep this response.
        patch_cache_control(response, private=True)


class PersonalizeCacheMiddleware:
    """Let shared caches and the page cache keep personalized pages, per decision key.

    Place it first in ``MIDDLEWARE`` (it must see the response after every other middleware)
    and set ``PERSONALIZE["PAGE_CACHE_TIMEOUT"]``. :class:`PersonalizeMiddleware` decides which
    responses are shareable; this one makes a response private after all when a middleware
    further out set a cookie, takes the session's ``Cookie`` out of ``Vary`` (the response
    depends on cookies only through its key), and stores the response in the page cache. See
    docs/how-to/cdn.md.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        finish(request, response)
        return response
