"""Django system checks for the PERSONALIZE settings."""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured

from personalize.conf import personalize_settings
from personalize.profiles import profile_store_class


@register(Tags.compatibility)
def check_settings(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """Report settings that cannot work and geo set-ups that will only give unknowns."""
    messages: list[Any] = []
    try:
        personalize_settings.reload()
        personalize_settings.trusted_networks  # noqa: B018  (parses and validates)
        personalize_settings.user_fields  # noqa: B018
        personalize_settings.consent_mode  # noqa: B018
        profile_store_class()
    except ImproperlyConfigured as exc:
        return [Error(str(exc), id="personalize.E001")]
    if "wagtail.contrib.settings" not in settings.INSTALLED_APPS:
        messages.append(
            Error(
                "wagtail.contrib.settings is not installed: journey stages, score decay and the "
                "consent banner's texts are edited as a Wagtail setting.",
                hint="Add 'wagtail.contrib.settings' to INSTALLED_APPS.",
                id="personalize.E003",
            )
        )
    path = personalize_settings.GEOIP_PATH
    provider = personalize_settings.GEO_PROVIDER
    if provider.endswith("GeoIP2Provider"):
        if not path:
            messages.append(
                Warning(
                    "No GeoIP2 database configured: geo attributes come only from trusted CDN "
                    "headers and are unknown otherwise.",
                    hint="Download a GeoLite2/GeoIP2 City .mmdb file and set "
                    "PERSONALIZE['GEOIP_PATH'] to its path (see docs/how-to/geo.md).",
                    id="personalize.W001",
                )
            )
        elif not os.path.isfile(path):
            messages.append(
                Warning(
                    f"PERSONALIZE['GEOIP_PATH'] = {str(path)!r} is not a file: geo lookups give "
                    "unknowns.",
                    hint="Point GEOIP_PATH at a GeoIP2 City or Country .mmdb file.",
                    id="personalize.W002",
                )
            )
    if personalize_settings.ANALYTICS_ENABLED and not settings.DEBUG and not _shared_cache():
        messages.append(
            Warning(
                "Analytics count in process memory: CACHE_ALIAS is not a django-redis cache, so "
                "each web process counts on its own and personalize_flush_analytics sees nothing.",
                hint="Point PERSONALIZE['CACHE_ALIAS'] at a django_redis.cache.RedisCache, or set "
                "PERSONALIZE['ANALYTICS_ENABLED'] = False.",
                id="personalize.W003",
            )
        )
    middleware = list(getattr(settings, "MIDDLEWARE", []))
    ours = "personalize.middleware.PersonalizeMiddleware"
    auth = "django.contrib.auth.middleware.AuthenticationMiddleware"
    if (
        ours in middleware
        and auth in middleware
        and middleware.index(ours) < middleware.index(auth)
    ):
        messages.append(
            Error(
                "PersonalizeMiddleware must come after AuthenticationMiddleware.",
                hint="Move 'personalize.middleware.PersonalizeMiddleware' below "
                "AuthenticationMiddleware in MIDDLEWARE.",
                id="personalize.E002",
            )
        )
    return messages


def _shared_cache() -> bool:
    """Whether the configured cache is a django-redis cache (shared by every process)."""
    backend = settings.CACHES.get(personalize_settings.CACHE_ALIAS, {}).get("BACKEND", "")
    return bool(backend.startswith("django_redis."))
