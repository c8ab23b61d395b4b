"""Template tags of wagtail-personalize: ``{% load personalize_tags %}``."""

from __future__ import annotations

from django import template
from django.templatetags.static import static
from django.utils.html import format_html
from django.utils.safestring import SafeString

from personalize.conf import personalize_settings

register = template.Library()


@register.simple_tag
def personalize_timezone_script() -> SafeString:
    """A deferred ``<script>`` that stores the browser's time zone in the ``pz_tz`` cookie."""
    return format_html(
        '<script src="{}" data-cookie="{}" defer></script>',
        static("personalize/timezone.js"),
        personalize_settings.TIMEZONE_COOKIE,
    )
