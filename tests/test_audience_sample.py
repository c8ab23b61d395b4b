"""The anonymous sample of consenting page views behind the segment form's audience estimate."""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, date, datetime
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from wagtail.models import Page, Site

from benchmarks.redis_commands import counting
from cms_site.home.models import HomePage
from personalize.admin.audience import about, estimate_text
from personalize.analytics.counters import BaseCounterStore, VisitSample, reservoir_slot
from personalize.analytics.local_store import LocalCounterStore
from personalize.analytics.redis_store import RedisCounterStore
from personalize.analytics.samples import (
    AudienceEstimate,
    estimate,
    estimate_from,
    forget_loaded_samples,
    read_snapshot,
    snapshot,
)
from personalize.analytics.store import counter_store
from personalize.signals.consent import dump_consent_cookie
from tests.conftest import IPHONE
from tests.test_analytics_store import redis_down, redis_store  # noqa: F401

DAY = date(2026, 11, 25)
#: Cloudflare's country header, trusted from 10.0.0.0/8 in the suite's settings.
FROM_VIENNA = {"CF-IPCountry": "AT", "CF-Region-Code": "9"}
CAMPAIGN = "/?utm_source=newsletter&utm_medium=email&utm_campaign=winter"
BOT = "Googlebot/2.1 (+http://www.google.com/bot.html)"


@pytest.fixture
def home(db: Any) -> HomePage:
    """A published home page served at ``/``."""
    root = Page.get_first_root_node()
    for child in root.get_children():
        child.delete()
    root.refresh_from_db()
    page = HomePage(title="Gear for people who go outside", slug="home")
    root.add_child(instance=page)
    Site.objects.all().delete()
    Site.objects.create(hostname="localhost", port=80, root_page=page, is_default_site=True)
    return page


def visitor(*purposes: str, user_agent: str = IPHONE) -> Client:
    client = Client(headers={"User-Agent": user_agent}, REMOTE_ADDR="10.1.2.3")
    if purposes:
        client.cookies["pz_consent"] = dump_consent_cookie(purposes, time.time())
    return client


def today_sample() -> tuple[int, list[str]]:
    today = datetime.now(UTC).date()
    return counter_store().samples([today])[today]


# --- what is recorded ----------------------------------------------------------------------------


def test_a_consenting_page_view_leaves_an_anonymous_snapshot(home: HomePage) -> None:
    client = visitor("personalization", "analytics")
    assert client.get(CAMPAIGN, headers=FROM_VIENNA).status_code == 200
    seen, texts = today_sample()
    assert seen == 1
    [text] = texts
    stored = json.loads(text)
    assert set(stored) <= {"geo", "device", "referral", "time", "user"}
    assert stored["geo"] == {"country": "AT", "continent": "EU", "region": "AT-9"}
    assert stored["device"]["type"] == "mobile"
    assert stored["device"]["os"] == "iOS"
    assert stored["referral"] == {
        "channel": "email",
        "source": "newsletter",
        "medium": "email",
        "campaign": "winter",
    }
    assert set(stored["time"]) == {"weekday", "hour"}
    assert stored["user"] == {"authenticated": False}
    # Nothing that identifies the visitor or the page.
    visitor_cookie = client.cookies["pz_vid"].value if "pz_vid" in client.cookies else "-"
    for secret in ("10.1.2.3", "utm_", "?", "/", visitor_cookie[:16]):
        assert secret not in text


@pytest.mark.parametrize(
    "purposes",
    [(), ("personalization",), ("necessary",)],
    ids=["no choice", "personalization only", "refused all"],
)
def test_a_page_view_without_consent_to_analytics_writes_nothing(
    home: HomePage, purposes: tuple[str, ...]
) -> None:
    client = visitor(*purposes)
    for _ in range(3):
        assert client.get(CAMPAIGN, headers=FROM_VIENNA).status_code == 200
    assert today_sample() == (0, [])


def test_gpc_without_a_choice_writes_nothing_in_opt_out_mode(home: HomePage, settings: Any) -> None:
    settings.PERSONALIZE = {**settings.PERSONALIZE, "CONSENT_MODE": "opt-out"}
    visitor().get("/", headers={"Sec-GPC": "1"})
    assert today_sample() == (0, [])
    visitor().get("/")  # opt-out mode and no GPC: analytics allowed until refused
    assert today_sample()[0] == 1


def test_bots_and_requests_that_serve_no_page_are_not_sampled(home: HomePage) -> None:
    visitor("analytics", user_agent=BOT).get("/")
    client = visitor("analytics")
    assert client.get("/no-such-page/").status_code == 404
    client.post("/personalize/consent/", {"purposes": "analytics"})
    assert today_sample() == (0, [])


def test_a_logged_in_user_without_a_choice_in_this_browser_is_not_sampled(
    home: HomePage, django_user_model: Any
) -> None:
    client = visitor()
    client.force_login(django_user_model.objects.create_user("reader", password="pw"))
    assert client.get("/").status_code == 200
    assert today_sample() == (0, [])


