"""Requests personalization cannot affect: the admin, static files, media and ``SKIP_PATHS``.

:class:`~personalize.middleware.PersonalizeMiddleware` still attaches ``request.visitor`` to
them (code may read it), but does no work of its own after the response: no attribution
cookie, no page tracking, no analytics, no ``Cache-Control`` change and no profile read.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest
from django.urls import NoReverseMatch, get_script_prefix, reverse
from django.utils.translation import get_language

from personalize.conf import personalize_settings

#: The settings the prefixes are derived from; a change to any of them recomputes them.
_SOURCES = frozenset({"STATIC_URL", "MEDIA_URL", "INSTALLED_APPS", "PERSONALIZE"})
#: Prefixes per (URLconf, script prefix, language): the admin's URLs are reversed once each
#: (a language matters only when the admin's URLs sit inside ``i18n_patterns``).
_prefixes: dict[tuple[str, str, str | None], tuple[str, ...]] = {}


def is_skipped(request: HttpRequest) -> bool:
    """Whether personalization skips this request (admin, static, media or ``SKIP_PATHS``).

    Args:
        request: the current request; its ``path`` (including any script prefix) is compared.

    Returns:
        True when the path starts with one of :func:`skipped_prefixes`.
    """
    urlconf = getattr(request, "urlconf", None) or settings.ROOT_URLCONF
    return request.path.startswith(skipped_prefixes(urlconf))


def skipped_prefixes(urlconf: Any) -> tuple[str, ...]:
    """The path prefixes skipped under ``urlconf``, computed once per URLconf.

    Args:
        urlconf: the URLconf module or its dotted path (``request.urlconf`` or
            ``ROOT_URLCONF``).

    Returns:
        The Wagtail admin's and Django admin's prefixes (when their URLs are in ``urlconf``),
        ``STATIC_URL`` and ``MEDIA_URL`` (when served from this host) and ``SKIP_PATHS``.

    Raises:
        ImproperlyConfigured: ``SKIP_PATHS`` is not a list of paths starting with ``/``.
    """
    name = urlconf if isinstance(urlconf, str) else urlconf.__name__
    key = (name, get_script_prefix(), get_language())
    prefixes = _prefixes.get(key)
    if prefixes is None:
        found = [
            *_admin_prefixes(urlconf),
            *_served_url_prefixes(),
            *_configured_prefixes(),
        ]
        # A bare "/" would skip the whole site: never derive that from a setting.
        prefixes = tuple(dict.fromkeys(p for p in found if p != "/"))
        _prefixes[key] = prefixes
    return prefixes


def _admin_prefixes(urlconf: Any) -> list[str]:
    names = ["wagtailadmin_home"]
    if apps.is_installed("django.contrib.admin"):
        names.append("admin:index")
    prefixes = []
    for name in names:
        try:
            prefixes.append(reverse(name, urlconf=urlconf))
        except NoReverseMatch:
            continue
    return prefixes


def _served_url_prefixes() -> list[str]:
    prefixes = []
    for url in (settings.STATIC_URL, settings.MEDIA_URL):
        parts = urlsplit(str(url or ""))
        # A URL on another host (a CDN) is never requested from this site.
        if not parts.netloc and parts.path.startswith("/"):
            prefixes.append(parts.path)
    return prefixes


def _configured_prefixes() -> list[str]:
    value = personalize_settings.SKIP_PATHS
    if isinstance(value, str) or not all(isinstance(p, str) and p[:1] == "/" for p in value):
        raise ImproperlyConfigured(
            "PERSONALIZE['SKIP_PATHS'] must be a list of path prefixes starting with '/', "
            f"e.g. ['/healthz', '/sitemap.xml'], not {value!r}."
        )
    return list(value)


@receiver(setting_changed)
def _settings_changed(*, setting: str, **kwargs: Any) -> None:
    if setting in _SOURCES:
        _prefixes.clear()
