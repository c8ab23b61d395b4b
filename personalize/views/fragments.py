"""Per-visitor fragments of a shareable page, fetched by the browser after the page loads.

A page that a shared cache keeps for every visitor with the same decisions cannot hold what is
one visitor's own: a form's CSRF token, a "your visit" panel, the consent banner's form.
``{% personalize_fragment "template.html" %}`` leaves a placeholder in the page instead; a small
script (``personalize/fragments.js``) fetches the fragment from :func:`fragment` and puts it in
place. The template name travels signed, so only templates the site's own templates name can be
rendered (:mod:`personalize.caching.fragments`). Fragments are always private and never
stored. The same URL works as the ``src`` of an ESI include for caches that assemble pages
themselves.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template import TemplateDoesNotExist
from django.utils.cache import patch_cache_control
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET

from personalize.caching.fragments import fragment_template


@require_GET
def fragment(request: HttpRequest, token: str) -> HttpResponse:
    """Render a fragment for the request's visitor (private, never cached).

    The page's own path comes as ``?next=``; templates read it as ``personalize_page_path``
    (the consent banner sends the visitor back there).
    """
    template_name = fragment_template(token)
    if template_name is None:
        raise Http404("No such fragment.")
    page_path = request.GET.get("next", "")
    if not page_path.startswith("/") or not url_has_allowed_host_and_scheme(
        page_path, allowed_hosts={request.get_host()}
    ):
        page_path = "/"
    try:
        response = render(
            request, template_name, {"personalize_page_path": page_path, "fragment": True}
        )
    except TemplateDoesNotExist:
        raise Http404("No such fragment.") from None
    patch_cache_control(response, private=True, no_store=True)
    response["X-Robots-Tag"] = "noindex"
    return response