@pytest.mark.parametrize(
    "change", [{"AUDIENCE_SAMPLE_SIZE": 0}, {"ANALYTICS_ENABLED": False}], ids=["size 0", "off"]
)
def test_no_sample_when_its_size_is_zero_or_analytics_are_off(
    home: HomePage, settings: Any, change: dict[str, Any]
) -> None:
    settings.PERSONALIZE = {**settings.PERSONALIZE, **change}
    visitor("analytics").get("/")
    assert today_sample() == (0, [])
    assert estimate({}).status == "off"


@pytest.mark.parametrize("value", [-1, "1000", 1.5, True])
def test_a_bad_sample_size_is_refused_with_the_fix(settings: Any, value: Any) -> None:
    settings.PERSONALIZE = {**settings.PERSONALIZE, "AUDIENCE_SAMPLE_SIZE": value}
    with pytest.raises(ImproperlyConfigured, match="AUDIENCE_SAMPLE_SIZE'] must be a whole number"):
        estimate({})


def test_the_system_check_reports_a_bad_sample_size(settings: Any) -> None:
    from personalize.checks import check_settings

    settings.PERSONALIZE = {**settings.PERSONALIZE, "AUDIENCE_SAMPLE_SIZE": -5}
    [error] = [m for m in check_settings() if m.id == "personalize.E001"]
    assert "AUDIENCE_SAMPLE_SIZE'] must be a whole number of at least 0" in error.msg


def test_snapshot_keeps_only_the_sampled_attributes() -> None:
    attributes = {
        "geo": {"country": "AT", "city": "Vienna", "timezone": "Europe/Vienna", "region": None},
        "device": {"type": "mobile", "os": "iOS", "browser": "Mobile Safari", "ua": "x"},
        "referral": {"channel": "email", "source": "n", "host": "mail.example", "term": "t"},
        "time": {"weekday": 3, "hour": 9, "minute": 41, "date": "2026-11-25"},
        "user": {"authenticated": True, "groups": ["Staff"], "email": "a@example.com"},
        "visitor": {"visits": 7},
        "query": {"ref": "x"},
        "page": {"path": "/secret/"},
    }
    assert snapshot(attributes) == {
        "geo": {"country": "AT"},
        "device": {"type": "mobile", "os": "iOS", "browser": "Mobile Safari"},
        "referral": {"channel": "email", "source": "n"},
        "time": {"weekday": 3, "hour": 9},
        "user": {"authenticated": True},
    }
    long = snapshot({"referral": {"campaign": "x" * 500}})
    assert long == {"referral": {"campaign": "x" * 100}}


# --- the reservoir -------------------------------------------------------------------------------


def test_reservoir_slots() -> None:
    assert [reservoir_slot(n, 0.99, 3) for n in (1, 2, 3)] == [1, 2, 3]
    assert reservoir_slot(4, 0.0, 3) == 1
    assert reservoir_slot(4, 0.74, 3) == 3
    assert reservoir_slot(4, 0.75, 3) is None
    assert reservoir_slot(1000, 0.0029, 3) == 3
    assert reservoir_slot(1000, 0.003, 3) is None


@pytest.fixture(params=["local", pytest.param("redis", marks=pytest.mark.redis)])
def store(request: Any) -> BaseCounterStore:
    if request.param == "redis":
        redis: RedisCounterStore = request.getfixturevalue("redis_store")
        return redis
    return LocalCounterStore()


def test_the_sample_holds_at_most_its_size_and_counts_every_page_view(
    store: BaseCounterStore,
) -> None:
    for n in range(50):
        store.add_sample(DAY, VisitSample(json.dumps({"n": n}), (n * 0.37) % 1, 10))
    seen, texts = store.samples([DAY])[DAY]
    assert seen == 50
    assert len(texts) == 10
    assert len(set(texts)) == 10
    assert store.samples([date(2026, 11, 24)]) == {date(2026, 11, 24): (0, [])}


def test_a_later_page_view_replaces_the_slot_its_draw_picks(store: BaseCounterStore) -> None:
    for n in range(3):
        store.add_sample(DAY, VisitSample(f"v{n}", 0.0, 3))
    store.add_sample(DAY, VisitSample("v3", 0.5, 3))  # slot floor(0.5 * 4) + 1 = 3
    store.add_sample(DAY, VisitSample("v4", 0.9, 3))  # slot 5: not kept
    seen, texts = store.samples([DAY])[DAY]
    assert (seen, sorted(texts)) == (5, ["v0", "v1", "v3"])


