"""Settings for wagtail-personalize.

All settings live in one dictionary, ``PERSONALIZE``, in the Django settings module. Missing keys
take their value from :data:`DEFAULTS`. The merged view is rebuilt whenever Django's
``setting_changed`` signal fires (``override_settings`` in tests).

Example::

    PERSONALIZE = {
        "TRUSTED_PROXIES": ["10.0.0.0/8"],
        "GEOIP_PATH": BASE_DIR / "GeoLite2-City.mmdb",
        "USER_FIELDS": ["first_name", "profile.plan"],
    }
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

from personalize.signals.network import parse_trusted_networks

#: Defaults for every key of ``settings.PERSONALIZE``; documented in docs/reference/settings.md.
DEFAULTS: dict[str, Any] = {
    "TRUSTED_PROXIES": [],
    "GEOIP_PATH": None,
    "GEO_PROVIDER": "personalize.signals.geoip.GeoIP2Provider",
    "USER_FIELDS": [],
    "TIMEZONE_COOKIE": "pz_tz",
    "ATTRIBUTION_COOKIE": "pz_attr",
    "ATTRIBUTION_TIMEOUT": 30 * 60,
    "ATTRIBUTION_COOKIE_SECURE": None,
    "OWN_HOSTS": [],
    "CACHE_ALIAS": "default",
    "CACHE_BACKOFF_SECONDS": 3.0,
    "CACHE_KEY_PREFIX": "personalize",
    "DEBUG_VIEW": None,
    "QUERY_PARAMETER_LIMIT": 50,
    "GATE_URL": None,
    "FRONTEND_KEYS": [],
    "GRAPHQL_MAX_DEPTH": 12,
    "GRAPHQL_MAX_QUERY_LENGTH": 10_000,
    "GRAPHQL_INTROSPECTION": None,
    "GRAPHQL_MAX_ALIASES": 30,
    "GRAPHQL_MAX_FIELDS": 300,
    "GRAPHQL_MAX_COST": 400,
    "GRAPHQL_FIELD_COSTS": {},
    "CONSENT_MODE": "opt-in",
    "CONSENT_COOKIE": "pz_consent",
    "CONSENT_COOKIE_AGE": 180 * 24 * 60 * 60,
    "VISITOR_COOKIE": "pz_vid",
    "VISITOR_COOKIE_AGE": 395 * 24 * 60 * 60,
    "COOKIE_SECURE": None,
    "PROFILE_STORE": "personalize.profiles.DatabaseProfileStore",
    "PROFILE_CACHE_TIMEOUT": 300,
    "PROFILE_RETENTION_DAYS": 395,
    "TRACK_PAGE_VIEWS": True,
    "EXPLAIN_LINKS": False,
    "ANALYTICS_ENABLED": True,
    "ANALYTICS_FILE": None,
    "ATTRIBUTION_WINDOW_DAYS": 7,
    "OPTIMIZE_REFRESH_SECONDS": 300,
    "REPORT_MIN_VISITORS": 100,
    "REPORT_MIN_CONVERSIONS": 10,
    "SKIP_PATHS": [],
    "RATE_LIMITS": {
        "mint": "60/m",
        "events": "120/m",
        "consent": "20/m",
        "preferences": "30/m",
        "graphql": "300/m",
        "manifest": "60/m",
    },
    "GEO_HEADERS": None,
    "PAGE_CACHE_TIMEOUT": 0,
    "PAGE_CACHE_STORE": True,
    "AUDIENCE_SAMPLE_SIZE": 1000,
}


class PersonalizeSettings:
    """The merged ``PERSONALIZE`` settings, with derived values computed once.

    Attribute access returns the user's value or the default:
    ``personalize_settings.GEOIP_PATH``.
    """

    def __init__(self, user_settings: dict[str, Any] | None = None) -> None:
        self._user = user_settings if user_settings is not None else None

    @property
    def user_settings(self) -> dict[str, Any]:
        """The raw ``settings.PERSONALIZE`` dictionary (empty when unset)."""
        if self._user is None:
            value = getattr(settings, "PERSONALIZE", {})
            if not isinstance(value, dict):
                raise ImproperlyConfigured(
                    "settings.PERSONALIZE must be a dict, "
                    "e.g. PERSONALIZE = {'TRUSTED_PROXIES': []}."
                )
            unknown = sorted(set(value) - set(DEFAULTS))
            if unknown:
                raise ImproperlyConfigured(
                    f"Unknown key(s) in settings.PERSONALIZE: {', '.join(unknown)}. "
                    f"Valid keys: {', '.join(sorted(DEFAULTS))}."
                )
            self._user = value
        return self._user

    def __getattr__(self, name: str) -> Any:
        if name not in DEFAULTS:
            raise AttributeError(f"Invalid PERSONALIZE setting: {name!r}")
        value = self.user_settings.get(name, DEFAULTS[name])
        self.__dict__[name] = value
        return value

    @cached_property
    def trusted_networks(self) -> tuple[Any, ...]:
        """``TRUSTED_PROXIES`` parsed into ``ipaddress`` networks."""
        try:
            return parse_trusted_networks(self.TRUSTED_PROXIES)
        except (TypeError, ValueError) as exc:
            raise ImproperlyConfigured(
                f"PERSONALIZE['TRUSTED_PROXIES'] must be a list of IP addresses or CIDR "
                f"networks such as '10.0.0.0/8': {exc}"
            ) from exc

    @cached_property
    def geo_headers(self) -> tuple[Any, ...]:
        """``GEO_HEADERS`` parsed: the geolocation headers trusted proxies vouch for."""
        from personalize.signals.geo import parse_geo_headers

        try:
            return parse_geo_headers(self.GEO_HEADERS)
        except ValueError as exc:
            raise ImproperlyConfigured(f"PERSONALIZE['GEO_HEADERS']: {exc}.") from exc

    @cached_property
    def geo_provider(self) -> Any:
        """The geo provider instance built from ``GEO_PROVIDER`` and ``GEOIP_PATH``."""
        from personalize.signals.geoip import GeoIP2Provider, NullGeoProvider

        try:
            provider_class = import_string(self.GEO_PROVIDER)
        except ImportError as exc:
            raise ImproperlyConfigured(
                f"PERSONALIZE['GEO_PROVIDER'] = {self.GEO_PROVIDER!r} cannot be imported: {exc}"
            ) from exc
        if provider_class is GeoIP2Provider or issubclass(provider_class, GeoIP2Provider):
            if not self.GEOIP_PATH:
                return NullGeoProvider()
            return provider_class(str(self.GEOIP_PATH))
        return provider_class()

    @cached_property
    def user_fields(self) -> tuple[str, ...]:
        """``USER_FIELDS`` validated as a tuple of dotted attribute names."""
        fields = self.USER_FIELDS
        if isinstance(fields, str) or not all(isinstance(f, str) and f for f in fields):
            raise ImproperlyConfigured(
                "PERSONALIZE['USER_FIELDS'] must be a list of field names, "
                "e.g. ['first_name', 'profile.plan']."
            )
        return tuple(fields)

    @cached_property
    def consent_mode(self) -> str:
        """``CONSENT_MODE`` validated."""
        from personalize.signals.consent import CONSENT_MODES

        if self.CONSENT_MODE not in CONSENT_MODES:
            raise ImproperlyConfigured(
                f"PERSONALIZE['CONSENT_MODE'] must be 'opt-in' (nothing stored before consent) "
                f"or 'opt-out', not {self.CONSENT_MODE!r}."
            )
        return str(self.CONSENT_MODE)

    @cached_property
    def analytics_file(self) -> Path | None:
        """``ANALYTICS_FILE`` as a path, or None when unset.

        Raises:
            ImproperlyConfigured: it is neither None nor a path.
        """
        value = self.ANALYTICS_FILE
        if value is None or value == "":
            return None
        if not isinstance(value, str | os.PathLike):
            raise ImproperlyConfigured(
                f"PERSONALIZE['ANALYTICS_FILE'] must be a file path, e.g. "
                f"BASE_DIR / 'analytics.json', or None, not {value!r}."
            )
        return Path(value)

    @cached_property
    def page_cache_timeout(self) -> int:
        """``PAGE_CACHE_TIMEOUT`` in whole seconds.

        0 (personalized pages stay private) when it is not a whole number of seconds: the
        system check ``personalize.E004`` reports that, and no request fails over it.
        """
        value = self.PAGE_CACHE_TIMEOUT
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            return 0
        return value

    @cached_property
    def report_thresholds(self) -> tuple[int, int]:
        """``(REPORT_MIN_VISITORS, REPORT_MIN_CONVERSIONS)``, validated.

        Raises:
            ImproperlyConfigured: If either is not a whole number, or the visitors are fewer
                than 1 or the conversions fewer than 0.
        """
        thresholds = []
        for name, minimum in (("REPORT_MIN_VISITORS", 1), ("REPORT_MIN_CONVERSIONS", 0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
                raise ImproperlyConfigured(
                    f"PERSONALIZE['{name}'] must be a whole number of at least {minimum}, not "
                    f"{value!r}, e.g. {DEFAULTS[name]}."
                )
            thresholds.append(value)
        return thresholds[0], thresholds[1]

    def reload(self) -> None:
        """Forget the cached values; the next access reads settings again."""
        self.__dict__.clear()
        self._user = None


personalize_settings = PersonalizeSettings()


#: The settings whose change resets what was built from ``PERSONALIZE``.
PACKAGE_SETTINGS = frozenset({"PERSONALIZE", "TIME_ZONE"})
#: Callbacks run on ``setting_changed``, each with the settings it depends on.
_RESETS: list[tuple[Callable[[], object], frozenset[str]]] = []


def register_reset(
    callback: Callable[[], object], settings: frozenset[str] = PACKAGE_SETTINGS
) -> None:
    """Run ``callback()`` whenever one of ``settings`` changes (tests, reloads).

    Registries and stores built from settings register their own reset here, so this module,
    the lowest layer, never imports the modules above it.
    """
    _RESETS.append((callback, settings))


@receiver(setting_changed)
def _reload_settings(*, setting: str, **kwargs: Any) -> None:
    if setting in PACKAGE_SETTINGS:
        personalize_settings.reload()
    for callback, names in _RESETS:
        if setting in names:
            callback()
