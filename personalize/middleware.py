"""PersonalizeMiddleware: ``request.visitor`` for every request, attribution for every visit."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control

from personalize.attribution import dump_attribution
from personalize.conf import personalize_settings
from personalize.context import visit_attribution
from personalize.visitor import Visitor

_SAFE_METHODS = frozenset({"GET", "HEAD"})


class PersonalizeMiddleware:
    """Attach a lazy :class:`~personalize.visitor.Visitor` as ``request.visitor``.

    Place it after ``AuthenticationMiddleware``. Nothing is computed unless something reads
    ``request.visitor``; on page responses the visit's landing attribution (the GA4-style
    channel) is kept in a signed cookie so that it persists while the visitor browses the site.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        visitor = Visitor(request)
        request.visitor = visitor  # type: ignore[attr-defined]
        response = self.get_response(request)
        if request.method in _SAFE_METHODS and response.status_code < 400:
            self._store_attribution(request, visitor, response)
        return response

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
            secure=request.is_secure() if secure is None else bool(secure),
            httponly=True,
            samesite="Lax",
        )
        # The cookie belongs to one visitor: no shared cache may keep this response.
        patch_cache_control(response, private=True)
