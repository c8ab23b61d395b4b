"""Wagtail's test settings with wagtail-personalize installed, for Wagtail's own test suite.

``make test-wagtail`` runs Wagtail's tests (shipped in its wheel) with these settings: the
``personalize`` app and its middleware, placed as the docs ask, must not change what Wagtail's
tests observe. Set ``WAGTAIL_SUITE_BASELINE=1`` to run the same tests without the package, which
is how the known failures in :mod:`tests.wagtail_suite.runner` were established.
"""

import os
import tempfile

from wagtail.test.settings import *  # noqa: F403
from wagtail.test.settings import INSTALLED_APPS, MIDDLEWARE

#: Without the package: the baseline that tells Wagtail's own failures from ours.
BASELINE = os.environ.get("WAGTAIL_SUITE_BASELINE") == "1"

# Wagtail's settings write uploads and collected static files inside the installed wheel; keep
# them in a scratch directory instead (removed by the runner after the run).
_SCRATCH = os.path.join(tempfile.gettempdir(), "wagtail-personalize-suite")
STATIC_ROOT = os.path.join(_SCRATCH, "static")
MEDIA_ROOT = os.path.join(_SCRATCH, "media")

TEST_RUNNER = "tests.wagtail_suite.runner.WagtailSuiteRunner"

if not BASELINE:
    INSTALLED_APPS = [*INSTALLED_APPS, "personalize"]
    _AUTH = "django.contrib.auth.middleware.AuthenticationMiddleware"
    _position = list(MIDDLEWARE).index(_AUTH) + 1
    MIDDLEWARE = (
        *MIDDLEWARE[:_position],
        "personalize.middleware.PersonalizeMiddleware",
        *MIDDLEWARE[_position:],
    )
    PERSONALIZE = {"GEOIP_PATH": None}
    # W001 (no GeoIP database) and W003 (analytics counted in process memory) describe a
    # production set-up, not this test run.
    SILENCED_SYSTEM_CHECKS = ["personalize.W001", "personalize.W003"]
