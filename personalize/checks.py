"""Django system checks for the PERSONALIZE settings."""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured

from personalize.analytics.samples import sample_size
from personalize.conf import personalize_settings
from personalize.profiles.store import profile_store_class
from personalize.visitors.ratelimit import rate_limits


@register(Tags.compatibility)
def check_settings(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """Report settings that cannot work and geo set-ups that will only give unknowns."""
    messages: list[Any] = []
    try:
        personalize_settings.reload()
        personalize_settings.trusted_networks  # noqa: B018  (parses and validates)
        personalize_settings.user_fields  # noqa: B018
        personalize_settings.consent_mode  # noqa: B018
        personalize_settings.geo_headers  # noqa: B018
        personalize_settings.analytics_file  # noqa: B018
        personalize_settings.report_thresholds  # noqa: B018
        rate_limits()
        profile_store_class()
        sample_size()
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
    if personalize_settings.TRUSTED_PROXIES and personalize_settings.GEO_HEADERS is None:
        messages.append(
            Warning(
                "TRUSTED_PROXIES is set but GEO_HEADERS is not: no CDN's geolocation headers "
                "(CF-IPCountry, CloudFront-Viewer-Country, ...) are read.",
                hint="Set PERSONALIZE['GEO_HEADERS'] to the CDN in front of the site "
                "('cloudflare', 'cloudfront', 'vercel', 'appengine' or a dict of header names), "
                "or to [] when none adds them (see docs/how-to/geo.md).",
                id="personalize.W007",
            )
        )
    messages.extend(_page_cache_messages())
    path = personalize_settings.GEOIP_PATH
    provider = personalize_settings.GEO_PROVIDER
    if provider.endswith("GeoIP2Provider"):
        if not path:
            messages.append(
                Warning(
                    "No GeoIP2 database configured: geo attributes come only from the CDN "
                    "headers named in GEO_HEADERS and are unknown otherwise.",
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
    if (
        personalize_settings.ANALYTICS_ENABLED
        and not settings.DEBUG
        and not _shared_cache()
        and personalize_settings.analytics_file is None
    ):
        messages.append(
            Warning(
                "Analytics count in process memory: CACHE_ALIAS is not a django-redis cache, so "
                "each web process counts on its own and personalize_flush_analytics sees nothing.",
                hint="Point PERSONALIZE['CACHE_ALIAS'] at a django_redis.cache.RedisCache, set "
                "PERSONALIZE['ANALYTICS_FILE'] for a site served by one process, or set "
                "PERSONALIZE['ANALYTICS_ENABLED'] = False.",
                id="personalize.W003",
            )
        )
    messages.extend(_analytics_file_messages())
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


def _page_cache_messages() -> list[Any]:
    """PAGE_CACHE_TIMEOUT must be a whole number of seconds, and sharing needs the middleware."""
    from personalize.caching.sharing import CACHE_MIDDLEWARE, cache_middleware_installed

    timeout = personalize_settings.PAGE_CACHE_TIMEOUT
    if isinstance(timeout, bool) or not isinstance(timeout, int) or timeout < 0:
        return [
            Error(
                f"PERSONALIZE['PAGE_CACHE_TIMEOUT'] = {timeout!r} is not a number of seconds.",
                hint="Set it to 0 (personalized pages stay private) or to the longest time, in "
                "seconds, a shared cache may keep a personalized page (e.g. 300).",
                id="personalize.E004",
            )
        ]
    if timeout > 0 and not cache_middleware_installed():
        return [
            Warning(
                "PAGE_CACHE_TIMEOUT is set but personalized pages stay private: "
                f"{CACHE_MIDDLEWARE} is not installed before the session, CSRF, messages and "
                "personalization middleware.",
                hint=f"Put '{CACHE_MIDDLEWARE}' first in MIDDLEWARE (after WhiteNoise, if used); "
                "see docs/how-to/cdn.md.",
                id="personalize.W008",
            )
        ]
    return []


def _analytics_file_messages() -> list[Any]:
    """The analytics file serves one process: warn when WEB_CONCURRENCY says there are more."""
    if (
        not personalize_settings.ANALYTICS_ENABLED
        or personalize_settings.analytics_file is None
        or _shared_cache()
    ):
        return []
    workers = os.environ.get("WEB_CONCURRENCY", "").strip()
    if not (workers.isdigit() and int(workers) > 1):
        return []
    return [
        Warning(
            f"PERSONALIZE['ANALYTICS_FILE'] is used with WEB_CONCURRENCY={workers}: the file "
            "store is for a site served by one process; with several, a visitor's first "
            "exposure and unique visit can be counted once per process.",
            hint="Point PERSONALIZE['CACHE_ALIAS'] at a django_redis.cache.RedisCache (see "
            "docs/how-to/production.md).",
            id="personalize.W009",
        )
    ]


def _shared_cache() -> bool:
    """Whether the configured cache is a django-redis cache (shared by every process)."""
    from django.utils.module_loading import import_string
    from django_redis.cache import RedisCache

    backend = settings.CACHES.get(personalize_settings.CACHE_ALIAS, {}).get("BACKEND", "")
    try:
        backend_class = import_string(backend)
    except ImportError:
        return False
    return isinstance(backend_class, type) and issubclass(backend_class, RedisCache)


#: What a Redis that holds the only copy of counters must say, per ``CONFIG GET`` parameter.
REQUIRED_REDIS_CONFIG = {"appendonly": "yes", "maxmemory-policy": "noeviction"}


@register(Tags.caches)
def check_redis(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """Warn when the package's Redis could stall workers or lose the only copy of counters."""
    if not _shared_cache():
        return []
    options = settings.CACHES[personalize_settings.CACHE_ALIAS].get("OPTIONS", {})
    messages: list[Any] = []
    missing = [o for o in ("SOCKET_CONNECT_TIMEOUT", "SOCKET_TIMEOUT") if not options.get(o)]
    if missing:
        messages.append(
            Warning(
                f"CACHES[{personalize_settings.CACHE_ALIAS!r}] sets no {' or '.join(missing)}: "
                "a hung Redis holds each web worker until the operating system gives up.",
                hint="Set OPTIONS = {'SOCKET_CONNECT_TIMEOUT': 0.25, 'SOCKET_TIMEOUT': 0.25} "
                "(see docs/how-to/production.md).",
                id="personalize.W004",
            )
        )
    if personalize_settings.ANALYTICS_ENABLED:
        config = redis_config()
        for name, wanted in REQUIRED_REDIS_CONFIG.items():
            value = config.get(name)
            if value is not None and value != wanted:
                messages.append(
                    Warning(
                        f"The Redis behind CACHES[{personalize_settings.CACHE_ALIAS!r}] runs with "
                        f"{name} {value}: analytics counters, test assignments and exposures "
                        "live only there until the flush, and "
                        + (
                            "a restart loses them."
                            if name == "appendonly"
                            else "eviction drops them."
                        ),
                        hint=f"Configure Redis with '{name} {wanted}', or give the package a Redis "
                        "of its own that has it (PERSONALIZE['CACHE_ALIAS']; see "
                        "docs/how-to/production.md).",
                        id="personalize.W005" if name == "appendonly" else "personalize.W006",
                    )
                )
    return messages


def redis_config() -> dict[str, str]:
    """``appendonly`` and ``maxmemory-policy`` of the package's Redis (empty if unreachable).

    ``CONFIG GET`` where allowed; managed services that disable it still answer ``INFO``.
    """
    from django_redis import get_redis_connection

    from personalize.cache import CACHE_ERRORS

    try:
        client = get_redis_connection(personalize_settings.CACHE_ALIAS)
    except CACHE_ERRORS:
        return {}
    config: dict[str, str] = {}
    try:
        for name in REQUIRED_REDIS_CONFIG:
            config.update(_text_dict(client.config_get(name)))
        return config
    except CACHE_ERRORS:
        pass
    try:
        info = {**client.info("persistence"), **client.info("memory")}
    except CACHE_ERRORS:
        return {}
    if "aof_enabled" in info:
        config["appendonly"] = "yes" if str(info["aof_enabled"]) == "1" else "no"
    if "maxmemory_policy" in info:
        config["maxmemory-policy"] = str(info["maxmemory_policy"])
    return config


def _text_dict(raw: Any) -> dict[str, str]:
    def text(value: Any) -> str:
        return value.decode() if isinstance(value, bytes) else str(value)

    return {text(key): text(value) for key, value in dict(raw).items()}
