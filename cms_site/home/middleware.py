"""Demo only: play the CDN, so a visitor on 127.0.0.1 can try the country signal in a browser.

A real CDN (Cloudflare, CloudFront) adds ``CF-IPCountry`` and friends to requests it forwards.
The demo trusts loopback as its CDN; this middleware adds the header from a cookie the "Try
personalization" page sets, exactly as such a CDN would. It does nothing for other peers.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

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
