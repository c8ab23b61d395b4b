"""Signed addresses of per-visitor fragments (``{% personalize_fragment %}``).

The template name travels signed, so the fragment view renders only templates that the site's
own templates name.
"""

from __future__ import annotations

from django.core import signing
from django.urls import reverse

_SALT = "personalize.fragment"


def fragment_url(template_name: str) -> str:
    """The URL that renders ``template_name`` for the visitor who asks."""
    token = signing.dumps(template_name, salt=_SALT, compress=True)
    return reverse("personalize:fragment", args=[token])


def fragment_template(token: str) -> str | None:
    """The template name a fragment URL carries, or None when it was not signed here."""
    try:
        name = signing.loads(token, salt=_SALT)
    except signing.BadSignature:
        return None
    return name if isinstance(name, str) else None
