"""In a real browser: the demo in German.

An editor who chooses German in Account settings gets the Segments menu, the segment list and
the segment form in German; a site whose language is German shows visitors the consent banner in
German.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.docs_images import for_docs
from tests.browser.test_editor_flow import log_in_to_admin

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_editor_who_prefers_german_gets_the_segments_in_german(
    demo_site: str, new_page: Any, screenshot: Any
) -> None:
    from wagtail.users.models import UserProfile

    base = demo_site
    editor = new_page()
    log_in_to_admin(editor, base)

    # Account settings → Preferred language → Deutsch.
    editor.goto(f"{base}/admin/account/")
    editor.get_by_label("Preferred language").select_option("de")
    editor.get_by_role("button", name="Save", exact=True).click()
    expect(editor.locator("html")).to_have_attribute("lang", "de")
    assert UserProfile.objects.get(user__username="admin").preferred_language == "de"

    # The menu and the segment list.
    editor.goto(f"{base}/admin/")
    editor.locator(".sidebar-main-menu").get_by_role("link", name="Segmente").click()
    editor.wait_for_url(f"{base}/admin/snippets/personalize/segment/")
    expect(editor.get_by_role("heading", name="Segmente", exact=True)).to_be_visible()
    listing = editor.locator("table.listing")
    expect(listing.locator("thead")).to_contain_text("Wer")
    expect(listing.locator("thead")).to_contain_text("Besucher (7 Tage)")
    # "Who" says each segment's rules in the editor's language.
    expect(listing.locator("tbody")).to_contain_text("Besucher mit einem Mobiltelefon")
    expect(listing.locator("tbody")).not_to_contain_text("Visitors on a mobile phone")
    for_docs(screenshot(editor, "admin-german"), "admin-german")

    # The segment form's labels and the rule builder.
    editor.goto(f"{base}/admin/snippets/personalize/segment/add/")
    form = editor.locator("main")
    expect(form).to_contain_text("Beschreibung")
    expect(form).to_contain_text("Besucher müssen erfüllen")
    expect(form).to_contain_text("Alle Regeln")
    expect(form).to_contain_text("Regeln")
    expect(form).to_contain_text("Wer: Alle Besucher")
    screenshot(editor, "admin-german-segment-form")


@pytest.fixture
def german_default(settings: Any) -> Any:
    """German as the site's default language, with the URL patterns read afresh before and after.

    The demo's ``i18n_patterns`` leave the default language unprefixed; Django keeps each
    language's reversed URLs with the prefix they had when first built, so a language that was
    prefixed earlier in the process (``/de/…``) would stay so.
    """
    from django.core.cache import caches
    from django.urls import clear_url_caches

    settings.LANGUAGE_CODE = "de"
    clear_url_caches()
    for cache in caches.all():
        cache.clear()  # no page kept from an English rendering
    yield settings
    clear_url_caches()  # read again once the settings are restored


def test_a_german_site_shows_visitors_the_consent_banner_in_german(
    demo_site: str, new_page: Any, german_default: Any, screenshot: Any
) -> None:
    visitor = new_page()
    assert visitor.goto(f"{demo_site}/").status == 200
    banner = visitor.locator(".pz-banner")
    expect(banner).to_contain_text("Ihre Wahl zu persönlichen Inhalten")
    expect(banner.get_by_role("button", name="Alle erlauben")).to_be_visible()
    expect(banner.get_by_role("button", name="Nur notwendige")).to_be_visible()
    expect(banner.get_by_role("link", name="Was wir über Sie wissen")).to_be_visible()
    expect(banner).not_to_contain_text("Allow all")
    screenshot(visitor, "visitor-german-banner")
