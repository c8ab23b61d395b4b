"""Demo only: the form on the "Try personalization" page that picks a simulated country."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from cms_site.home.middleware import _COUNTRY, COOKIE


@require_POST
def simulate_country(request: HttpRequest) -> HttpResponseRedirect:
    """Set (or clear) the simulated CDN country and go back."""
    target = request.POST.get("next") or "/try-it/"
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}):
        target = "/try-it/"
    response = HttpResponseRedirect(target)
    country = request.POST.get("country", "").upper()
    if _COUNTRY.match(country):
        response.set_cookie(COOKIE, country, max_age=86400, samesite="Lax")
    else:
        response.delete_cookie(COOKIE)
    return response
