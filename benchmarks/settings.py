"""Benchmark settings: the demo site on a throw-away SQLite file, local-memory cache, DEBUG off."""

import os
import tempfile
from pathlib import Path

from cms_site.settings import *  # noqa: F403
from cms_site.settings import TEMPLATES

DEBUG = False
ALLOWED_HOSTS = ["*"]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get(
            "BENCHMARK_DB", str(Path(tempfile.gettempdir()) / "personalize-bench.sqlite3")
        ),
        # As a production SQLite should run: write-ahead log, no fsync per commit.
        "OPTIONS": {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
        },
    }
}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
if os.environ.get("BENCHMARK_REDIS_URL"):
    # Counters, profiles and versions in a real Redis, as in production.
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": os.environ["BENCHMARK_REDIS_URL"],
        }
    }
TEMPLATES = [
    {**TEMPLATES[0], "DIRS": [Path(__file__).resolve().parent / "templates", *TEMPLATES[0]["DIRS"]]}
]
ROOT_URLCONF = "benchmarks.urls"
LOGGING = {"version": 1, "disable_existing_loggers": False}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# The package's defaults, not the demo's: explanations are measured on their own.
# Personalized pages are rendered, not shared: the caching benchmark turns sharing on per request.
# Every request comes from one client here: GraphQL's per-client rate limit would answer most of
# the GraphQL benchmarks' requests with 429.
PERSONALIZE = {  # noqa: F405
    **PERSONALIZE,  # noqa: F405
    "EXPLAIN_LINKS": False,
    "PAGE_CACHE_TIMEOUT": 0,
    "RATE_LIMITS": {"graphql": None},
}
