"""In a real browser: the page editor's personalized and gated blocks, and segment previews.

- A registered-only gate shows neither "Groups" nor "Segments" and publishes on the first try.
- A personalized block's variant shows no "Key" label; its A/B test fields wait in the variant's
  settings area (Wagtail 8) until an editor opens it.
- The "As: <segment>" preview shows the page as an anonymous visitor sees it: no consent banner
  over the page, and "Log in" rather than the editor's "Log out".

Screenshots are written to tests/artifacts/ and, for the docs, to docs/images/.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.docs_images import for_docs
from tests.browser.test_editor_flow import log_in_to_admin

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

GATE_TEASER = "The packing list is free for registered readers."
GATE_BUTTON = "Register to see the packing list"
GATE_CONTENT = "Packing list: shell, puffy, spare gloves"
VARIANT_HEADING = "Grüß Gott from Innsbruck"
SEGMENT_NAME = "From DACH"


@pytest.fixture(autouse=True)
def quiet_editor(settings: Any) -> None:
    """No requests from the editor in the background: no editing-session pings, no preview
    auto-update (the preview loads when opened and when its mode changes).

    The live server's in-memory SQLite is one connection shared by its request threads, so a
    background request that lands while a publish runs, or while the test database is flushed,
    could break that transaction: in these tests only, not on a real database.
    """
    settings.WAGTAIL_EDITING_SESSION_PING_INTERVAL = 600_000
    settings.WAGTAIL_AUTO_UPDATE_PREVIEW_INTERVAL = 0


def for_current_docs(path: Path, name: str) -> None:
    """The screenshot for the docs (Wagtail 8 only: the docs show the current Wagtail)."""
    if has_block_settings():
        for_docs(path, name)


def has_block_settings() -> bool:
    """Whether this Wagtail folds StructBlock fields into a settings area (Wagtail 8)."""
    from wagtail import blocks

    return hasattr(blocks, "BlockGroup")


def open_editor(page: Any, base: str, slug: str) -> Any:
    """Open the editor of the demo page with ``slug``; the page object."""
    from wagtail.models import Page

    target = Page.objects.get(slug=slug).specific
    page.goto(f"{base}/admin/pages/{target.pk}/edit/")
    expect(page.locator('input[name="body-count"]')).to_have_count(1)
    return target


def add_body_block(page: Any, label: str) -> str:
    """Append a block to the page body; the new block's form prefix (``body-<n>``)."""
    count = int(page.locator('input[name="body-count"]').input_value())
    body = page.locator('[data-contentpath="body"]').first
    body.get_by_role("button", name="Insert a block").last.click()
    page.get_by_role("option", name=label, exact=True).click()
    prefix = f"body-{count}"
    expect(page.locator(f'input[name="{prefix}-type"]')).to_have_value(
        label.lower().replace(" ", "_")
    )
    return prefix


def publish(page: Any, title: str) -> None:
    """Publish once and expect Wagtail's success message."""
    page.locator("footer .actions--primary .w-dropdown__toggle").click()
    page.locator('button[name="action-publish"]').click()
    expect(page.locator(".messages")).to_contain_text(f"'{title}' has been published")


def test_a_registered_only_gate_publishes_on_the_first_try(
    demo_site: str, new_page: Any, screenshot: Any
) -> None:
    from wagtail.models import Page

    base = demo_site
    editor = new_page()
    log_in_to_admin(editor, base)
    page = open_editor(editor, base, "layering-for-ski-touring")
    prefix = add_body_block(editor, "Gated")

    requirement = editor.locator(f"#{prefix}-value-requirement")
    groups = editor.locator(f"#{prefix}-value-groups").locator(
        "xpath=ancestor::*[@data-contentpath='groups'][1]"
    )
    segments = editor.locator(f'input[name="{prefix}-value-segments-count"]').locator(
        "xpath=ancestor::*[@data-contentpath='segments'][1]"
    )
    # Only the fields the chosen requirement uses are shown.
    requirement.select_option(label="Members of a group")
    expect(groups).to_be_visible()
    expect(segments).to_be_hidden()
    requirement.select_option(label="Visitors in a segment")
    expect(groups).to_be_hidden()
    expect(segments).to_be_visible()
    requirement.select_option(label="Registered (logged-in) visitors")
    expect(groups).to_be_hidden()
    expect(segments).to_be_hidden()
    # The new block's one empty segment row stays, hidden: it must not block publishing.
    expect(editor.locator(f'input[name="{prefix}-value-segments-count"]')).to_have_value("1")

    teaser = editor.locator('[data-contentpath="teaser"]').filter(
        has=editor.locator(f'input[name="{prefix}-value-teaser"]')
    )
    teaser.locator('[contenteditable="true"]').click()
    editor.keyboard.type(GATE_TEASER)
    editor.locator(f"#{prefix}-value-cta_label").fill(GATE_BUTTON)
    content = editor.locator(f'div:has(> input[name="{prefix}-value-content-count"])')
    content.get_by_role("button", name="Insert a block").first.click()
    editor.get_by_role("option", name="Heading", exact=True).click()
    editor.locator(f"#{prefix}-value-content-0-value").fill(GATE_CONTENT)
    # The inserted block has finished appearing (its header is shown) before the screenshot.
    expect(content.get_by_role("heading", name=re.compile("^Heading"))).to_be_visible()
    requirement.scroll_into_view_if_needed()
    for_current_docs(screenshot(editor, "page-editor-gate"), "page-editor-gate")

    publish(editor, page.title)

    stored = Page.objects.get(pk=page.pk).specific.body.raw_data[-1]["value"]
    assert stored["requirement"] == "authenticated"
    assert (stored["groups"], stored["segments"]) == ([], [])
    assert stored["cta_label"] == GATE_BUTTON
    assert GATE_TEASER in stored["teaser"]
    assert stored["content"][0]["value"] == GATE_CONTENT


