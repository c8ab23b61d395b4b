"""In a real browser: an editor targets Austrian visitors, who see it; a gate opens on sign-up.

Screenshots of every step are written to tests/artifacts/.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SEGMENT_NAME = "Visitors from Austria"
SEGMENT_SLUG = "visitors-from-austria"
VARIANT_LABEL = "Austria: Servus"
GREETING = "Servus aus Innsbruck"
DACH_HEADING = "Free shipping to Germany, Austria and Switzerland"
GUIDE = "/guides/layering-for-ski-touring/"
TEASER = "free for registered readers"
SECRET = "Base: merino"
GATE_CTA = "Create a free account to read on"


def log_in_to_admin(page: Any, base: str) -> None:
    page.goto(f"{base}/admin/login/")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill("admin-demo")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/admin/")


def open_segments(page: Any, base: str) -> None:
    page.locator(".sidebar-main-menu").get_by_role("link", name="Segments").click()
    page.wait_for_url(f"{base}/admin/snippets/personalize/segment/")


def segment_row(page: Any, name: str) -> Any:
    return page.locator("table.listing tbody tr").filter(
        has=page.get_by_role("link", name=name, exact=True)
    )


def who_cell(page: Any, name: str) -> Any:
    """The "Who" (summary) cell of the segment called ``name`` in the segments list."""
    headers = [text.strip() for text in page.locator("table.listing thead th").all_inner_texts()]
    assert "Who" in headers, headers
    return segment_row(page, name).locator("td").nth(headers.index("Who"))


def test_editor_personalizes_home_page_and_gate_opens_on_sign_up(
    demo_site: str, new_page: Any, screenshot: Any
) -> None:
    from django.contrib.auth.models import User

    from cms_site.home.models import HomePage
    from personalize.models import Segment

    base = demo_site
    home = HomePage.objects.get()
    editor = new_page()

    # 1. The editor logs into the Wagtail admin.
    log_in_to_admin(editor, base)

    # 2. Segments → Add segment: "Visitors from Austria", one rule "Country is one of" Austria.
    open_segments(editor, base)
    editor.get_by_role("link", name="Add segment").click()
    editor.wait_for_url(f"{base}/admin/snippets/personalize/segment/add/")
    editor.locator("#id_name").fill(SEGMENT_NAME)
    editor.locator("#id_slug").fill(SEGMENT_SLUG)
    rules = editor.locator('[data-contentpath="rules"]')
    rules.get_by_role("button", name="Insert a block").first.click()
    editor.get_by_role("option", name="Country is one of", exact=True).click()
    # The country picker is searchable: type part of the name, pick the country.
    countries = rules.get_by_role("combobox", name="Countries")
    countries.click()
    countries.press_sequentially("Aust")
    editor.get_by_role("option", name="Austria", exact=True).click()
    expect(rules.locator(".ts-control .item")).to_have_text(["Austria×"])
    expect(editor.locator("#rules-0-value-values")).to_have_values(["AT"])
    countries.scroll_into_view_if_needed()
    screenshot(editor, "01-segment-form")
    editor.get_by_role("button", name="Save", exact=True).click()
    editor.wait_for_url(f"{base}/admin/snippets/personalize/segment/")
    expect(editor.locator(".messages")).to_contain_text(f"'{SEGMENT_NAME}' created")
    expect(segment_row(editor, SEGMENT_NAME)).to_have_count(1)
    expect(who_cell(editor, SEGMENT_NAME)).to_have_text("Visitors from Austria")
    screenshot(editor, "02-segment-list")
    segment = Segment.objects.get(slug=SEGMENT_SLUG)
    assert (segment.name, segment.summary, segment.enabled) == (
        SEGMENT_NAME,
        "Visitors from Austria",
        True,
    )

    # 3. In the home page's personalized block, a new first variant for the new segment.
    editor.goto(f"{base}/admin/pages/{home.pk}/edit/")
    variant_list = editor.locator('[data-contentpath="variants"]').filter(
        has=editor.locator('input[name="body-0-value-variants-count"]')
    )
    seeded_variants = int(editor.locator('input[name="body-0-value-variants-count"]').input_value())
    assert seeded_variants == 6
    # The list's first "Add" button inserts above the seeded variants.
    variant_list.locator("[data-streamfield-list-add]").first.click()
    new_variant = f"body-0-value-variants-{seeded_variants}"
    expect(editor.locator(f'input[name="{new_variant}-order"]')).to_have_value("0")
    expect(editor.locator('input[name="body-0-value-variants-0-order"]')).to_have_value("1")
    editor.locator(f"#{new_variant}-value-label").fill(VARIANT_LABEL)

    chooser = editor.locator(f"#{new_variant}-value-segments-0-value-chooser")
    chooser.get_by_role("button", name="Choose segment").click()
    modal = editor.locator(".modal.in")
    expect(modal).to_contain_text("Choose segment")
    modal.locator('input[name="q"]').fill("Austria")
    expect(modal.get_by_role("link", name=SEGMENT_NAME, exact=True)).to_be_visible()
    screenshot(editor, "03-segment-chooser")
    modal.get_by_role("link", name=SEGMENT_NAME, exact=True).click()
    expect(modal).to_have_count(0)
    expect(editor.locator(f"#{new_variant}-value-segments-0-value-title")).to_have_text(
        SEGMENT_NAME
    )
    expect(editor.locator(f"#{new_variant}-value-segments-0-value")).to_have_value(str(segment.pk))

    content = editor.locator(f'div:has(> input[name="{new_variant}-value-content-count"])')
    content.get_by_role("button", name="Insert a block").first.click()
    editor.get_by_role("option", name="Heading", exact=True).click()
    editor.locator(f"#{new_variant}-value-content-0-value").fill(GREETING)
    editor.locator(f"#{new_variant}-value-label").scroll_into_view_if_needed()
    screenshot(editor, "04-new-variant")

    editor.locator("footer .actions--primary .w-dropdown__toggle").click()
    editor.locator('button[name="action-publish"]').click()
    editor.wait_for_url(re.compile(r"/admin/pages/\d+/$"))
    expect(editor.locator(".messages")).to_contain_text(f"'{home.title}' has been published")
    screenshot(editor, "05-published")

    home.refresh_from_db()
    variants = home.body[0].value["variants"]
    assert [v["label"] for v in variants] == [
        VARIANT_LABEL,
        "Cooling down: welcome back",
        "Ready to buy: book a fitting",
        "Ski-touring fans: touring kit",
        "Ads: first-order offer",
        "DACH: free shipping",
        "Phones: call us",
    ]
    assert list(variants[0]["segments"]) == [segment.pk]

    # 4. A visitor from Austria (per the CDN's header) gets the new variant, one from Germany not.
    austrian = new_page(extra_http_headers={"CF-IPCountry": "AT"})
    austrian.goto(f"{base}/")
    expect(austrian.get_by_role("heading", name=GREETING)).to_be_visible()
    expect(austrian.get_by_text(DACH_HEADING)).to_have_count(0)
    screenshot(austrian, "06-home-visitor-at")

    german = new_page(extra_http_headers={"CF-IPCountry": "DE"})
    german.goto(f"{base}/")
    expect(german.get_by_role("heading", name=DACH_HEADING)).to_be_visible()
    expect(german.get_by_text(GREETING)).to_have_count(0)
    screenshot(german, "07-home-visitor-de")

    # 5. The gate shows the teaser, not the content, until the visitor has an account.
    reader = new_page()
    reader.goto(f"{base}{GUIDE}")
    expect(reader.get_by_text(TEASER)).to_be_visible()
    expect(reader.get_by_text(SECRET)).to_have_count(0)
    screenshot(reader, "08-guide-locked")

    reader.get_by_role("link", name=GATE_CTA).click()
    reader.wait_for_url(f"{base}/accounts/register/?next={quote(GUIDE, safe='')}")
    reader.get_by_label("Username").fill("lena")
    reader.get_by_label("First name").fill("Lena")
    reader.get_by_label("Email").fill("lena@example.com")
    reader.locator("#id_password1").fill("Zirbenholz-Tisch-42")
    reader.locator("#id_password2").fill("Zirbenholz-Tisch-42")
    screenshot(reader, "09-register")
    reader.get_by_role("button", name="Create account").click()

    reader.wait_for_url(f"{base}{GUIDE}")
    expect(reader.get_by_text(SECRET)).to_be_visible()
    expect(reader.get_by_text(TEASER)).to_have_count(0)
    reader.get_by_text(SECRET).scroll_into_view_if_needed()
    screenshot(reader, "10-guide-open")
    assert User.objects.get(username="lena").first_name == "Lena"


def test_segments_list_shows_who_each_segment_is_for(
    demo_site: str, new_page: Any, screenshot: Any
) -> None:
    base = demo_site
    editor = new_page()
    log_in_to_admin(editor, base)
    open_segments(editor, base)

    expected = {
        "Mobile visitors": "Visitors on a mobile phone",
        "From DACH": "Visitors from Germany, Austria or Switzerland",
        "Paid-search arrivals": "Visitors arriving from paid search",
        "Newsletter readers": "Visitors arriving from email",
        "Logged-in customers": "Visitors who are logged in and who are in the group Customers",
    }
    expect(editor.locator("table.listing tbody tr")).to_have_count(11)
    for name, who in expected.items():
        expect(who_cell(editor, name)).to_have_text(who)
    screenshot(editor, "11-segments-who")
