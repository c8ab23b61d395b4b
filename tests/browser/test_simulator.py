"""In a real browser: an editor simulates an Austrian phone on a Monday evening, on the live site
and in the page editor's preview.

Screenshots are written to tests/artifacts/ and, with ``make docs-images``, to
docs/images/simulator-form.png and docs/images/simulator-bar.png.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.docs_images import for_docs

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SEGMENT = "Mobile visitors from Austria on weekday evenings"
DACH_HEADING = "Free shipping to Germany, Austria and Switzerland"
DEFAULT_HEADING = "New here?"
DESCRIPTION = "a mobile phone from Austria, Monday 19:30 (Europe/Vienna)"
DESCRIPTION_TIROL = "a mobile phone from Tirol (Austria), Monday 19:30 (Europe/Vienna)"


def next_monday() -> date:
    today = datetime.now(UTC).date()
    return today + timedelta(days=(7 - today.weekday()) % 7 or 7)


def seed_segment() -> None:
    """The segment the editor tests: Austrian phones on weekday evenings."""
    from personalize.models import Segment

    segment = Segment(name=SEGMENT, slug="austrian-weekday-evening-phones")
    segment.rules = [
        {"type": "country", "value": {"values": ["AT"]}},
        {"type": "device_type", "value": {"values": ["mobile"]}},
        {"type": "weekdays", "value": {"values": ["1", "2", "3", "4", "5"]}},
        {"type": "time_window", "value": {"start": "18:00:00", "end": "23:00:00"}},
    ]
    segment.full_clean()
    segment.save()


def log_in_to_admin(page: Any, base: str) -> None:
    page.goto(f"{base}/admin/login/")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill("admin-demo")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/admin/")


def pick(form: Any, field: str, text: str) -> None:
    """Choose ``text`` in a select, by typing into its search box when it is searchable."""
    search = form.locator(f"#{field}-ts-control")
    if search.count():
        form.locator(f".ts-wrapper:has(#{field}-ts-control) .ts-control").click()
        search.fill(text)
        form.locator(f"#{field}-ts-dropdown .option", has_text=text).first.click()
    else:
        form.locator(f"#{field}").select_option(label=text)


def fill_austrian_phone(form: Any) -> None:
    pick(form, "id_country", "Austria")
    form.locator("#id_device").select_option("mobile")
    form.locator("#id_date").fill(next_monday().isoformat())
    form.locator("#id_time").fill("19:30")


def search_region(form: Any, text: str) -> Any:
    """Type into the region's search box; the options it finds."""
    form.locator(".ts-wrapper:has(#id_region-ts-control) .ts-control").click()
    form.locator("#id_region-ts-control").fill(text)
    return form.locator("#id_region-ts-dropdown .option")


def pick_region_by_name(form: Any) -> None:
    """Type part of the region's name and choose it: the form keeps its code."""
    search_region(form, "Tiro").filter(has_text="Tirol (Austria)").click()
    expect(form.locator("#id_region")).to_have_value("AT-7")


def userbar_serves_signed_out_pages() -> bool:
    """Wagtail 7.1 and later render the userbar for a signed-out page an editor asked for."""
    from wagtail.admin import userbar

    return hasattr(userbar, "Userbar")


def for_current_docs(path: Path, name: str) -> None:
    """The screenshot for the docs (with ``make docs-images``; the docs show the current Wagtail,
    whose userbar also serves a signed-out simulated page)."""
    if userbar_serves_signed_out_pages():
        for_docs(path, name)


