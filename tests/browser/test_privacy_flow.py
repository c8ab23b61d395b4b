"""A consenting visitor reads their privacy page in words and downloads their data."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def test_privacy_page_and_download_speak_words_and_iso_dates(
    demo_site: str, new_page: Any, screenshot: Any
) -> None:
    base = demo_site
    visitor = new_page(accept_downloads=True)
    visitor.goto(f"{base}/")
    banner = visitor.get_by_role("region", name="Your choice about personal content")
    banner.get_by_role("button", name="Allow all").click()
    expect(banner).to_have_count(0)
    # Two pages tagged "ski-touring" (the demo's scoring rule "Reads about ski touring").
    visitor.goto(f"{base}/journal/first-tour-of-the-season/")
    visitor.goto(f"{base}/guides/layering-for-ski-touring/")
    visitor.goto(f"{base}/")

    visitor.get_by_role("link", name="Privacy & your data").click()
    expect(visitor.get_by_role("heading", name="Your privacy")).to_be_visible()
    profile = visitor.locator("#pz-profile")
    expect(profile.locator("dt", has_text="Your interest in ski touring")).to_be_visible()
    expect(profile).to_contain_text("Your interest in ski touring")
    interest = profile.locator("dt:text-is('Your interest in ski touring') + dd")
    expect(interest).to_have_text(re.compile(r"^\d+(\.\d+)? points?$"))
    expect(visitor.locator("#pz-consent")).to_contain_text("In a cookie in this browser")
    screenshot(visitor, "29-privacy-consent")
    # "Why you see what you see": the audience and the visitor's value, in words.
    segments = visitor.locator("#pz-segments")
    expect(segments).to_contain_text("Ski-touring fans")
    expect(
        segments.locator(".pz-values dt", has_text="Your interest in ski touring")
    ).to_have_count(1)
    body = visitor.locator("body").inner_text()
    assert "visitor.interests." not in body
    assert "visitor." not in body
    profile.scroll_into_view_if_needed()
    screenshot(visitor, "30-privacy-words")
    segments.scroll_into_view_if_needed()
    screenshot(visitor, "31-privacy-segments")

    with visitor.expect_download() as download_info:
        visitor.get_by_role("link", name="Download my data (JSON)").click()
    download = download_info.value
    assert re.fullmatch(r"personal-data-\d{4}-\d\d-\d\d\.json", download.suggested_filename)
    data = json.loads(Path(download.path()).read_text(encoding="utf-8"))
    assert data["format"] == "wagtail-personalize/export/2"
    assert ISO_UTC.match(data["exported_at"])
    consent = data["consent"]
    assert consent["source"] == "cookie"
    assert consent["explicit"] is True
    assert consent["purposes"] == ["necessary", "personalization", "analytics"]
    assert consent["granted"] == {"necessary": True, "personalization": True, "analytics": True}
    assert ISO_UTC.match(consent["at"])
    assert data["profile"]["consent"] == {
        "source": "cookie",
        "purposes": ["necessary", "personalization", "analytics"],
        "at": consent["at"],
    }
    for key in ("first_seen", "last_seen", "decayed_at"):
        assert ISO_UTC.match(data["profile"][key]), key
    assert ISO_UTC.match(data["dates"]["first_seen"])
    assert data["profile"]["interests"]["ski-touring"] > 0
    fans = next(s for s in data["segments"] if s["slug"] == "ski-touring-fans")
    assert fans["rules"][0]["values"][0]["label"] == "your interest in ski touring"
    assert all(ISO_UTC.match(item["at"]) for item in data["analytics"]["seen"] if item["at"])
