"""The response contract of a personalized page, for the middleware and for shared caches.

With ``PAGE_CACHE_TIMEOUT`` set, every response of a Wagtail page says its decision key in
``X-Personalize-Key`` (for a page without personalized, gated or preference blocks, the key
covers the consent choice alone).
When the response is shareable (:mod:`personalize.caching.policy`) and ``PAGE_CACHE_TIMEOUT`` is
set, it also says ``Vary: X-Personalize-Key`` and ``Cache-Control: public, max-age=0,
s-maxage=<seconds>``, the seconds cut at the next boundary of a time rule; otherwise it is
``private``, as before.

A shared cache finds the key before it looks up by asking the page itself with
``X-Personalize-Preflight: 1``: the answer is ``204`` with the key and the visitor's cookies, no
render and, warm, no query. The decisions are counted on that answer, so a response the cache
then serves is counted too; the fetch that fills the cache, sent by a trusted proxy with the same
key, is not counted again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils.cache import patch_cache_control, patch_vary_headers

from personalize.caching import responses
from personalize.caching.index import PageIndex, index_and_site
from personalize.caching.keys import PageDecisions, decide_page
from personalize.caching.policy import request_private_reason, response_private_reason
from personalize.conf import personalize_settings
from personalize.signals.network import is_trusted
from personalize.visitors.context import PAGE_LOCALE_ATTRIBUTE

#: The response header (and, from a shared cache, the request header) holding the key.
KEY_HEADER = "X-Personalize-Key"
#: Whether the page cache answered (``hit``), stored the response (``miss``) or could not.
CACHE_STATUS_HEADER = "X-Personalize-Cache"
#: The request header asking for the key only.
PREFLIGHT_HEADER = "X-Personalize-Preflight"
#: The middleware that finishes shared responses (before every middleware that sets cookies).
CACHE_MIDDLEWARE = "personalize.middleware.PersonalizeCacheMiddleware"
#: Middleware that may set a cookie or read one: the cache middleware must wrap them.
_WRAPPED = (
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "personalize.middleware.PersonalizeMiddleware",
)
#: Response attribute handing a shareable response to :data:`CACHE_MIDDLEWARE`.
SHARED = "_personalize_shared"


@dataclass(frozen=True, slots=True)
class Keyed:
    """A request for a personalized page, with its decisions.

    Attributes:
        site_id: the site the page belongs to.
        index: the page's index.
        decisions: the visitor's decisions and their key.
        sent: the key a shared cache sent with the request (after its preflight), or None.
    """

    site_id: int
    index: PageIndex
    decisions: PageDecisions
    sent: str | None = None


def keys_wanted(request: HttpRequest) -> bool:
    """Whether the request's page needs its key: a shared cache asks, or sharing is configured.

    Without either, pages render exactly as before keys existed (private when personalized),
    and the key costs nothing.
    """
    return (
        personalize_settings.page_cache_timeout > 0 or request.headers.get(PREFLIGHT_HEADER) == "1"
    )


def decide_request(request: HttpRequest, visitor: Any) -> Keyed | None:
    """Take the page's decisions for the request's visitor (None: not a live Wagtail page).

    The key is also put on the request as the ``X-Personalize-Key`` header, so that a cache
    middleware placed after this one (Django's ``FetchFromCacheMiddleware``) varies on it.
    """
    found = index_and_site(request)
    if found is None:
        return None
    index, site_id = found
    # The page is known before it is served: its language is the visitor's page.locale.
    setattr(request, PAGE_LOCALE_ATTRIBUTE, index.locale)
    sent = request.META.get("HTTP_X_PERSONALIZE_KEY")
    # Every page, personalized or not: the consent banner and the scripts a page carries depend
    # on the visitor's consent choice, which is part of the key.
    decisions = decide_page(visitor, index, site_id=site_id)
    request.META["HTTP_X_PERSONALIZE_KEY"] = decisions.key
    return Keyed(site_id, index, decisions, sent if isinstance(sent, str) else None)


def preflight(request: HttpRequest, keyed: Keyed) -> HttpResponse | None:
    """The key-only answer when a shared cache asks for it (``X-Personalize-Preflight: 1``)."""
    if request.headers.get(PREFLIGHT_HEADER) != "1":
        return None
    response = HttpResponse(status=204)
    response[KEY_HEADER] = keyed.decisions.key
    return response


def cache_middleware_installed() -> bool:
    """Whether :data:`CACHE_MIDDLEWARE` wraps the session, CSRF, messages and personalization
    middleware (only then can responses be shared)."""
    middleware = list(getattr(settings, "MIDDLEWARE", None) or ())
    if CACHE_MIDDLEWARE not in middleware:
        return False
    position = middleware.index(CACHE_MIDDLEWARE)
    return all(middleware.index(m) > position for m in _WRAPPED if m in middleware)


def _sharing() -> bool:
    return personalize_settings.page_cache_timeout > 0 and cache_middleware_installed()


def cached_response(request: HttpRequest, visitor: Any, keyed: Keyed) -> HttpResponse | None:
    """The stored response for the request's decisions, or None."""
    if not (_sharing() and personalize_settings.PAGE_CACHE_STORE):
        return None
    if request_private_reason(request, visitor) is not None:
        return None
    return responses.lookup(request, keyed.site_id, keyed.decisions)


def counted_by_preflight(request: HttpRequest, keyed: Keyed) -> bool:
    """Whether a trusted shared cache already counted these decisions with a preflight."""
    if keyed.sent != keyed.decisions.key:
        return False
    return is_trusted(request.META.get("REMOTE_ADDR"), personalize_settings.trusted_networks)


def share(
    request: HttpRequest,
    response: HttpResponseBase,
    visitor: Any,
    keyed: Keyed,
    *,
    uncovered: bool,
    from_cache: bool,
) -> None:
    """Put the key on the response and say whether shared caches may keep it.

    Args:
        request: the request.
        response: its response, cookies already written.
        visitor: the request's visitor.
        keyed: the page's decisions.
        uncovered: whether the render read the visitor outside the block decisions.
        from_cache: the response came from the page cache (it is not stored again).
    """
    if request.headers.get(PREFLIGHT_HEADER) == "1" and response.status_code == 204:
        patch_cache_control(response, private=True, no_store=True)
        return
    response[KEY_HEADER] = keyed.decisions.key
    reason = "visitor" if uncovered else response_private_reason(request, response, visitor)
    max_age = keyed.decisions.max_age(personalize_settings.page_cache_timeout)
    if reason is None and _sharing() and max_age > 0:
        patch_vary_headers(response, (KEY_HEADER,))
        patch_cache_control(response, public=True, max_age=0, s_maxage=max_age)
        if from_cache:
            response[CACHE_STATUS_HEADER] = "hit"
        setattr(response, SHARED, (keyed, from_cache))
        return
    patch_cache_control(response, private=True)
    if settings.DEBUG and reason is not None:
        response["X-Personalize-Private"] = reason


def finish(request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
    """Finish a response the middleware found shareable, once every middleware has run.

    A cookie set further out (a session that changed, a CSRF cookie) makes it private after all.
    Otherwise the response depends on the request's cookies only through its key, so the
    ``Cookie`` that Django's session middleware adds to ``Vary`` is taken out again, and the
    response is stored in the page cache.
    """
    shared = getattr(response, SHARED, None)
    if shared is None:
        return response
    keyed, from_cache = shared
    if response.cookies:
        response["Cache-Control"] = "private"
        return response
    vary = [
        v.strip()
        for v in str(response.get("Vary", "")).split(",")
        if v.strip() and v.strip().lower() != "cookie"
    ]
    response["Vary"] = ", ".join(vary)
    if not from_cache and personalize_settings.PAGE_CACHE_STORE and request.method == "GET":
        stored = responses.store(request, response, keyed.site_id, keyed.decisions)
        response[CACHE_STATUS_HEADER] = "miss" if stored else "pass"
    return response