def test_editor_simulates_an_austrian_phone_on_a_monday_evening(
    demo_site: str, new_page: Any, screenshot: Any
) -> None:
    seed_segment()
    base = demo_site
    editor = new_page()
    log_in_to_admin(editor, base)

    # The editor's own view of the home page: a desktop in no known country, signed in.
    editor.goto(f"{base}/")
    expect(editor.get_by_role("heading", name=DEFAULT_HEADING)).to_be_visible()
    header = editor.locator("header.site-header")
    expect(header.get_by_role("button", name="Log out Ada")).to_be_visible()

    # Userbar → "Simulate a visitor…" opens the simulator's form.
    editor.locator("#wagtail-userbar-trigger").click()
    editor.get_by_role("menuitem", name="Simulate a visitor…").click()
    editor.wait_for_url(f"{base}/admin/personalize/simulate/?next=%2F")
    expect(editor.get_by_role("heading", name="Simulate a visitor")).to_be_visible()
    fill_austrian_phone(editor)
    # Regions by name, in any of their names: "Bayern" finds Bavaria.
    found = search_region(editor, "Bayern")
    expect(found.first).to_contain_text("Bavaria (Germany)")
    screenshot(editor, "simulator-region-search")
    editor.keyboard.press("Escape")
    pick_region_by_name(editor)
    editor.get_by_role("heading", name="Simulate a visitor").click()  # no field focused
    shot = screenshot(editor, "simulator-form")
    editor.screenshot(path=str(shot), full_page=True, animations="disabled")
    for_current_docs(shot, "simulator-form")
    editor.get_by_role("button", name="Simulate this visitor").click()

    # Back on the home page: the Austrian variant, signed out as the simulated visitor is, and
    # the bar saying who and why.
    editor.wait_for_url(f"{base}/")
    expect(editor.get_by_role("heading", name=DACH_HEADING)).to_be_visible()
    expect(header.get_by_role("link", name="Log in")).to_be_visible()
    expect(header.get_by_text("Log out")).to_have_count(0)
    bar = editor.locator("#pz-sim")
    expect(bar).to_be_visible()
    expect(bar).to_contain_text("Simulating:")
    expect(bar).to_contain_text(DESCRIPTION_TIROL)
    expect(bar.locator(".pz-sim__tag", has_text=SEGMENT)).to_be_visible()
    bar.get_by_text("Why?", exact=True).click()
    reasons = bar.locator(".pz-sim__segment", has_text=SEGMENT)
    expect(reasons).to_contain_text("matched")
    expect(reasons).to_contain_text("Austria")
    expect(reasons).to_contain_text("19:30")
    expect(reasons.locator(".pz-sim__mark--no")).to_have_count(0)
    for_current_docs(screenshot(editor, "simulator-bar"), "simulator-bar")
    bar.get_by_text("Why?", exact=True).click()

    # The userbar still knows the editor: it edits the simulated visitor (Wagtail 7.0's userbar
    # cannot serve a signed-out page: there the bar's Edit is the way back to the form).
    if userbar_serves_signed_out_pages():
        editor.locator("#wagtail-userbar-trigger").click()
        expect(editor.get_by_role("menuitem", name="Edit the simulated visitor…")).to_be_visible()
        editor.keyboard.press("Escape")
    else:
        expect(editor.locator("#wagtail-userbar-trigger")).to_have_count(0)

    # Another page: the bar is still there, the header still signed out.
    editor.goto(f"{base}/journal/")
    expect(editor.locator("#pz-sim")).to_contain_text(DESCRIPTION_TIROL)
    expect(header.get_by_role("link", name="Log in")).to_be_visible()

    # Exit: the bar is gone, and the home page is the editor's own again.
    editor.locator("#pz-sim").get_by_role("button", name="Exit").click()
    editor.wait_for_url(f"{base}/journal/")
    expect(editor.locator("#pz-sim")).to_have_count(0)
    editor.goto(f"{base}/")
    expect(editor.get_by_role("heading", name=DEFAULT_HEADING)).to_be_visible()
    expect(editor.locator("#pz-sim")).to_have_count(0)
    expect(header.get_by_role("button", name="Log out Ada")).to_be_visible()
    screenshot(editor, "simulator-exited")


def test_editor_simulates_from_the_page_editors_preview(
    demo_site: str, new_page: Any, screenshot: Any
) -> None:
    from cms_site.home.models import HomePage

    seed_segment()
    base = demo_site
    editor = new_page(viewport={"width": 1600, "height": 1000})
    log_in_to_admin(editor, base)
    editor.goto(f"{base}/admin/pages/{HomePage.objects.get().pk}/edit/")

    # Preview → "Simulated visitor": nobody is simulated yet, the bar offers the simulator.
    editor.locator('button[data-side-panel-toggle="preview"]').click()
    preview = editor.frame_locator("#w-preview-iframe")
    # A mode chosen before the first preview has loaded is lost: wait for it.
    expect(preview.get_by_role("heading", name=DEFAULT_HEADING)).to_be_visible(timeout=60_000)
    editor.locator("#id_preview_mode").select_option(label="Simulated visitor")
    expect(editor.locator("#w-preview-iframe")).to_have_attribute(
        "src", re.compile(r"mode=simulation"), timeout=60_000
    )
    expect(preview.locator("#pz-sim")).to_contain_text("a visitor nothing is known about")
    expect(preview.get_by_role("heading", name=DEFAULT_HEADING)).to_be_visible()
    preview.locator("#pz-sim").get_by_role("link", name="Simulate a visitor…").click()

    # The same form, inside the preview panel; it comes back to the preview.
    expect(preview.get_by_role("heading", name="Simulate a visitor")).to_be_visible()
    fill_austrian_phone(preview)
    preview.get_by_role("button", name="Simulate this visitor").click()
    expect(preview.get_by_role("heading", name=DACH_HEADING)).to_be_visible()
    expect(preview.locator("#pz-sim")).to_contain_text(DESCRIPTION)
    expect(preview.locator("#pz-sim .pz-sim__tag", has_text=SEGMENT)).to_be_visible()
    screenshot(editor, "simulator-preview")

    # The live site shows the same simulation until the editor exits it.
    site = editor.context.new_page()
    site.goto(f"{base}/")
    expect(site.locator("#pz-sim")).to_contain_text(DESCRIPTION)
    site.locator("#pz-sim").get_by_role("button", name="Exit").click()
    expect(site.locator("#pz-sim")).to_have_count(0)
