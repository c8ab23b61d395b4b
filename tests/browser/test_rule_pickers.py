"""In a real browser: the segment form's pickers (checkboxes, searchable lists, regions by name).

Screenshots go to tests/artifacts/; the segment form with its pickers is also saved as
docs/images/segment-form.png for the rule builder reference.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS
from tests.browser.docs_images import for_docs
from tests.browser.test_editor_flow import log_in_to_admin, open_segments, who_cell

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EVENINGS = "Mobile visitors from Austria on weekday evenings"
SEARCH = "Came from a search engine"
ALPS = "Tirol and Bavaria"


def add_segment(page: Any, base: str, name: str) -> Any:
    """Segments → Add segment, with ``name``; the rules field."""
    open_segments(page, base)
    page.get_by_role("link", name="Add segment").click()
    page.wait_for_url(f"{base}/admin/snippets/personalize/segment/add/")
    page.locator("#id_name").fill(name)
    return page.locator('[data-contentpath="rules"]')


def add_rule(page: Any, rules: Any, label: str) -> Any:
    """Append the rule ``label`` to the rules; the new rule's block."""
    count = rules.locator("[data-streamfield-child]").count()
    rules.get_by_role("button", name="Insert a block").last.click()
    page.get_by_role("option", name=label, exact=True).click()
    block = rules.locator("[data-streamfield-child]").nth(count)
    expect(block).to_be_visible()
    return block


def pick(page: Any, block: Any, text: str, option: str) -> None:
    """Type ``text`` into a block's searchable picker and choose ``option``, as a user does."""
    box = block.get_by_role("combobox")
    box.click()
    box.press_sequentially(text)
    page.get_by_role("option", name=option, exact=True).click()
    expect(block.locator(".ts-control .item").filter(has_text=option)).to_have_count(1)


def save_form_image(page: Any, rules: Any, path: Path) -> None:
    """The rules field with a margin, as the page shows it (the sticky header kept out)."""
    rules.evaluate("element => element.scrollIntoView({block: 'start'})")
    page.evaluate("window.scrollBy(0, -120)")
    box = rules.bounding_box()
    path.parent.mkdir(exist_ok=True)
    clip = {"x": box["x"] - 2, "y": box["y"] - 16, "width": box["width"] + 20}
    clip["height"] = min(box["height"] + 24, page.viewport_size["height"] - clip["y"])
    page.screenshot(path=str(path), clip=clip, animations="disabled")


def save(page: Any, base: str, name: str) -> None:
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url(f"{base}/admin/snippets/personalize/segment/")
    expect(page.locator(".messages")).to_contain_text(f"'{name}' created")


