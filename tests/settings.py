"""Settings for the test suite: the demo project's settings with test-friendly overrides."""

import os
from importlib.util import find_spec

from cms_site.settings import *  # noqa: F403

DEBUG = False
SECRET_KEY = "test-secret-key"  # noqa: S105
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
ALLOWED_HOSTS = ["*"]

if not os.environ.get("DATABASE_URL"):
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Translated pages are tested with wagtail-localize's real machinery where it is installed
# (tests/test_translated_pages.py); Wagtail i18n is switched on per test.
if find_spec("wagtail_localize") is not None:
    INSTALLED_APPS = [*INSTALLED_APPS, "wagtail_localize"]  # noqa: F405

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
