"""The privacy page and the data download speak words and ISO 8601, and state the consent once."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from personalize.blocks.explanations import attribute_label, format_value, readable_key
from personalize.profiles.store import ProfileKey, new_visitor_id, profile_store
from personalize.rules.scoring import ProfileState
from personalize.signals.consent import dump_consent_cookie
from personalize.tracking.privacy import isoformat
from personalize.visitors.identity import dump_visitor_id
from tests.conftest import IPHONE

#: 2026-12-07 09:41:21 UTC (10:41 in Berlin, the demo's and the tests' time zone).
CHOSEN_AT = datetime(2026, 12, 7, 9, 41, 21, tzinfo=UTC).timestamp()
FIRST_SEEN = datetime(2026, 11, 2, 8, 0, 5, tzinfo=UTC).timestamp()
PREF_SET = datetime(2026, 12, 1, 18, 30, tzinfo=UTC).timestamp()
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def state(now: float) -> ProfileState:
    """A profile with an interest in ski touring and a preference, not decayed."""
    return ProfileState(
        visits=4,
        first_seen=FIRST_SEEN,
        last_seen=now,
        score=55.0,
        peak_score=55.0,
        decayed_at=now,
        interests={"ski-touring": 12.0, "avalanche_safety": 1.0},
        prefs={"drink": "tea"},
        prefs_at={"drink": PREF_SET},
    )


@pytest.fixture
def skier(client: Client, db: Any) -> str:
    """A visitor who allowed everything on 2026-12-07 and reads about ski touring."""
    visitor_id = new_visitor_id()
    profile_store().update(ProfileKey(visitor_id=visitor_id), lambda _: state(time.time()))
    client.cookies["pz_consent"] = dump_consent_cookie(["personalization", "analytics"], CHOSEN_AT)
    client.cookies["pz_vid"] = dump_visitor_id(visitor_id)
    return visitor_id


def times_in(document: Any, path: str = "") -> dict[str, Any]:
    """Every value in the document under a key that names a time (``*_at``, ``*_seen``)."""
    found: dict[str, Any] = {}
    if isinstance(document, dict):
        for key, value in document.items():
            where = f"{path}.{key}" if path else str(key)
            timed = key == "at" or str(key).endswith(("_at", "_seen"))
            if timed and not isinstance(value, dict):
                found[where] = value
            found.update(times_in(value, where))
    elif isinstance(document, list):
        for index, item in enumerate(document):
            found.update(times_in(item, f"{path}[{index}]"))
    return found


def epoch_floats(document: Any) -> list[float]:
    """Numbers that look like Unix times (after 2001): none may be left in an export."""
    if isinstance(document, dict):
        return [n for value in document.values() for n in epoch_floats(value)]
    if isinstance(document, list):
        return [n for value in document for n in epoch_floats(value)]
    if isinstance(document, int | float) and not isinstance(document, bool):
        return [document] if document > 1e9 else []
    return []


# --- words for attribute paths --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "label"),
    [
        ("visitor.interests.ski-touring", "your interest in ski touring"),
        ("visitor.interests.avalanche_safety", "your interest in avalanche safety"),
        ("visitor.prefs.drink", "your answer to “drink”"),
        ("visitor.stage", "your journey stage"),
        ("visitor.peak_stage", "the furthest journey stage you reached"),
        ("referral.term", "the link's search term"),
        ("page.locale", "the page's language"),
        ("query.ref", "the link's “ref” parameter"),
        ("user.first_name", "your profile’s first name"),
        ("consent", "what you allowed"),
        ("custom.loyalty_tier", "loyalty tier"),
    ],
)
def test_every_attribute_path_has_words(path: str, label: str) -> None:
    assert attribute_label(path) == label


@pytest.mark.parametrize(
    ("path", "value", "words"),
    [
        ("visitor.interests.ski-touring", 12.0, "12 points"),
        ("visitor.interests.ski-touring", 1, "1 point"),
        ("visitor.interests.ski-touring", 2.5, "2.5 points"),
        ("visitor.stage", "consideration", "consideration"),
        ("visitor.peak_stage", "ready_to_buy", "ready to buy"),
        ("consent", ["necessary", "analytics"], "necessary, analytics"),
        ("visitor.interests", {"ski-touring": 3.0}, "ski touring: 3 points"),
        ("visitor.prefs", {}, "none"),
        ("referral.source", "(direct)", "none: you came directly"),
        ("referral.medium", "(none)", "none"),
    ],
)
def test_profile_values_read_as_words(path: str, value: object, words: str) -> None:
    assert format_value(value, path) == words


def test_keys_read_as_words() -> None:
    assert readable_key("ski-touring") == "ski touring"
    assert readable_key("after__work_drinks") == "after work drinks"
    assert readable_key("--") == "--"


def test_times_are_iso_8601_in_utc() -> None:
    assert isoformat(CHOSEN_AT) == "2026-12-07T09:41:21Z"
    assert isoformat(CHOSEN_AT + 0.75) == "2026-12-07T09:41:21Z"
    assert isoformat(None) is None
    assert isoformat(1e300) is None


# --- the privacy page -----------------------------------------------------------------------------


def test_privacy_page_names_interests_stages_and_preferences(client: Client, skier: str) -> None:
    html = client.get("/personalize/privacy/").content.decode()
    assert "<dt>Your interest in ski touring</dt><dd>12 points</dd>" in html
    assert "<dt>Your interest in avalanche safety</dt><dd>1 point</dd>" in html
    assert "<dt>Journey stage</dt><dd>consideration</dd>" in html
    assert '<th scope="row">Drink</th>' in html
    assert "ski-touring" not in html
    assert "visitor." not in html


def test_privacy_page_explains_segments_in_words(
    client: Client, skier: str, segment_factory: Any
) -> None:
    segment_factory(
        "Ski-touring fans",
        slug="ski-touring-fans",
        rules=[
            {"type": "interest", "value": {"tag": "ski-touring", "points": 2}},
            {"type": "journey_stage", "value": {"attribute": "stage", "operator": "in",
                                                "stages": ["consideration"], "stage": None}},
            {"type": "device_type", "value": {"values": ["mobile"]}},
        ],
    )  # fmt: skip
    html = client.get("/personalize/privacy/", headers={"User-Agent": IPHONE}).content.decode()
    assert "<h3>Ski-touring fans</h3>" in html
    values = html[html.index('<dl class="pz-values">') :]
    assert values.startswith(
        '<dl class="pz-values"><dt>Your interest in ski touring</dt><dd>12 points</dd></dl>'
    )
    assert "<dt>Your journey stage</dt><dd>consideration</dd>" in html
    assert "<dt>Your device</dt><dd>mobile phone</dd>" in html
    assert "visitor.interests." not in html
    assert "<code>" not in html


def test_privacy_page_says_where_the_choice_is_kept(client: Client, skier: str) -> None:
    html = client.get("/personalize/privacy/").content.decode()
    assert "You made your choice on Dec. 7, 2026 at 10:41 a.m." in html
    assert "<dt>Where your choice is kept</dt>\n      <dd>In a cookie in this browser</dd>" in html


def test_privacy_page_of_a_user_whose_account_holds_the_choice(client: Client, db: Any) -> None:
    user = User.objects.create_user("ida", "ida@example.com", "pw")
    recorded = ProfileState(
        visits=1, consent=("necessary", "personalization"), consent_at=CHOSEN_AT
    )
    profile_store().update(ProfileKey(user_id=user.pk), lambda _: recorded)
    client.force_login(user)
    html = client.get("/personalize/privacy/").content.decode()
    assert "You made your choice on Dec. 7, 2026 at 10:41 a.m." in html
    assert "<dd>On your account (this browser has not made a choice of its own)</dd>" in html
    data = client.get("/personalize/privacy/export/").json()
    assert data["consent"] == {
        "source": "account",
        "explicit": True,
        "purposes": ["necessary", "personalization"],
        "granted": {"necessary": True, "personalization": True, "analytics": False},
        "at": "2026-12-07T09:41:21Z",
        "gpc": False,
        "mode": "opt-in",
    }
    assert data["profile"]["consent"] == {
        "source": "account",
        "purposes": ["necessary", "personalization"],
        "at": "2026-12-07T09:41:21Z",
    }
    assert data["profile"]["consent_record"] == {
        "purposes": ["necessary", "personalization"],
        "at": "2026-12-07T09:41:21Z",
    }


def test_privacy_page_without_a_choice_says_nothing_about_where_it_is_kept(
    client: Client, db: Any
) -> None:
    html = client.get("/personalize/privacy/").content.decode()
    assert "Where your choice is kept" not in html
    data = client.get("/personalize/privacy/export/").json()
    assert data["consent"]["source"] == "default"
    assert data["consent"]["explicit"] is False
    assert data["consent"]["granted"] == {
        "necessary": True,
        "personalization": False,
        "analytics": False,
    }
    assert data["consent"]["at"] is None


# --- the download ---------------------------------------------------------------------------------


def test_export_states_the_cookies_choice_in_the_profile(client: Client, skier: str) -> None:
    data = client.get("/personalize/privacy/export/").json()
    assert data["format"] == "wagtail-personalize/export/2"
    assert data["consent"] == {
        "source": "cookie",
        "explicit": True,
        "purposes": ["necessary", "personalization", "analytics"],
        "granted": {"necessary": True, "personalization": True, "analytics": True},
        "at": "2026-12-07T09:41:21Z",
        "gpc": False,
        "mode": "opt-in",
    }
    assert data["profile"]["consent"] == {
        "source": "cookie",
        "purposes": ["necessary", "personalization", "analytics"],
        "at": "2026-12-07T09:41:21Z",
    }
    assert data["profile"]["consent_at"] == "2026-12-07T09:41:21Z"
    assert data["dates"]["consent_at"] == "2026-12-07T09:41:21Z"
    # An anonymous profile records no choice of its own: the cookie holds it.
    assert data["profile"]["consent_record"] is None


def test_export_has_iso_8601_times_everywhere(client: Client, skier: str) -> None:
    data = client.get("/personalize/privacy/export/").json()
    assert data["profile"]["first_seen"] == "2026-11-02T08:00:05Z"
    assert data["dates"]["first_seen"] == "2026-11-02T08:00:05Z"
    assert data["profile"]["prefs_at"] == {"drink": "2026-12-01T18:30:00Z"}
    assert ISO_UTC.match(data["exported_at"])
    assert ISO_UTC.match(data["profile"]["last_seen"])
    assert ISO_UTC.match(data["profile"]["decayed_at"])
    times = times_in(data)
    assert {key: value for key, value in times.items() if value is not None} != {}
    assert {
        key: value
        for key, value in times.items()
        if value is not None and not ISO_UTC.match(str(value))
    } == {}
    assert epoch_floats(data) == []


def test_export_has_the_segments_values_in_words(
    client: Client, skier: str, segment_factory: Any
) -> None:
    segment_factory(
        "Ski-touring fans",
        slug="ski-touring-fans",
        rules=[{"type": "interest", "value": {"tag": "ski-touring", "points": 2}}],
    )
    data = client.get("/personalize/privacy/export/").json()
    rule = data["segments"][0]["rules"][0]
    assert rule["attributes"] == {"visitor.interests.ski-touring": 12.0}
    assert rule["values"] == [
        {
            "attribute": "visitor.interests.ski-touring",
            "label": "your interest in ski touring",
            "text": "12 points",
        }
    ]
