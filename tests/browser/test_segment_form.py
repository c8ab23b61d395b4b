"""In a real browser: the segment form fills in the slug, says who the rules describe and how
many consenting page views they would have matched, all before saving.

Screenshots are written to tests/artifacts/ (``make docs-images`` copies
``40-segment-live-sentence.png`` to docs/images/segment-live-sentence.png).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.docs_images import for_docs
from tests.browser.test_editor_flow import log_in_to_admin, open_segments

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)
PAGES = [
    "/",
    "/journal/",
    "/guides/layering-for-ski-touring/",
    "/journal/first-tour-of-the-season/",
]


def browse(new_page: Any, base: str, times: int, **context: Any) -> None:
    """A visitor who allowed analytics views ``times`` pages of the demo."""
    from personalize.signals.consent import dump_consent_cookie

    host = base.split("//", 1)[1].split(":", 1)[0]
    page = new_page(**context)
    consent = dump_consent_cookie(["analytics"], time.time())
    page.context.add_cookies(
        [{"name": "pz_consent", "value": consent, "domain": host, "path": "/"}]
    )
    for n in range(times):
        assert page.goto(f"{base}{PAGES[n % len(PAGES)]}").status == 200


def tick(editor: Any, name: str, value: str) -> None:
    """Choose ``value`` in a rule's multiple choice, whatever picker the rule block uses."""
    field = editor.locator(f'[name="{name}"]').first
    if field.evaluate("element => element.tagName") == "SELECT":
        field.select_option(value)
    else:
        editor.locator(f'[name="{name}"][value="{value}"]').check()


def test_the_form_fills_the_slug_and_describes_the_audience_before_saving(
    demo_site: str, new_page: Any, screenshot: Any
) -> None:
    from personalize.analytics.samples import forget_loaded_samples
    from personalize.analytics.store import counter_store
    from personalize.models import Segment

    base = demo_site
    # Visitors who allowed analytics: an Austrian on a phone, a German at a desktop computer.
    browse(new_page, base, 12, user_agent=IPHONE, extra_http_headers={"CF-IPCountry": "AT"})
    browse(new_page, base, 4, extra_http_headers={"CF-IPCountry": "DE"})
    # And one who did not: nothing of theirs is sampled.
    new_page(user_agent=IPHONE).goto(f"{base}/")
    today = datetime.now(UTC).date()
    assert counter_store().samples([today])[today][0] == 16
    forget_loaded_samples()
    segments_before = Segment.objects.count()

    editor = new_page()
    log_in_to_admin(editor, base)
    open_segments(editor, base)
    editor.get_by_role("link", name="Add segment").click()
    editor.wait_for_url(f"{base}/admin/snippets/personalize/segment/add/")

    # 1. The slug follows the name as the editor types.
    editor.locator("#id_name").press_sequentially("Phone readers")
    expect(editor.locator("#id_slug")).to_have_value("phone-readers")

    panel = editor.locator("[data-personalize-audience]")
    sentence = panel.locator("[data-personalize-sentence]")
    estimate = panel.locator("[data-personalize-estimate]")
    problems = panel.locator("[data-personalize-problems]")
    expect(sentence).to_have_text("All visitors")
    expect(estimate).to_have_text("About 16 page views in the last 7 days would have matched.")
    expect(panel).to_contain_text("visitors who allowed analytics only")

    # 2. A rule added: incomplete at first, then the sentence and estimate follow it.
    rules = editor.locator('[data-contentpath="rules"]')
    rules.get_by_role("button", name="Insert a block").first.click()
    editor.get_by_role("option", name="Device type is", exact=True).click()
    expect(problems).to_contain_text("Rule 1 (Device type is)")
    expect(estimate).to_have_text("The estimate appears when every rule is complete.")
    panel.scroll_into_view_if_needed()
    screenshot(editor, "39-segment-rule-incomplete")
    tick(editor, "rules-0-value-values", "mobile")
    expect(sentence).to_have_text("Visitors on a mobile phone")
    expect(problems).to_be_hidden()
    expect(estimate).to_have_text("About 12 page views in the last 7 days would have matched.")
    panel.scroll_into_view_if_needed()
    for_docs(screenshot(editor, "40-segment-live-sentence"), "segment-live-sentence")

    # 3. A second rule, added later, with a default value: the sentence grows at once.
    rules.get_by_role("button", name="Insert a block").last.click()
    editor.get_by_role("option", name="Logged in / logged out", exact=True).click()
    expect(sentence).to_have_text("Visitors on a mobile phone who are logged in")
    expect(estimate).to_have_text("Fewer than 10 page views in the last 7 days would have matched.")
    panel.scroll_into_view_if_needed()
    screenshot(editor, "41-segment-live-sentence-two-rules")
    assert Segment.objects.count() == segments_before  # nothing saved yet

    # 4. Saving stores the sentence the form showed.
    editor.get_by_role("button", name="Save", exact=True).click()
    editor.wait_for_url(f"{base}/admin/snippets/personalize/segment/")
    segment = Segment.objects.get(slug="phone-readers")
    assert segment.summary == "Visitors on a mobile phone who are logged in"

    # 5. An existing segment's slug no longer follows its name.
    editor.goto(f"{base}/admin/snippets/personalize/segment/edit/{segment.pk}/")
    editor.locator("#id_name").press_sequentially(" on the go")
    editor.locator("#id_description").click()
    expect(editor.locator("#id_slug")).to_have_value("phone-readers")
    expect(sentence).to_have_text("Visitors on a mobile phone who are logged in")
