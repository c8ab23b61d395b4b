"""Template tags of wagtail-personalize: ``{% load personalize_tags %}``.

- ``{% segment "slug" %}…{% else %}…{% endsegment %}``: render by real segment membership.
- ``{{ request|in_segment:"slug" }}`` (or on ``request.visitor``): True/False for ``{% if %}``.
- ``{% personalize_timezone_script %}``: lets local-time rules use the browser's time zone.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.template.base import FilterExpression, NodeList, Parser, Token
from django.templatetags.static import static
from django.utils.html import format_html
from django.utils.safestring import SafeString

from personalize.conf import personalize_settings

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


@register.simple_tag
def personalize_timezone_script() -> SafeString:
    """A deferred ``<script>`` that stores the browser's time zone in the ``pz_tz`` cookie."""
    return format_html(
        '<script src="{}" data-cookie="{}" defer></script>',
        static("personalize/timezone.js"),
        personalize_settings.TIMEZONE_COOKIE,
    )
