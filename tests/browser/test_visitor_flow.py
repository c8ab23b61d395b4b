"""A visitor's consent, profile and privacy page, and the scoring rule form, in a real browser."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.test_editor_flow import log_in_to_admin

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_visitor_consents_builds_a_profile_and_erases_it(
    demo_site: str, new_page: Any, screenshot: Any, settings: Any
) -> None:
    from personalize.models import Profile

    settings.PERSONALIZE = {**settings.PERSONALIZE, "EXPLAIN_LINKS": True}  # as in the demo

    base = demo_site
    visitor = new_page()
    visitor.goto(f"{base}/")
    banner = visitor.get_by_role("region", name="Your choice about personal content")
    expect(banner).to_be_visible()
    screenshot(visitor, "20-banner")
    # Nothing is stored before the choice.
    assert Profile.objects.count() == 0
    assert {c["name"] for c in visitor.context.cookies()} & {"pz_vid", "pz_attr"} == set()

    banner.get_by_role("button", name="Allow all").click()
    expect(banner).to_have_count(0)
    visitor.goto(f"{base}/journal/first-tour-of-the-season/")
    visitor.goto(f"{base}/guides/layering-for-ski-touring/")
    assert Profile.objects.count() == 1
    assert "pz_vid" in {c["name"] for c in visitor.context.cookies()}

    # Home now welcomes a ski-touring fan, and says why.
    visitor.goto(f"{base}/")
    why = visitor.locator("details.pz-why").first
    why.locator("summary").click()
    expect(why).to_contain_text("Ski-touring fans")
    expect(why).to_contain_text("your interest in")
    screenshot(visitor, "21-why")

    visitor.get_by_role("link", name="Privacy & your data").click()
    expect(visitor.get_by_role("heading", name="Your privacy")).to_be_visible()
    expect(visitor.get_by_text("Your interest in ski touring", exact=True).first).to_be_visible()
    visitor.get_by_label("I understand that this cannot be undone").check()
    visitor.get_by_role("button", name="Erase my data").click()
    expect(visitor.get_by_text("Everything we stored about you has been erased.")).to_be_visible()
    screenshot(visitor, "22-erased")
    assert Profile.objects.count() == 0
    assert {c["name"] for c in visitor.context.cookies()} & {"pz_vid", "pz_consent"} == set()


def test_scoring_rule_form_shows_the_fields_of_its_trigger(
    demo_site: str, new_page: Any, screenshot: Any
) -> None:
    from personalize.models import ScoringRule

    base = demo_site
    editor = new_page()
    log_in_to_admin(editor, base)
    editor.goto(f"{base}/admin/snippets/personalize/scoringrule/add/")
    trigger = editor.get_by_label("When the visitor")
    value = editor.locator('[data-contentpath="value"]')
    page = editor.locator('[data-contentpath="page"]')
    rules = editor.locator('[data-contentpath="rules"]')
    trigger.select_option("event")
    expect(value).to_be_visible()
    expect(page).to_be_hidden()
    expect(rules).to_be_hidden()
    # Labels go with their fields.
    expect(editor.locator("#id_page-label")).to_be_hidden()
    expect(editor.locator("#id_value-label")).to_be_visible()
    trigger.select_option("attribute")
    expect(rules).to_be_visible()
    expect(value).to_be_hidden()
    trigger.select_option("event")
    editor.locator("#id_name").fill("Watches the product video")
    value.locator("input").fill("video_played")
    editor.locator("#id_points").fill("8")
    screenshot(editor, "23-scoring-rule-form")
    editor.get_by_role("button", name="Save").click()
    expect(editor.locator(".messages")).to_contain_text("Watches the product video")
    rule = ScoringRule.objects.get(name="Watches the product video")
    assert (rule.trigger, rule.value, rule.points) == ("event", "video_played", 8)
    assert rule.summary == "+8 points for the event “video_played”"