@pytest.mark.redis
def test_the_sample_rides_in_the_counting_script(redis_store: RedisCounterStore) -> None:  # noqa: F811
    sample = VisitSample('{"geo":{"country":"AT"}}', 0.5, 1000)
    with counting() as counts:
        redis_store.record(DAY, {"imp|p|b|v|-|3": 1}, None, sample=sample)
    assert counts == {"round trips": 1, "commands": 1}
    with counting() as counts:
        redis_store.record(DAY, {}, None, sample=sample)
    assert counts == {"round trips": 1, "commands": 1}
    assert redis_store.samples([DAY])[DAY] == (2, [sample.snapshot, sample.snapshot])
    assert redis_store.live_counts([DAY])[DAY] == {"imp|p|b|v|-|3": 1}


@pytest.mark.redis
def test_redis_down_writes_no_sample_and_the_estimate_is_not_available(
    redis_down: RedisCounterStore,  # noqa: F811
    home: HomePage,
    caplog: Any,
) -> None:
    caplog.set_level(logging.INFO)
    client = visitor("analytics")
    assert client.get("/").status_code == 200
    assert client.get("/").status_code == 200
    forget_loaded_samples()
    result = estimate({"device.type": "mobile"})
    assert result == AudienceEstimate(status="unavailable")
    assert estimate_text(result) == (
        "The estimate is not available right now: the analytics store cannot be reached."
    )
    assert len([r for r in caplog.records if r.levelno >= logging.WARNING]) == 1


# --- the estimate --------------------------------------------------------------------------------


def _snap(country: str, device: str = "mobile", hour: int = 9) -> dict[str, Any]:
    text = json.dumps(
        {"geo": {"country": country}, "device": {"type": device}, "time": {"hour": hour}}
    )
    found = read_snapshot(text, DAY)
    assert found is not None
    return found


def test_the_estimate_is_each_day_s_matched_share_times_its_page_views() -> None:
    loaded = {
        DAY: (100, [_snap("AT"), _snap("DE"), _snap("DE"), _snap("DE")]),  # 1/4 of 100 = 25
        date(2026, 11, 24): (10, [_snap("AT")] * 5 + [_snap("CH")] * 5),  # 5/10 of 10 = 5
        date(2026, 11, 23): (0, []),
    }
    result = estimate_from({"geo.country": "AT"}, loaded)
    assert result == AudienceEstimate("ok", page_views=110, matched=30.0, sampled=14)
    assert estimate_from({}, loaded).matched == 110.0


def test_time_rules_are_estimated_from_the_hour_and_the_day() -> None:
    loaded = {DAY: (3, [_snap("AT", hour=8), _snap("AT", hour=9), _snap("AT", hour=17)])}
    morning = {"time.time": {"$gte": "09:00", "$lt": "12:00"}}
    assert estimate_from(morning, loaded).matched == 1.0
    assert estimate_from({"time.date": DAY.isoformat()}, loaded).matched == 3.0
    assert estimate_from({"time.month": 12}, loaded).matched == 0.0


def test_rules_on_attributes_the_sample_lacks_get_no_estimate() -> None:
    result = estimate_from({"visitor.visits": {"$gte": 3}, "geo.city": "Vienna"}, {})
    assert result == AudienceEstimate("unsupported", unsupported=("geo.city", "visitor.visits"))


def test_unreadable_stored_snapshots_are_skipped() -> None:
    assert read_snapshot("not json", DAY) is None
    assert read_snapshot("[1, 2]", DAY) is None
    assert read_snapshot('{"geo": {"country": ["AT"]}, "time": {"hour": 99}}', DAY) == {
        "time": {"hour": 99, "date": "2026-11-25", "month": 11}
    }


def test_the_estimate_over_the_store(home: HomePage) -> None:
    for _ in range(3):
        visitor("analytics").get("/", headers=FROM_VIENNA)
    visitor("analytics").get("/", headers={"CF-IPCountry": "DE"})
    forget_loaded_samples()
    result = estimate({"geo.country": "AT"})
    assert (result.status, result.page_views, result.matched, result.sampled) == ("ok", 4, 3.0, 4)


@pytest.mark.parametrize(
    ("count", "rounded"),
    [(0.4, 0), (9.6, 10), (47, 47), (99.4, 99), (456, 460), (1237, 1240), (12_345, 12_300)],
)
def test_about_rounds_like_an_estimate(count: float, rounded: int) -> None:
    assert about(count) == rounded


def test_the_estimate_in_words() -> None:
    def text(**fields: Any) -> str:
        return estimate_text(AudienceEstimate("ok", **fields))

    assert text(page_views=5000, matched=1237.2) == (
        "About 1,240 page views in the last 7 days would have matched."
    )
    assert text(page_views=5000, matched=9.4) == (
        "Fewer than 10 page views in the last 7 days would have matched."
    )
    assert text(page_views=5000, matched=0) == (
        "Fewer than 10 page views in the last 7 days would have matched."
    )
    assert text(page_views=0).startswith("No recorded page views yet")
    assert estimate_text(AudienceEstimate("off")) == (
        "No estimate: this site keeps no sample of page views."
    )
