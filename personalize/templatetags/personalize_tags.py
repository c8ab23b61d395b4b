"""Template tags of wagtail-personalize: ``{% load personalize_tags %}``.

- ``{% segment "slug" %}…{% else %}…{% endsegment %}``: render by real segment membership.
- ``{{ request|in_segment:"slug" }}`` (or on ``request.visitor``): True/False for ``{% if %}``.
- ``{% personalize_timezone_script %}``: lets local-time rules use the browser's time zone (only
  for visitors who allowed personalization: the time zone cookie is stored data).
- ``{% personalize_consent_banner %}``: the consent banner, until the visitor has chosen.
- ``{% personalize_privacy_url %}``: the privacy page's URL (``{% url 'personalize:privacy' %}``).
"""

from __future__ import annotations

from typing import Any

from django import template
from django.middleware.csrf import get_token
from django.template import TemplateDoesNotExist
from django.template.base import FilterExpression, NodeList, Parser, Token
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from personalize.conf import personalize_settings
from personalize.signals.consent import OPTIONAL_PURPOSES, PERSONALIZATION

register = template.Library()


def _visitor_of(obj: Any) -> Any:
    """The visitor behind a request, a visitor, or a template context."""
    if obj is None:
        return None
    if hasattr(obj, "in_segment"):
        return obj
    return getattr(obj, "visitor", None)


@register.filter
def in_segment(obj: Any, slug: str) -> bool:
    """``{% if request|in_segment:"mobile-visitors" %}``: real membership of a live segment."""
    visitor = _visitor_of(obj)
    return bool(visitor is not None and visitor.in_segment(str(slug)))


class SegmentNode(template.Node):
    """Renders one branch by the visitor's membership of a segment."""

    def __init__(self, slug: FilterExpression, inside: NodeList, outside: NodeList) -> None:
        self.slug = slug
        self.inside = inside
        self.outside = outside

    def render(self, context: template.Context) -> str:
        visitor = _visitor_of(context.get("request"))
        slug = self.slug.resolve(context)
        if visitor is not None and slug and visitor.in_segment(str(slug)):
            return str(self.inside.render(context))
        return str(self.outside.render(context))


@register.tag("segment")
def do_segment(parser: Parser, token: Token) -> SegmentNode:
    """``{% segment "slug" %}for the segment{% else %}for everyone else{% endsegment %}``."""
    bits = token.split_contents()
    if len(bits) != 2:
        raise template.TemplateSyntaxError(
            f'{bits[0]} takes one argument, the segment slug: {{% segment "mobile-visitors" %}}'
        )
    slug = parser.compile_filter(bits[1])
    inside = parser.parse(("else", "endsegment"))
    outside = NodeList()
    if parser.next_token().contents == "else":
        outside = parser.parse(("endsegment",))
        parser.delete_first_token()
    return SegmentNode(slug, inside, outside)


def _request_visitor(context: template.Context) -> Any:
    """The visitor of the context's request (attached when the middleware did not run)."""
    from personalize.visitors.visitor import visitor_of

    request = context.get("request")
    return None if request is None else visitor_of(request)


@register.simple_tag(takes_context=True)
def personalize_timezone_script(context: template.Context) -> SafeString:
    """A deferred ``<script>`` that stores the browser's time zone in the ``pz_tz`` cookie.

    Outputs nothing unless the visitor allowed personalization (the cookie is stored data).
    """
    visitor = _request_visitor(context)
    if visitor is None:
        return mark_safe("")  # noqa: S308 - empty
    # What the page contains now depends on the visitor's choice.
    visitor.used = True
    if not visitor.consent.allows(PERSONALIZATION):
        return mark_safe("")  # noqa: S308 - empty
    return format_html(
        '<script src="{}" data-cookie="{}" defer></script>',
        static("personalize/timezone.js"),
        personalize_settings.TIMEZONE_COOKIE,
    )


@register.simple_tag(takes_context=True)
def personalize_consent_banner(context: template.Context) -> SafeString:
    """The consent banner (``personalize/consent_banner.html``) until the visitor has chosen.

    A plain form posting to ``personalize:consent``, so it works without JavaScript; its texts
    are edited in the admin (Settings → Personalization). Nothing is output once the visitor
    made a choice, on pages that set ``personalize_hide_banner`` (the privacy page), in
    previews (``request.is_preview``: the banner would cover the page), or without ``request``
    in the context.
    """
    from personalize.models.settings import banner_texts
    from personalize.profiles.scoring import current_config

    visitor = _request_visitor(context)
    if visitor is None or context.get("personalize_hide_banner") or _in_preview(context):
        return mark_safe("")  # noqa: S308 - empty
    visitor.used = True
    consent = visitor.consent
    if consent.explicit:
        return mark_safe("")  # noqa: S308 - empty
    texts = banner_texts(current_config().banner)
    request = visitor.request
    banner = render_to_string(
        "personalize/consent_banner.html",
        {
            "consent": consent,
            "texts": texts,
            "purposes": [
                {"name": p, "label": texts[f"{p}_label"], "granted": consent.allows(p)}
                for p in OPTIONAL_PURPOSES
            ],
            # In a fragment (personalize_fragment), the page the visitor is on.
            "next": context.get("personalize_page_path") or request.get_full_path(),
            "privacy_url": reverse("personalize:privacy"),
            # The form's token, without ``request=``: that would run every context processor
            # again for the banner.
            "csrf_token": get_token(request),
        },
    )
    return mark_safe(banner)  # noqa: S308 - rendered by the template engine (autoescaped)


def _in_preview(context: template.Context) -> bool:
    """Whether the context renders a Wagtail preview (``request.is_preview``)."""
    return bool(getattr(context.get("request"), "is_preview", False))


@register.simple_tag(takes_context=True)
def personalize_fragment(
    context: template.Context, template_name: str, label: str = ""
) -> SafeString:
    """A placeholder the browser fills with ``template_name`` rendered for the visitor.

    Keeps what is one visitor's own (a CSRF token, a "your visit" panel) out of a page that
    shared caches keep for many visitors: see :mod:`personalize.views.fragments`. In a preview
    the fragment is rendered in place, for the previewed visitor: fetched by the browser, it
    would show the editor's own visit (and the consent banner is left out of previews).

    Args:
        context: the template context (its ``request``).
        template_name: the fragment's template, rendered with the visitor's request.
        label: an accessible name for the region while it loads.
    """
    from personalize.caching.fragments import fragment_url

    if _in_preview(context):
        return _fragment_in_place(context["request"], template_name)
    return format_html(
        '<div data-pz-fragment="{}" aria-busy="true"{}></div><script src="{}" defer></script>',
        fragment_url(template_name),
        format_html(' aria-label="{}"', label) if label else "",
        static("personalize/fragments.js"),
    )


def _fragment_in_place(request: Any, template_name: str) -> SafeString:
    """A fragment rendered as the fragment view would, for a preview's own request."""
    try:
        html = render_to_string(
            template_name,
            {"personalize_page_path": request.get_full_path(), "fragment": True},
            request=request,
        )
    except TemplateDoesNotExist:
        return mark_safe("")  # noqa: S308 - empty
    return mark_safe(html)  # noqa: S308 - rendered by the template engine (autoescaped)


@register.simple_tag
def personalize_privacy_url() -> str:
    """The URL of the visitor's privacy page (``personalize:privacy``)."""
    return reverse("personalize:privacy")
