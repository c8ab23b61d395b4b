"""Fixtures for tests that drive a real Chromium against the live demo site."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
#: Headless Chromium says "HeadlessChrome" in its User-Agent, which the product treats as a bot.
DESKTOP_CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
)
#: Playwright's limit for every action, navigation and ``expect`` assertion.
TIMEOUT_MS = 15_000
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
LOCAL_URL = re.compile(r"^https?://(localhost|127\.0\.0\.1|\[::1\])(:\d+)?/")

PageFactory = Callable[..., Any]


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Debian's Chromium, launched once per module through Playwright's sync API."""
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing: install Debian's package (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)
    # Playwright's sync API keeps an event loop running in this thread, so Django would refuse
    # every ORM call from the test (SynchronousOnlyOperation); the test code itself is
    # synchronous, and the live server answers from its own thread.
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def new_page(chromium: Any) -> Iterator[PageFactory]:
    """Open a page in a fresh browser context (its own cookies), closed after the test.

    Keyword arguments go to ``browser.new_context`` (e.g. ``extra_http_headers``). Every context
    gets a desktop Chrome User-Agent, and requests that leave the live server are aborted so that
    nothing depends on the network (Wagtail's update check, avatars).
    """
    contexts: list[Any] = []

    def open_page(**context_options: Any) -> Any:
        options = {"user_agent": DESKTOP_CHROME, "viewport": {"width": 1280, "height": 900}}
        options.update(context_options)
        context = chromium.new_context(**options)
        contexts.append(context)
        context.set_default_timeout(TIMEOUT_MS)
        context.set_default_navigation_timeout(TIMEOUT_MS)
        context.route(lambda url: not LOCAL_URL.match(url), lambda route: route.abort())
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def screenshot() -> Callable[[Any, str], Path]:
    """Save a screenshot of the page's viewport as ``tests/artifacts/<name>.png``."""
    ARTIFACTS.mkdir(exist_ok=True)

    def take(page: Any, name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), animations="disabled")
        return path

    return take


def _ensure_wagtail_tree() -> None:
    """The locale and root page from Wagtail's migrations (transactional tests flush them)."""
    from django.conf import settings
    from wagtail.coreutils import get_supported_content_language_variant
    from wagtail.models import Locale, Page

    Locale.objects.get_or_create(
        language_code=get_supported_content_language_variant(settings.LANGUAGE_CODE)
    )
    if Page.get_first_root_node() is None:
        Page.add_root(instance=Page(title="Root", slug="root"))


@pytest.fixture
def demo_site(live_server: Any, settings: Any) -> str:
    """The seeded demo behind the live server, which trusts loopback as its CDN; its base URL."""
    from django.core.management import call_command
    from wagtail.models import Site

    from cms_site.home.models import HomePage

    settings.PERSONALIZE = {
        **settings.PERSONALIZE,
        "TRUSTED_PROXIES": ["127.0.0.1", "::1"],
        "GATE_URL": "/accounts/register/",
    }
    _ensure_wagtail_tree()
    call_command("seed_demo", stdout=StringIO())
    site = Site.objects.get(is_default_site=True)
    assert site.root_page_id == HomePage.objects.get().pk  # serves the home page on any host
    return str(live_server.url)