def test_editor_ticks_and_searches_to_build_segments(
    demo_site: str, new_page: Any, screenshot: Any
) -> None:
    from personalize.models import Segment

    base = demo_site
    editor = new_page(viewport={"width": 1280, "height": 1500})
    log_in_to_admin(editor, base)

    # "Mobile visitors from Austria on weekday evenings": tick, search, tick, times.
    rules = add_segment(editor, base, EVENINGS)
    device = add_rule(editor, rules, "Device type is")
    device.get_by_role("checkbox", name="Mobile phone").check()
    country = add_rule(editor, rules, "Country is one of")
    pick(editor, country, "Aust", "Austria")
    days = add_rule(editor, rules, "Day of the week is")
    for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday"):
        days.get_by_role("checkbox", name=day).check()
    hours = add_rule(editor, rules, "Local time between")
    hours.get_by_label("From").fill("18:00")
    hours.get_by_label("Until (exclusive)").fill("22:00")
    # A click elsewhere closes the time lists; under load a list can open again as the focus
    # moves, so click until none is left open (the screenshot goes into the docs).
    pickers = editor.locator(".xdsoft_datetimepicker").filter(visible=True)
    for target in ("#id_name", "#id_description", "#id_name"):
        editor.locator(target).click()
        editor.wait_for_timeout(300)
        if pickers.count() == 0:
            break
    expect(pickers).to_have_count(0)
    screenshot(editor, "pickers-1-segment-form")
    form_image = ARTIFACTS / "pickers-1-rules.png"
    save_form_image(editor, rules, form_image)
    for_docs(form_image, "segment-form")
    save(editor, base, EVENINGS)
    sentence = (
        "Visitors on a mobile phone from Austria on Monday, Tuesday, Wednesday, Thursday or "
        "Friday between 18:00 and 22:00 local time"
    )
    expect(who_cell(editor, EVENINGS)).to_have_text(sentence)
    segment = Segment.objects.get(name=EVENINGS)
    assert segment.condition == {
        "$and": [
            {"device.type": {"$in": ["mobile"]}},
            {"geo.country": {"$in": ["AT"]}},
            {"time.weekday": {"$in": [1, 2, 3, 4, 5]}},
            {"time.time": {"$gte": "18:00", "$lt": "22:00"}},
        ]
    }

    # "Came from a search engine": one tick covers organic and paid search.
    rules = add_segment(editor, base, SEARCH)
    channel = add_rule(editor, rules, "Arrived through channel")
    channel.get_by_role("checkbox", name="A search engine (organic or paid)").check()
    channel.scroll_into_view_if_needed()
    screenshot(editor, "pickers-2-channel")
    save(editor, base, SEARCH)
    expect(who_cell(editor, SEARCH)).to_have_text("Visitors arriving from a search engine")
    screenshot(editor, "pickers-3-segment-list")
    assert Segment.objects.get(name=SEARCH).condition == {
        "$and": [{"referral.channel": {"$in": ["paid_search", "organic_search"]}}]
    }


def test_editor_chooses_regions_by_name(demo_site: str, new_page: Any, screenshot: Any) -> None:
    from personalize.models import Segment

    base = demo_site
    editor = new_page()
    log_in_to_admin(editor, base)

    rules = add_segment(editor, base, ALPS)
    region = add_rule(editor, rules, "Region is one of")
    pick(editor, region, "Tirol", "Tirol (Austria)")
    # The German name finds the region too, under its English name.
    box = region.get_by_role("combobox")
    box.press_sequentially("Bayern")
    expect(editor.get_by_role("option", name="Bavaria (Germany) Bayern")).to_be_visible()
    screenshot(editor, "pickers-4-region-search")
    editor.get_by_role("option", name="Bavaria (Germany) Bayern").click()
    save(editor, base, ALPS)
    expect(who_cell(editor, ALPS)).to_have_text(
        "Visitors from Tirol (Austria) or Bavaria (Germany)"
    )
    segment = Segment.objects.get(name=ALPS)
    assert segment.rules.raw_data[0]["value"] == {"values": ["AT-7", "DE-BY"]}
    assert segment.condition == {"$and": [{"geo.region": {"$in": ["AT-7", "DE-BY"]}}]}


def test_a_region_rule_stored_as_codes_opens_with_names(
    demo_site: str, new_page: Any, screenshot: Any
) -> None:
    """Rules saved by older versions (comma-separated codes) show their regions by name."""
    from django.db import connection

    from personalize.models import Segment

    segment = Segment.objects.create(name="Old regions", slug="old-regions")
    stored = [{"type": "region", "value": {"values": "at-7, DE-BY"}, "id": "old-rule"}]
    # Written as older versions stored it, around the blocks (no to_python on the way in).
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Segment._meta.db_table} SET rules = %s WHERE id = %s",  # noqa: S608
            [json.dumps(stored), segment.pk],
        )

    base = demo_site
    editor = new_page()
    log_in_to_admin(editor, base)
    editor.goto(f"{base}/admin/snippets/personalize/segment/edit/{segment.pk}/")
    items = editor.locator('[data-contentpath="rules"] .ts-control .item')
    expect(items).to_have_count(2)
    expect(items.nth(0)).to_contain_text("Tirol (Austria)")
    expect(items.nth(1)).to_contain_text("Bavaria (Germany)")
    items.nth(0).scroll_into_view_if_needed()
    screenshot(editor, "pickers-5-old-region-rule")
    editor.get_by_role("button", name="Save", exact=True).click()
    editor.wait_for_url(f"{base}/admin/snippets/personalize/segment/")
    segment.refresh_from_db()
    assert segment.rules.raw_data[0]["value"] == {"values": ["AT-7", "DE-BY"]}
    assert segment.summary == "Visitors from Tirol (Austria) or Bavaria (Germany)"


