"""The privacy page, the data download and erasure."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from personalize.models import Profile
from personalize.profiles.store import ProfileKey, new_visitor_id, profile_store
from personalize.rules.scoring import ProfileState
from personalize.signals.consent import dump_consent_cookie
from personalize.visitors.identity import dump_visitor_id
from tests.conftest import IPHONE

pytestmark = pytest.mark.django_db

DAY = 86400.0


def consent_to(client: Client, *purposes: str) -> None:
    client.cookies["pz_consent"] = dump_consent_cookie(purposes, time.time())


def stored_state(now: float) -> ProfileState:
    """A profile with every kind of data, not decayed (``decayed_at`` is now)."""
    return ProfileState(
        visits=3,
        first_seen=datetime(2026, 3, 14, 12, tzinfo=UTC).timestamp(),
        last_seen=now - 60,
        score=60.0,
        peak_score=85.0,
        decayed_at=now,
        interests={"climbing": 2.5, "skiing": 5.0, "hiking": 2.5},
        prefs={"sport": "skiing", "lang": "de"},
        prefs_at={"sport": now - DAY, "lang": now - 2 * DAY},
    )


@pytest.fixture
def anonymous(client: Client) -> str:
    """A consenting anonymous visitor with a stored profile; returns the visitor id."""
    visitor_id = new_visitor_id()
    profile_store().update(ProfileKey(visitor_id=visitor_id), lambda _: stored_state(time.time()))
    consent_to(client, "personalization", "analytics")
    client.cookies["pz_vid"] = dump_visitor_id(visitor_id)
    return visitor_id


@pytest.fixture
def customer(db: Any) -> User:
    return User.objects.create_user("anna", "anna@example.com", "pw", first_name="Anna")


def directives(response: Any) -> set[str]:
    return {part.strip() for part in response["Cache-Control"].split(",")}


def test_privacy_urls() -> None:
    assert reverse("personalize:privacy") == "/personalize/privacy/"
    assert reverse("personalize:privacy_export") == "/personalize/privacy/export/"
    assert reverse("personalize:privacy_erase") == "/personalize/privacy/erase/"


# --- GET /personalize/privacy/ -------------------------------------------------------------------


def test_privacy_page_for_a_new_visitor_stores_nothing(client: Client) -> None:
    response = client.get("/personalize/privacy/", headers={"User-Agent": IPHONE})
    html = response.content.decode()
    assert response.status_code == 200
    assert {"private", "no-store"} <= directives(response)
    assert "pz_vid" not in response.cookies
    assert "pz_attr" not in response.cookies
    assert Profile.objects.count() == 0
    assert [key for key in cache._cache if ":profile:" in key] == []  # type: ignore[attr-defined]
    assert "You have not made a choice, so we use only what is necessary" in html
    assert "We have not stored anything about you." in html
    assert "Nothing is stored until you allow personalization." in html
    assert "<dt>Device type</dt><dd>mobile phone</dd>" in html
    assert "<dt>Operating system</dt><dd>iOS</dd>" in html
    assert '<span class="pz-no">Not allowed</span>' in html
    assert "Your browser did not send the signal." in html


def test_reading_the_privacy_page_with_consent_creates_nothing(client: Client) -> None:
    consent_to(client, "personalization")
    response = client.get("/personalize/privacy/")
    assert response.status_code == 200
    assert "pz_vid" not in response.cookies
    assert Profile.objects.count() == 0
    html = response.content.decode()
    assert "We have not stored anything about you." in html
    assert "Nothing is stored until" not in html
    assert "You made your choice on" in html


def test_privacy_page_shows_the_stored_profile(client: Client, anonymous: str) -> None:
    response = client.get("/personalize/privacy/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<dt>Visits</dt><dd>3</dd>" in html
    assert '<time datetime="2026-03-14T13:00:00+01:00">March 14, 2026</time>' in html
    assert "<dt>Engagement score</dt><dd>60.0 " in html
    assert "<dt>Journey stage</dt><dd>consideration</dd>" in html
    assert "<dt>Highest stage reached</dt><dd>intent</dd>" in html
    # Interests strongest first, ties by name.
    rows = [
        html.index(f"<dt>Your interest in {tag}</dt>") for tag in ("skiing", "climbing", "hiking")
    ]
    assert rows == sorted(rows)
    assert "<dt>Your interest in skiing</dt><dd>5 points</dd>" in html
    assert "<dt>Your interest in climbing</dt><dd>2.5 points</dd>" in html
    # Each preference with a form to change or remove it.
    assert '<th scope="row">Lang</th>' in html
    assert 'id="pz-pref-sport"' in html
    assert 'name="value" value="skiing"' in html
    assert 'name="remove" value="1"' in html
    assert "pz_vid" not in response.cookies
    assert {"private", "no-store"} <= directives(response)


def test_privacy_page_preferences_are_read_only_without_consent(client: Client) -> None:
    user = User.objects.create_user("ben", "ben@example.com", "pw")
    state = replace(stored_state(time.time()), consent=("necessary",), consent_at=time.time())
    profile_store().update(ProfileKey(user_id=user.pk), lambda _: state)
    client.force_login(user)
    html = client.get("/personalize/privacy/").content.decode()
    assert '<th scope="row">Sport</th>' in html
    assert 'id="pz-pref-sport"' not in html
    assert "You made your choice on" in html  # the account's stored choice applies


def test_privacy_page_explains_matched_segments(
    client: Client, anonymous: str, segment_factory: Any
) -> None:
    segment_factory(
        "Mobile skiers",
        slug="mobile-skiers",
        rules=[
            {"type": "device_type", "value": {"values": ["mobile"]}},
            {"type": "preference", "value": {"key": "sport", "operator": "eq", "value": "skiing"}},
        ],
    )
    segment_factory("Desktop", slug="desktop", condition={"device.type": "desktop"})
    response = client.get("/personalize/privacy/", headers={"User-Agent": IPHONE})
    html = response.content.decode()
    assert "<h3>Mobile skiers</h3>" in html
    assert "All of these rules must hold:" in html
    assert "<dt>Your device</dt><dd>mobile phone</dd>" in html
    assert "<dt>Your answer to “sport”</dt><dd>skiing</dd>" in html
    assert "visitor.prefs" not in html
    assert "Desktop" not in html  # only the audiences the visitor is in


def test_privacy_page_shows_signals_and_gpc(client: Client) -> None:
    response = client.get(
        "/personalize/privacy/",
        headers={"CF-IPCountry": "AT", "Sec-GPC": "1", "Referer": "https://www.google.com/"},
        REMOTE_ADDR="10.0.0.1",
    )
    html = response.content.decode()
    assert "<dt>Country</dt><dd>Austria</dd>" in html
    assert "<dt>Continent</dt><dd>Europe</dd>" in html
    assert "<dt>Channel</dt><dd>organic search</dd>" in html
    assert "Your browser sent the signal, and we honour it" in html


def test_privacy_page_consent_form_reflects_the_choice(client: Client) -> None:
    consent_to(client, "analytics")
    html = client.get("/personalize/privacy/").content.decode()
    assert 'value="analytics" id="pz-purpose-analytics" checked>' in html
    assert 'value="personalization" id="pz-purpose-personalization">' in html
    assert '<input type="hidden" name="next" value="/personalize/privacy/">' in html


def test_privacy_page_refuses_post(client: Client) -> None:
    assert client.post("/personalize/privacy/").status_code == 405


# --- GET /personalize/privacy/export/ -------------------------------------------------------------


def test_export_contains_everything(client: Client, anonymous: str) -> None:
    response = client.get("/personalize/privacy/export/", headers={"User-Agent": IPHONE})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].startswith('attachment; filename="personal-data-')
    assert {"private", "no-store"} <= directives(response)
    data = json.loads(response.content)
    assert data["format"] == "wagtail-personalize/export/2"
    assert data["consent"]["purposes"] == ["necessary", "personalization", "analytics"]
    assert data["consent"]["explicit"] is True
    assert data["consent"]["gpc"] is False
    assert data["signals"]["device"] == {"type": "mobile", "os": "iOS", "browser": "Mobile Safari"}
    assert set(data["signals"]) == {"geo", "device", "time", "referral"}
    assert data["identity"] == {"visitor_id": anonymous, "user_id": None}
    assert data["profile"]["visits"] == 3
    assert data["profile"]["prefs"] == {"sport": "skiing", "lang": "de"}
    assert data["profile"]["interests"]["skiing"] == 5.0
    assert data["visitor"]["stage"] == "consideration"
    assert data["dates"]["first_seen"] == "2026-03-14T12:00:00Z"
    assert data["profile"]["first_seen"] == "2026-03-14T12:00:00Z"
    assert data["merges"] == []
    assert data["other_profiles"] == []
    assert data["segments"] == []
    assert "pz_vid" not in response.cookies


def test_export_of_a_known_user_has_the_merge_audit(
    client: Client, customer: User, segment_factory: Any
) -> None:
    segment_factory("Phones", slug="phones", condition={"device.type": "mobile"})
    audit = {"at": 1_780_000_000.0, "action": "merged", "visitor_id": "ab" * 16, "visits": 2}
    state = replace(
        stored_state(time.time()),
        consent=("necessary", "personalization"),
        consent_at=1_780_000_000.0,
        merges=(audit,),
    )
    profile_store().update(ProfileKey(user_id=customer.pk), lambda _: state)
    client.force_login(customer)
    data = client.get("/personalize/privacy/export/", headers={"User-Agent": IPHONE}).json()
    assert data["identity"]["user_id"] == customer.pk
    assert data["consent"]["purposes"] == ["necessary", "personalization"]
    assert data["merges"] == [{**audit, "at": "2026-05-28T20:26:40Z"}]
    assert data["profile"]["merges"] == data["merges"]
    assert data["segments"][0]["slug"] == "phones"
    assert data["segments"][0]["rules"][0]["attributes"] == {"device.type": "mobile"}
    html = client.get("/personalize/privacy/").content.decode()
    assert "Earlier visits joined into this profile when you logged in" in html


def test_export_without_anything_stored(client: Client) -> None:
    data = client.get("/personalize/privacy/export/").json()
    assert data["profile"] is None
    assert data["identity"] is None
    assert data["consent"]["purposes"] == ["necessary"]
    assert data["consent"]["explicit"] is False
    assert Profile.objects.count() == 0


# --- POST /personalize/privacy/erase/ -------------------------------------------------------------


def expired(response: Any, name: str) -> bool:
    cookie = response.cookies[name]
    return cookie.value == "" and cookie["max-age"] == 0


def test_erase_an_anonymous_visitor(client: Client, anonymous: str) -> None:
    key = ProfileKey(visitor_id=anonymous)
    client.get("/personalize/privacy/")  # the profile is now cached
    assert cache.get(key.cache_key) is not None
    response = client.post("/personalize/privacy/erase/", {"confirm": "1"})
    assert response.status_code == 303
    assert response["Location"] == "/personalize/privacy/"
    assert Profile.objects.count() == 0
    assert cache.get(key.cache_key) is None
    for name in ("pz_vid", "pz_attr", "pz_tz", "pz_consent"):
        assert expired(response, name), name
    page = client.get(response["Location"])
    html = page.content.decode()
    assert (
        '<div class="pz-notice" role="status"><p>Everything we stored about you has been erased.'
        in html
    )
    assert "We have not stored anything about you." in html
    assert "You have not made a choice" in html


def test_erase_a_known_user_and_the_browser_profile(client: Client, customer: User) -> None:
    user_key = ProfileKey(user_id=customer.pk)
    profile_store().update(user_key, lambda _: stored_state(time.time()))
    browser_id = new_visitor_id()
    profile_store().update(ProfileKey(visitor_id=browser_id), lambda _: ProfileState(visits=1))
    client.force_login(customer)
    consent_to(client, "personalization")
    client.cookies["pz_vid"] = dump_visitor_id(browser_id)
    assert profile_store().load(user_key) is not None
    assert cache.get(user_key.cache_key) is not None
    response = client.post(
        "/personalize/privacy/erase/", {"confirm": "1"}, headers={"Accept": "application/json"}
    )
    assert response.status_code == 200
    assert response.json() == {"erased": 2}
    assert Profile.objects.count() == 0
    assert cache.get(user_key.cache_key) is None
    assert cache.get(ProfileKey(visitor_id=browser_id).cache_key) is None
    assert expired(response, "pz_vid")
    assert expired(response, "pz_consent")
    assert User.objects.filter(pk=customer.pk).exists()


def test_erase_needs_confirmation(client: Client, anonymous: str) -> None:
    response = client.post("/personalize/privacy/erase/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Tick the box to confirm that everything may be erased." in html
    assert 'aria-invalid="true"' in html
    assert Profile.objects.count() == 1
    assert "pz_vid" not in response.cookies
    as_json = client.post("/personalize/privacy/erase/", headers={"Accept": "application/json"})
    assert as_json.status_code == 400
    assert as_json.json() == {"error": "Tick the box to confirm that everything may be erased."}
    assert Profile.objects.count() == 1


def test_erase_confirmation_page(client: Client) -> None:
    response = client.get("/personalize/privacy/erase/")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<form method="post" action="/personalize/privacy/erase/"' in html
    assert 'name="confirm"' in html
    assert "Tick the box" not in html
    assert {"private", "no-store"} <= directives(response)


def test_erase_needs_a_csrf_token(db: Any) -> None:
    strict = Client(enforce_csrf_checks=True)
    visitor_id = new_visitor_id()
    profile_store().update(ProfileKey(visitor_id=visitor_id), lambda _: ProfileState(visits=1))
    strict.cookies["pz_vid"] = dump_visitor_id(visitor_id)
    consent_to(strict, "personalization")
    assert strict.post("/personalize/privacy/erase/", {"confirm": "1"}).status_code == 403
    assert Profile.objects.count() == 1


def test_a_linked_visitor_id_no_longer_reads_or_erases_the_users_profile(db: Any) -> None:
    User.objects.create_user("cleo", "cleo@example.com", "pw")
    browser = Client()
    consent_to(browser, "personalization")
    browser.post("/personalize/preferences/", {"key": "secret", "value": "cleo-only"})
    browser.post("/accounts/login/", {"username": "cleo", "password": "pw"})
    assert Profile.objects.get().user is not None  # the anonymous profile became Cleo's
    # The session ends without a logout; the next person on this browser keeps the cookies.
    stranger = Client()
    stranger.cookies["pz_vid"] = browser.cookies["pz_vid"].value
    stranger.cookies["pz_consent"] = browser.cookies["pz_consent"].value
    assert "cleo-only" not in stranger.get("/personalize/privacy/").content.decode()
    stranger.post("/personalize/privacy/erase/", {"confirm": "1"})
    assert Profile.objects.filter(user__username="cleo").count() == 1
