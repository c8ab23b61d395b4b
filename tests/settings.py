"""Settings for the test suite: the demo project's settings with test-friendly overrides."""

import os

from cms_site.settings import *  # noqa: F403

DEBUG = False
SECRET_KEY = "test-secret-key"  # noqa: S105
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
ALLOWED_HOSTS = ["*"]

if not os.environ.get("DATABASE_URL"):
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# The demo's German pages (wagtail-localize, Wagtail i18n) are tested on their own
# (tests/test_translated_pages.py, tests/test_demo_german.py), which switch i18n on per test.
WAGTAIL_I18N_ENABLED = False

PERSONALIZE = {
    "TRUSTED_PROXIES": ["10.0.0.0/8"],
    # The suite plays a site behind Cloudflare: requests from 10.0.0.0/8 carry its headers.
    "GEO_HEADERS": "cloudflare",
    "GEOIP_PATH": None,
    "USER_FIELDS": ["first_name", "email"],
    "DEBUG_VIEW": None,
}

LOGGING = {"version": 1, "disable_existing_loggers": False}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Wagtail updates its search and reference indexes through tasks; run them at once, even inside
# the test transaction, as the site's own worker would after commit.
TASKS = {
    "default": {
        "BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
        "ENQUEUE_ON_COMMIT": False,
    }
}

PERSONALIZE["FRONTEND_KEYS"] = ["test-frontend-key"]  # noqa: F405