def test_pickers_work_by_keyboard_in_the_dark_theme(
    demo_site: str, new_page: Any, screenshot: Any
) -> None:
    """Tab to a picker, type, Enter to add, Backspace to remove; Space ticks a box."""
    from personalize.models import Segment

    base = demo_site
    editor = new_page(color_scheme="dark")
    log_in_to_admin(editor, base)
    rules = add_segment(editor, base, "Alpine countries")
    expect(editor.locator("html")).to_have_class(re.compile(r"w-theme-dark|w-theme-system"))
    country = add_rule(editor, rules, "Country is one of")
    box = country.get_by_role("combobox", name="Countries")
    box.focus()
    editor.keyboard.type("Switz")
    editor.keyboard.press("Enter")
    editor.keyboard.type("Liecht")
    editor.keyboard.press("Enter")
    editor.keyboard.type("Slov")
    expect(editor.get_by_role("option", name="Slovenia")).to_be_visible()
    screenshot(editor, "pickers-6-dark-keyboard")
    items = country.locator(".ts-control .item")
    expect(items).to_have_text(["Switzerland×", "Liechtenstein×"])
    for _letter in "Slov":
        editor.keyboard.press("Backspace")
    expect(box).to_have_value("")
    editor.keyboard.press("Backspace")  # in the empty box: removes the last country
    expect(items).to_have_text(["Switzerland×"])
    editor.keyboard.press("Escape")

    device = add_rule(editor, rules, "Device type is")
    tablet = device.get_by_role("checkbox", name="Tablet")
    tablet.focus()
    editor.keyboard.press("Space")
    expect(tablet).to_be_checked()
    device.scroll_into_view_if_needed()
    screenshot(editor, "pickers-7-dark-checkboxes")
    save(editor, base, "Alpine countries")
    assert Segment.objects.get(name="Alpine countries").condition == {
        "$and": [{"geo.country": {"$in": ["CH"]}}, {"device.type": {"$in": ["tablet"]}}]
    }


def test_a_gated_block_finds_its_group_by_search(
    demo_site: str, new_page: Any, screenshot: Any, settings: Any
) -> None:
    """The page editor's gated block picks groups with the same searchable picker."""
    from wagtail.models import Page

    # No background requests from the editor while it publishes (the live server's in-memory
    # SQLite is one connection shared by its threads).
    settings.WAGTAIL_EDITING_SESSION_PING_INTERVAL = 600_000
    settings.WAGTAIL_AUTO_UPDATE_PREVIEW_INTERVAL = 0
    base = demo_site
    editor = new_page()
    log_in_to_admin(editor, base)
    page = Page.objects.get(slug="layering-for-ski-touring").specific
    editor.goto(f"{base}/admin/pages/{page.pk}/edit/")
    count = editor.locator('input[name="body-count"]').input_value()
    prefix = f"body-{count}"
    body = editor.locator('[data-contentpath="body"]').first
    body.get_by_role("button", name="Insert a block").last.click()
    editor.get_by_role("option", name="Gated", exact=True).click()
    editor.locator(f"#{prefix}-value-requirement").select_option("group")
    groups = editor.locator('[data-contentpath="groups"]').filter(
        has=editor.locator(f'select[name="{prefix}-value-groups"]')
    )
    pick(editor, groups, "Cust", "Customers")
    groups.scroll_into_view_if_needed()
    screenshot(editor, "pickers-8-gated-groups")
    expect(editor.locator(f'select[name="{prefix}-value-groups"]')).to_have_values(["Customers"])
    # Leave the editor (Wagtail asks nothing more of the server) before the database is reset.
    editor.goto(f"{base}/admin/")
