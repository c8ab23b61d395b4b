"""Django's test runner for Wagtail's own suite, minus the tests that cannot pass here.

Only tests that also fail with ``WAGTAIL_SUITE_BASELINE=1`` (without wagtail-personalize) are
listed, each with the reason; ``make test-wagtail`` must otherwise pass exactly as it does
without the package.
"""

from __future__ import annotations

import shutil
import unittest
from pathlib import Path
from typing import Any

from django.conf import settings
from django.test.runner import DiscoverRunner
from django.test.utils import iter_test_cases

#: What runs when no labels are given: the parts of Wagtail a request to a site with
#: wagtail-personalize goes through (page serving, the admin's page and snippet views, the
#: userbar, logging in and out, API v2, forms, routable pages, redirects, sitemaps, settings).
SUITE_LABELS: tuple[str, ...] = (
    "wagtail.tests.tests",
    "wagtail.tests.test_page_model",
    "wagtail.tests.test_views",
    "wagtail.tests.test_sites",
    "wagtail.tests.test_page_privacy",
    "wagtail.tests.test_page_allowed_http_methods",
    "wagtail.tests.test_page_assertions",
    "wagtail.tests.test_tests",
    "wagtail.tests.test_jinja2",
    "wagtail.tests.test_hooks",
    "wagtail.admin.tests.pages",
    "wagtail.admin.tests.test_userbar",
    "wagtail.admin.tests.test_account_management",
    "wagtail.admin.tests.test_menu",
    "wagtail.admin.tests.test_dashboard",
    "wagtail.admin.tests.test_views",
    "wagtail.admin.tests.test_privacy",
    "wagtail.admin.tests.test_jinja2",
    "wagtail.admin.tests.tests",
    "wagtail.snippets.tests",
    "wagtail.api.v2.tests",
    "wagtail.contrib.forms",
    "wagtail.contrib.routable_page",
    "wagtail.contrib.redirects",
    "wagtail.contrib.sitemaps",
    "wagtail.contrib.settings",
)

#: Test ids (or module paths) that fail without our package too, and why.
KNOWN_FAILURES: dict[str, str] = {
    "wagtail.contrib.redirects.tests.test_redirects": (
        "imports wagtail.contrib.frontend_cache.tests, which needs the Azure and AWS SDKs of "
        "Wagtail's 'testing' extra (not installed: the frontend cache is not exercised here)"
    ),
    "wagtail.contrib.redirects.tests.test_signal_handlers": (
        "imports wagtail.contrib.frontend_cache.tests (Azure and AWS SDKs, as above)"
    ),
}


def known_failure(test: unittest.TestCase) -> str | None:
    """The reason ``test`` is excluded, or None to run it.

    Args:
        test: a test case; a module that failed to import is a ``_FailedTest`` named after it.

    Returns:
        The reason from :data:`KNOWN_FAILURES` for the test, its class or its module.
    """
    test_id = test.id().removeprefix("unittest.loader._FailedTest.")
    parts = test_id.split(".")
    for end in range(len(parts), 0, -1):
        reason = KNOWN_FAILURES.get(".".join(parts[:end]))
        if reason is not None:
            return reason
    return None


class WagtailSuiteRunner(DiscoverRunner):
    """Runs Wagtail's tests without :data:`KNOWN_FAILURES`, in a clean scratch directory."""

    def build_suite(self, test_labels: Any = None, **kwargs: Any) -> Any:
        """The given labels' tests, or :data:`SUITE_LABELS`' without labels."""
        return super().build_suite(list(test_labels or SUITE_LABELS), **kwargs)

    def load_tests_for_label(self, label: str, discover_kwargs: dict[str, Any]) -> Any:
        """Wagtail's tests for ``label``, minus the known failures (counted in the output)."""
        tests = list(iter_test_cases(super().load_tests_for_label(label, discover_kwargs)))
        kept = [test for test in tests if known_failure(test) is None]
        if len(kept) < len(tests):
            self.log(f"{label}: {len(tests) - len(kept)} known failure(s) excluded.")
        return self.test_suite(kept)

    def setup_test_environment(self, **kwargs: Any) -> None:
        """Start from empty media and static roots (uploads keep their names)."""
        self._clean_scratch()
        super().setup_test_environment(**kwargs)

    def teardown_test_environment(self, **kwargs: Any) -> None:
        """Remove what the tests uploaded and collected, as Wagtail's runtests.py does."""
        super().teardown_test_environment(**kwargs)
        self._clean_scratch()

    @staticmethod
    def _clean_scratch() -> None:
        for root in (settings.MEDIA_ROOT, settings.STATIC_ROOT):
            shutil.rmtree(Path(root), ignore_errors=True)
