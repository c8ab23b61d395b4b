"""Settings of the demo site: SQLite and local memory by default; DATABASE_URL / REDIS_URL switch
to PostgreSQL and Redis."""

from __future__ import annotations

import os
from importlib.util import find_spec
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
PROJECT_DIR = Path(__file__).resolve().parent

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "demo-only-secret-key-change-me-in-production")  # noqa: S105
DEBUG = os.environ.get("DJANGO_DEBUG", "1") == "1"
if not DEBUG and "DJANGO_SECRET_KEY" not in os.environ:
    raise ImproperlyConfigured("Set DJANGO_SECRET_KEY when DJANGO_DEBUG=0 (a long random string).")
ALLOWED_HOSTS = os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")

INSTALLED_APPS = [
    "cms_site.home",
    "personalize",
    "wagtail.api.v2",
    "graphene_django",
    # wagtail-grapple's schema at /grapple/ with personalize's blocks (docs/how-to/grapple.md).
    "personalize.contrib.grapple",
    "grapple",
    "rest_framework",
    "wagtail.contrib.forms",
    "wagtail.contrib.settings",
    "wagtail.contrib.redirects",
    "wagtail.contrib.frontend_cache",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]
# Translated pages with wagtail-localize: the home page in German at /de/ (see
# docs/how-to/translated-sites.md).
if find_spec("wagtail_localize") is not None:
    INSTALLED_APPS += ["wagtail_localize", "wagtail_localize.locales"]

MIDDLEWARE = [
    # Outside everything that sets cookies: decides which personalized pages a shared cache (or
    # the page cache) may keep per decision key (docs/how-to/cdn.md).
    "personalize.middleware.PersonalizeCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language of the URL (/de/…), for i18n_patterns (cms_site/urls.py).
    "cms_site.home.middleware.DemoLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
    "cms_site.home.middleware.DemoCdnMiddleware",
    "personalize.middleware.PersonalizeMiddleware",
]

