"""System checks and settings validation."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from personalize.checks import check_settings
from personalize.conf import personalize_settings
from personalize.signals.geoip import GeoIP2Provider, NullGeoProvider
from tests.mmdb import build_city_database


def _ids(settings: Any, *, keep_w003: bool = False) -> list[str]:
    # W003 (analytics without Redis) always shows with the tests' local-memory cache.
    return [m.id for m in check_settings() if m.id != "personalize.W003" or keep_w003]


def test_missing_geoip_database_warns(settings: Any) -> None:
    assert _ids(settings) == ["personalize.W001"]


def test_geoip_path_that_is_not_a_file_warns(settings: Any) -> None:
    settings.PERSONALIZE = {"GEOIP_PATH": "/nonexistent/city.mmdb"}
    assert _ids(settings) == ["personalize.W002"]


def test_valid_geoip_database_is_quiet_and_used(settings: Any, tmp_path: Any) -> None:
    path = build_city_database(tmp_path / "city.mmdb")
    settings.PERSONALIZE = {"GEOIP_PATH": str(path)}
    assert _ids(settings) == []
    assert isinstance(personalize_settings.geo_provider, GeoIP2Provider)


def test_no_path_gives_null_provider(settings: Any) -> None:
    assert isinstance(personalize_settings.geo_provider, NullGeoProvider)


def test_bad_trusted_proxy_is_an_error_with_the_fix(settings: Any) -> None:
    settings.PERSONALIZE = {"TRUSTED_PROXIES": ["10.0.0.0/8", "not-a-network"]}
    messages = check_settings()
    assert [m.id for m in messages] == ["personalize.E001"]
    assert "not-a-network" in messages[0].msg
    assert "CIDR" in messages[0].msg


def test_unknown_setting_key_is_rejected(settings: Any) -> None:
    settings.PERSONALIZE = {"TRUSTED_PROXY": []}
    with pytest.raises(ImproperlyConfigured, match="Unknown key.*TRUSTED_PROXY.*Valid keys"):
        personalize_settings.TRUSTED_PROXIES  # noqa: B018


def test_middleware_before_auth_is_an_error(settings: Any) -> None:
    settings.MIDDLEWARE = [
        "django.contrib.sessions.middleware.SessionMiddleware",
        "personalize.middleware.PersonalizeMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
    ]
    assert "personalize.E002" in _ids(settings)


def test_bad_provider_path_is_improperly_configured(settings: Any) -> None:
    settings.PERSONALIZE = {"GEO_PROVIDER": "nowhere.Provider"}
    with pytest.raises(ImproperlyConfigured, match="GEO_PROVIDER"):
        personalize_settings.geo_provider  # noqa: B018


def test_bad_consent_mode_is_an_error_with_the_fix(settings: Any) -> None:
    settings.PERSONALIZE = {"CONSENT_MODE": "implied"}
    messages = check_settings()
    assert [m.id for m in messages if m.id.startswith("personalize.E")] == ["personalize.E001"]
    assert "'opt-in'" in messages[0].msg and "'implied'" in messages[0].msg


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("nowhere.Store", "cannot be imported"),
        ("personalize.profiles.store.ProfileKey", "not a BaseProfileStore subclass"),
    ],
)
def test_bad_profile_store_is_an_error(settings: Any, path: str, problem: str) -> None:
    settings.PERSONALIZE = {"PROFILE_STORE": path}
    messages = check_settings()
    assert [m.id for m in messages] == ["personalize.E001"]
    assert problem in messages[0].msg


def test_analytics_without_redis_warns_in_production(settings: Any) -> None:
    settings.DEBUG = False
    assert "personalize.W003" in _ids(settings, keep_w003=True)
    settings.PERSONALIZE = {**settings.PERSONALIZE, "ANALYTICS_ENABLED": False}
    assert "personalize.W003" not in _ids(settings, keep_w003=True)
    settings.PERSONALIZE = {**settings.PERSONALIZE, "ANALYTICS_ENABLED": True}
    settings.DEBUG = True
    assert "personalize.W003" not in _ids(settings, keep_w003=True)


def test_missing_settings_app_is_an_error(settings: Any, monkeypatch: Any) -> None:
    import types

    from personalize import checks

    # Only what the check reads: changing INSTALLED_APPS for real would reload the app registry.
    apps = [app for app in settings.INSTALLED_APPS if app != "wagtail.contrib.settings"]
    fake = types.SimpleNamespace(
        INSTALLED_APPS=apps, MIDDLEWARE=settings.MIDDLEWARE, DEBUG=True, CACHES=settings.CACHES
    )
    monkeypatch.setattr(checks, "settings", fake)
    assert "personalize.E003" in _ids(settings)


@pytest.mark.django_db
def test_no_missing_migrations() -> None:
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)
