"""Demo only: play the CDN, so a visitor on 127.0.0.1 can try the country signal in a browser.

A real CDN (Cloudflare, CloudFront) adds ``CF-IPCountry`` and friends to requests it forwards.
The demo trusts loopback as its CDN; this middleware adds the header from a cookie the "Try
personalization" page sets, exactly as such a CDN would. It does nothing for other peers.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation

COOKIE = "demo_country"
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_LOOPBACK = frozenset({"127.0.0.1", "::1"})


class DemoCdnMiddleware:
    """Add ``CF-IPCountry`` from the ``demo_country`` cookie for loopback visitors."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        country = request.COOKIES.get(COOKIE, "")
        if request.META.get("REMOTE_ADDR") in _LOOPBACK and _COUNTRY.match(country):
            request.META.setdefault("HTTP_CF_IPCOUNTRY", country)
        return self.get_response(request)


class DemoLanguageMiddleware:
    """The language of the URL: ``/de/…`` in German, every other path in ``LANGUAGE_CODE``.

    Django's ``LocaleMiddleware`` would also read the browser's ``Accept-Language`` (and add it to
    ``Vary``, so that shared caches keep a copy per browser language); the demo's languages are
    chosen by the URL alone (``i18n_patterns`` in cms_site/urls.py; see
    docs/how-to/translated-sites.md). The language is active for the request only.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = translation.get_language_from_path(request.path_info) or settings.LANGUAGE_CODE
        request.LANGUAGE_CODE = language  # type: ignore[attr-defined]
        with translation.override(language):
            response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response