# With DEBUG off (gunicorn, the load suite) WhiteNoise serves the collected static files
# (`manage.py collectstatic` first); with DEBUG on, Django's static view does (cms_site/urls.py).
if not DEBUG and find_spec("whitenoise") is not None:
    MIDDLEWARE.insert(0, "whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "cms_site.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PROJECT_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "cms_site.wsgi.application"


def database_from_url(url: str) -> dict[str, object]:
    """A DATABASES entry from ``postgres://user:password@host:port/name``."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql", "pgsql"):
        raise ValueError(f"DATABASE_URL must be a postgres:// URL, got scheme {parts.scheme!r}")
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parts.path.lstrip("/")),
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or ""),
        # Reuse connections, and replace one the server closed before a request uses it.
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
    }


if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": database_from_url(os.environ["DATABASE_URL"])}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("SQLITE_PATH", str(BASE_DIR / "demo.sqlite3")),
            # Editors save while Wagtail autosaves: write transactions take the lock up front
            # and wait for it, instead of failing with "database is locked".
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
        }
    }

# Without Redis the analytics counters are kept in a file next to the SQLite database (in var/
# with PostgreSQL), so the report and the segments' visitor counts survive restarts and
# runserver's reloads. The file serves one process; production uses Redis
# (docs/how-to/production.md).
if os.environ.get("REDIS_URL"):
    _ANALYTICS_FILE = None
elif os.environ.get("DATABASE_URL"):
    _ANALYTICS_FILE = BASE_DIR / "var" / "demo-analytics.json"
else:
    _SQLITE = Path(DATABASES["default"]["NAME"])
    _ANALYTICS_FILE = _SQLITE.with_name(f"{_SQLITE.stem}-analytics.json")

if os.environ.get("REDIS_URL"):
    # Two aliases on the same Redis, as docs/how-to/production.md recommends:
    # - "default" serves Wagtail and Django; IGNORE_EXCEPTIONS turns a Redis outage into cache
    #   misses instead of error pages, and the package's breaker backend stops calling a failed
    #   Redis for a few seconds, so a hung one does not cost a timeout per call.
    # - "personalize" is the package's own: its errors reach the package's circuit breaker, which
    #   serves defaults and stops calling a failed Redis for a short window. In production point
    #   it at a Redis with persistence and no eviction (analytics counters live there).
    _REDIS_OPTIONS = {"SOCKET_CONNECT_TIMEOUT": 0.25, "SOCKET_TIMEOUT": 0.25}
    CACHES = {
        "default": {
            "BACKEND": "personalize.cache_backend.CircuitBreakerRedisCache",
            "LOCATION": os.environ["REDIS_URL"],
            "KEY_PREFIX": "site",
            "OPTIONS": {**_REDIS_OPTIONS, "IGNORE_EXCEPTIONS": True},
        },
        "personalize": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": os.environ.get("PERSONALIZE_REDIS_URL") or os.environ["REDIS_URL"],
            "OPTIONS": _REDIS_OPTIONS,
        },
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

# The demo's visitor pages speak English, or German with `DEMO_LANGUAGE=de make demo`; each
# admin user picks the admin's language in Account settings (docs/how-to/translations.md).
LANGUAGES = [("en", "English"), ("de", "Deutsch")]
WAGTAILADMIN_PERMITTED_LANGUAGES = LANGUAGES
LANGUAGE_CODE = os.environ.get("DEMO_LANGUAGE") or "en"
if LANGUAGE_CODE not in dict(LANGUAGES):
    raise ImproperlyConfigured(
        f"DEMO_LANGUAGE={LANGUAGE_CODE!r} is not a language of the demo: use en or de."
    )
# The demo in English has a German page tree at /de/ (Wagtail i18n, translated with
# wagtail-localize); with DEMO_LANGUAGE=de the whole demo is German and i18n stays off.
WAGTAIL_I18N_ENABLED = LANGUAGE_CODE == "en" and "wagtail_localize" in INSTALLED_APPS
WAGTAIL_CONTENT_LANGUAGES = LANGUAGES
TIME_ZONE = "Europe/Berlin"
USE_I18N = True
USE_TZ = True

STATICFILES_DIRS = [PROJECT_DIR / "static"]
STATIC_ROOT = BASE_DIR / "var" / "static"
STATIC_URL = "/static/"
MEDIA_ROOT = BASE_DIR / "var" / "media"
MEDIA_URL = "/media/"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

WAGTAIL_SITE_NAME = "Northwind Outdoor"
# No avatars from gravatar.com: the admin sends editors' e-mail digests to no third party.
WAGTAIL_GRAVATAR_PROVIDER_URL = None
# `make demo PORT=8080` serves (and links the admin) elsewhere.
WAGTAILADMIN_BASE_URL = os.environ.get(
    "WAGTAILADMIN_BASE_URL", f"http://127.0.0.1:{os.environ.get('PORT', '8000')}"
)
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}

# The demo trusts CDN geo headers from loopback, so every geo signal can be tried locally
# with e.g. `curl -H "CF-IPCountry: AT" http://127.0.0.1:8000/`.
PERSONALIZE = {
    "TRUSTED_PROXIES": ["127.0.0.1/32", "::1/128"],
    # Geo from Cloudflare's CF-IPCountry, which DemoCdnMiddleware simulates; a proxy in front of
    # a real site strips every CDN header it does not set itself (docs/how-to/geo.md).
    "GEO_HEADERS": "cloudflare",
    "GEOIP_PATH": os.environ.get("GEOIP_PATH") or None,
    "USER_FIELDS": ["first_name"],
    "DEBUG_VIEW": True,
    "GATE_URL": "/accounts/register/",
    # Personalized content carries a "Why am I seeing this?" note built from the visitor's data.
    "EXPLAIN_LINKS": True,
    # The package's own cache alias ("default" when the demo runs without Redis).
    "CACHE_ALIAS": "personalize" if os.environ.get("REDIS_URL") else "default",
    # Analytics counters without Redis: demo-analytics.json beside demo.sqlite3 (see above).
    "ANALYTICS_FILE": _ANALYTICS_FILE,
    # Personalized pages are shared per decision key for up to 5 minutes: by the page cache, or
    # by Varnish in front (VARNISH_URL), which then does the caching alone.
    "PAGE_CACHE_TIMEOUT": 300,
    "PAGE_CACHE_STORE": not os.environ.get("VARNISH_URL"),
    # Keys of headless front ends that may relay visitors (comma separated), e.g.
    # `PERSONALIZE_FRONTEND_KEYS=$(openssl rand -hex 32) make demo` (docs/how-to/headless.md).
    "FRONTEND_KEYS": [
        key for key in os.environ.get("PERSONALIZE_FRONTEND_KEYS", "").split(",") if key.strip()
    ],
}

# Publishing a page purges every cached variant of its URL from Varnish (docs/how-to/cdn.md).
if os.environ.get("VARNISH_URL"):
    WAGTAILFRONTENDCACHE = {
        "varnish": {
            "BACKEND": "wagtail.contrib.frontend_cache.backends.HTTPBackend",
            "LOCATION": os.environ["VARNISH_URL"],
        }
    }

# The demo has no GeoIP database (loopback visitors could not be located anyway); geo comes
# from CDN headers, which DemoCdnMiddleware can simulate.
GRAPHENE = {"SCHEMA": "cms_site.schema.schema"}
GRAPPLE = {"APPS": ["home"]}

SILENCED_SYSTEM_CHECKS = ["personalize.W001"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "personalize": {"handlers": ["console"], "level": "INFO"},
        # Every 500 with its traceback, also with DEBUG off (Django's default only mails admins).
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
    },
}
