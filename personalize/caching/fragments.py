"""Signed addresses of per-visitor fragments (``{% personalize_fragment %}``).

The template name travels signed, so the fragment view renders only templates that the site's
own templates name.
"""

from __future__ import annotations

from django.core import signing
from django.urls import reverse

_SALT = "personalize.fragment"


def fragment_url(template_name: str) -> str:
    """The URL that renders ``template_name`` for the visitor who asks.

    The same for every render (no timestamp), so pages that show it stay byte-identical.
    """
    token = signing.Signer(salt=_SALT).sign_object(template_name, compress=True)
    return reverse("personalize:fragment", args=[token])


def fragment_template(token: str) -> str | None:
    """The template name a fragment URL carries, or None when it was not signed here."""
    try:
        name = signing.Signer(salt=_SALT).unsign_object(token)
    except (signing.BadSignature, ValueError):
        return None
    return name if isinstance(name, str) else None
