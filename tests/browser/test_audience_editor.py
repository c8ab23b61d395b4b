"""In a real browser: an editor sets a call to action's audience and publishes.

On Wagtail 8 the "Audience" setting waits in the block's settings area (the cog); on Wagtail 7.0
it is the block's last field. "Segments" and "Groups" show only for the audiences that use them.
The screenshot is written to tests/artifacts/audience-setting.png.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.test_editor_flow import log_in_to_admin
from tests.browser.test_page_editor import (
    add_body_block,
    has_block_settings,
    open_editor,
    publish,
    quiet_editor,  # noqa: F401 - an autouse fixture of this module too
    visible_labels,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HEADING = "Members' workshop evening"


def test_an_editor_hides_a_call_to_action_from_signed_in_visitors(
    demo_site: str, new_page: Any, screenshot: Any
) -> None:
    from wagtail.models import Page

    base = demo_site
    editor = new_page()
    log_in_to_admin(editor, base)
    page = open_editor(editor, base, "choosing-a-rain-jacket")
    prefix = add_body_block(editor, "Call to action")
    value = f"{prefix}-value"
    editor.locator(f"#{value}-heading").fill(HEADING)
    editor.locator(f"#{value}-text").fill("Bring your jacket; we show you how to care for it.")
    editor.locator(f"#{value}-link_label").fill("Sign up")
    editor.locator(f"#{value}-link_url").fill("/accounts/register/")

    who = editor.locator(f"#{value}-audience-who")
    if has_block_settings():
        # Folded away until the editor opens the block's settings.
        expect(who).to_be_hidden()
        toggle = editor.locator(f'button[aria-controls="block_group-{value}-settings"]')
        toggle.click()
        expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(who).to_be_visible()
    expect(editor.locator(f'label[for="{value}-audience-who"]')).to_contain_text(
        "Who sees this block"
    )
    expect(visible_labels(editor, "Key")).to_have_count(0)

    segments = editor.locator(f'input[name="{value}-audience-segments-count"]').locator(
        "xpath=ancestor::*[@data-contentpath='segments'][1]"
    )
    groups = editor.locator(f"#{value}-audience-groups").locator(
        "xpath=ancestor::*[@data-contentpath='groups'][1]"
    )
    expect(segments).to_be_hidden()
    expect(groups).to_be_hidden()
    who.select_option(label="Everyone except visitors in these segments")
    expect(segments).to_be_visible()
    expect(groups).to_be_hidden()
    who.select_option(label="Only members of these groups")
    expect(segments).to_be_hidden()
    expect(groups).to_be_visible()
    who.select_option(label="Only visitors who are not logged in")
    expect(segments).to_be_hidden()
    expect(groups).to_be_hidden()
    who.scroll_into_view_if_needed()
    screenshot(editor, "audience-setting")

    publish(editor, page.title)

    stored = Page.objects.get(pk=page.pk).specific.body.raw_data[-1]["value"]
    assert stored["heading"] == HEADING
    audience = stored["audience"]
    assert (audience["who"], audience["segments"], audience["groups"]) == ("anonymous", [], [])
    assert re.fullmatch(r"[0-9a-f]{32}", audience["key"])

    visitor = new_page()
    visitor.goto(f"{base}{page.url}")
    expect(visitor.get_by_text(HEADING)).to_be_visible()