def visible_labels(page: Any, text: str) -> Any:
    """The visible field labels that read exactly ``text``."""
    return (
        page.locator("label.w-field__label")
        .filter(visible=True)
        .filter(has_text=re.compile(rf"^\s*{re.escape(text)}\s*\*?\s*$"))
    )


def test_a_variant_hides_its_key_and_folds_the_ab_test_and_previews_anonymously(
    demo_site: str, new_page: Any, screenshot: Any
) -> None:
    base = demo_site
    editor = new_page()
    log_in_to_admin(editor, base)
    page = open_editor(editor, base, "layering-for-ski-touring")
    prefix = add_body_block(editor, "Personalized")
    # A new personalized block starts with one variant.
    expect(editor.locator(f'input[name="{prefix}-value-variants-count"]')).to_have_value("1")
    variant = f"{prefix}-value-variants-0"
    expect(editor.locator(f"#{variant}-value-label")).to_be_visible()

    # The keys are in the form (the stored keys are kept) but nothing shows them.
    expect(editor.locator(f'input[name="{prefix}-value-key"]')).to_have_count(1)
    expect(editor.locator(f'input[name="{variant}-value-key"]')).to_have_count(1)
    expect(visible_labels(editor, "Key")).to_have_count(0)

    ab_labels = ["A/B test: alternatives", "Weight of the variant's content", "Holdout (%)"]
    if has_block_settings():
        for label in ab_labels:
            expect(visible_labels(editor, label)).to_have_count(0)

    chooser = editor.locator(f"#{variant}-value-segments-0-value-chooser")
    chooser.get_by_role("button", name="Choose segment").click()
    modal = editor.locator(".modal.in")
    expect(modal).to_contain_text("Choose segment")
    modal.locator('input[name="q"]').fill("DACH")
    modal.get_by_role("link", name=SEGMENT_NAME, exact=True).click()
    expect(modal).to_have_count(0)
    expect(editor.locator(f"#{variant}-value-segments-0-value-title")).to_have_text(SEGMENT_NAME)
    content = editor.locator(f'div:has(> input[name="{variant}-value-content-count"])')
    content.get_by_role("button", name="Insert a block").first.click()
    editor.get_by_role("option", name="Heading", exact=True).click()
    editor.locator(f"#{variant}-value-content-0-value").fill(VARIANT_HEADING)
    editor.locator(f"#{variant}-value-label").fill("Tirol: Grüß Gott")
    editor.locator(f"#{variant}-value-label").scroll_into_view_if_needed()
    shot = screenshot(editor, "page-editor-variant")

    if has_block_settings():
        # The variant's settings toggle (the cog) shows the A/B test's fields.
        toggle = editor.locator(f'button[aria-controls="block_group-{variant}-value-settings"]')
        toggle.click()
        expect(toggle).to_have_attribute("aria-expanded", "true")
        for label in ab_labels:
            expect(visible_labels(editor, label)).to_have_count(1)
        expect(visible_labels(editor, "Key")).to_have_count(0)
        editor.locator(f"#{variant}-value-label").scroll_into_view_if_needed()
        screenshot(editor, "page-editor-variant-settings")
    else:
        for label in ab_labels:
            expect(visible_labels(editor, label)).to_have_count(1)
    for_current_docs(shot, "page-editor-variant")

    # The preview panel opens on "Default visitor": the default content, logged out.
    editor.locator('button[data-side-panel-toggle="preview"]').click()
    preview = editor.frame_locator("#w-preview-iframe")
    # Rendering a preview can take a while on a busy machine.
    expect(preview.get_by_role("heading", name=page.title)).to_be_visible(timeout=60_000)
    expect(preview.get_by_role("heading", name=VARIANT_HEADING)).to_have_count(0)
    expect(preview.get_by_role("link", name="Log in")).to_be_visible()

    # "As: From DACH": the variant, as an anonymous visitor in the segment sees the page.
    editor.locator("#id_preview_mode").select_option(label=f"As: {SEGMENT_NAME}")
    expect(editor.locator("#w-preview-iframe")).to_have_attribute(
        "src", re.compile(r"mode=segment(%3A|:)dach"), timeout=60_000
    )
    expect(preview.get_by_role("heading", name=VARIANT_HEADING)).to_be_visible(timeout=60_000)
    expect(preview.get_by_role("link", name="Log in")).to_be_visible()
    expect(preview.get_by_text("Log out")).to_have_count(0)
    expect(preview.locator(".pz-banner")).to_have_count(0)
    # No placeholder for the browser to fill with the editor's own banner or visit.
    expect(preview.locator("[data-pz-fragment]")).to_have_count(0)
    expect(preview.get_by_text("Your visit, as the site sees it")).to_be_visible()
    preview.get_by_role("heading", name=VARIANT_HEADING).scroll_into_view_if_needed()
    screenshot(editor, "page-editor-preview-segment")
