"""An A/B test seen by phone visitors, and editors reading and ending it in the admin."""

from __future__ import annotations

import time
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.test_editor_flow import log_in_to_admin

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)
EXPERIMENT = "Home page: phones call, message or come in?"


def test_phone_visitors_are_tested_and_the_editor_ends_the_test(
    demo_site: str, new_page: Any, screenshot: Any
) -> None:
    from personalize.models import Experiment
    from personalize.signals.consent import dump_consent_cookie

    base = demo_site
    host = base.split("//", 1)[1].split(":", 1)[0]
    consent = dump_consent_cookie(["analytics"], time.time())
    greetings = set()
    # Random visitor ids: six visitors land on one alternative about once in 150 runs, so more
    # come until two alternatives were seen (twelve all alike: about once in 100,000 runs).
    for _ in range(12):
        if len(greetings) >= 2:
            break
        phone = new_page(user_agent=IPHONE, viewport={"width": 390, "height": 844})
        phone.context.add_cookies(
            [{"name": "pz_consent", "value": consent, "domain": host, "path": "/"}]
        )
        phone.goto(f"{base}/")
        first = phone.locator("main h2").first.inner_text()
        phone.reload()
        assert phone.locator("main h2").first.inner_text() == first  # never flips
        greetings.add(first)
    screenshot(phone, "30-phone-home")
    assert len(greetings) >= 2  # the visitors spread over the alternatives

    editor = new_page()
    log_in_to_admin(editor, base)
    editor.goto(f"{base}/admin/snippets/personalize/experiment/")
    expect(editor.get_by_role("link", name=EXPERIMENT)).to_be_visible()
    editor.get_by_role("link", name="Results").first.click()
    expect(editor.get_by_role("heading", name="Personalized blocks")).to_be_visible()
    expect(editor.locator("body")).to_contain_text("B: WhatsApp us")
    screenshot(editor, "31-report-experiment")

    editor.goto(f"{base}/admin/snippets/personalize/experiment/")
    editor.get_by_role("link", name=EXPERIMENT).click()
    editor.locator("#id_status").select_option("ended")
    editor.locator("#id_winner").select_option(label="2: C: book a fitting")
    editor.get_by_role("button", name="Save").click()
    expect(editor.locator(".messages")).to_contain_text(EXPERIMENT)
    experiment = Experiment.objects.get(name=EXPERIMENT)
    assert (experiment.status, experiment.winner) == ("ended", 2)
    assert experiment.ended_at is not None

    # Every phone visitor now gets the winner, consenting or not.
    late = new_page(user_agent=IPHONE)
    late.goto(f"{base}/")
    expect(late.locator("main h2").first).to_have_text("Come by for a fitting")
    screenshot(late, "32-phone-winner")
