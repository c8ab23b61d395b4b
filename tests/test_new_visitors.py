"""A visitor id minted in a request stores nothing until the browser sends it back."""

from __future__ import annotations

import io
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from django.core.cache import caches
from django.core.management import call_command
from django.test import Client

from cms_site.home.models import HomePage
from personalize.analytics.experiments import experiments_changed
from personalize.analytics.goals import goals_changed
from personalize.analytics.store import counter_store
from personalize.models import Goal, Profile, Segment
from personalize.profiles.scoring import config_changed
from personalize.rules.scoring import ProfileState
from personalize.signals.consent import dump_consent_cookie
from personalize.visitors.identity import (
    VisitorCookie,
    dump_visitor_id,
    read_visitor_cookie,
    read_visitor_id,
)
from personalize.visitors.registry import segments_changed
from tests.conftest import IPHONE, redis_cache, without_clock_segments

pytestmark = pytest.mark.django_db

#: What a client without any visitor id can send: the consent cookie is not signed.
FORGED_CONSENT = "v1:necessary,personalization,analytics:1700000000"


@pytest.fixture
def demo(db: Any) -> None:
    call_command("seed_demo", stdout=io.StringIO())
    config_changed()
    segments_changed()
    goals_changed()
    experiments_changed()
    without_clock_segments()


@pytest.fixture
def redis_settings(settings: Any, redis_url: str) -> Any:
    """The package on a real Redis, under a key prefix of this test's own."""
    prefix = f"pz-{uuid.uuid4().hex[:8]}"
    settings.CACHES = {**settings.CACHES, "shared": redis_cache(redis_url)}
    settings.PERSONALIZE = {
        **settings.PERSONALIZE,
        "CACHE_ALIAS": "shared",
        "CACHE_KEY_PREFIX": prefix,
    }
    yield prefix
    client = caches["shared"].client.get_client()
    names = list(client.scan_iter(f"*{prefix}:*"))
    if names:
        client.delete(*names)


def redis_keys(prefix: str) -> list[str]:
    client = caches["shared"].client.get_client()
    return sorted(name.decode() for name in client.scan_iter(f"*{prefix}:*"))


def forged_client() -> Client:
    client = Client(headers={"User-Agent": IPHONE})
    client.cookies["pz_consent"] = FORGED_CONSENT
    return client


def consenting_client(*purposes: str) -> Client:
    client = Client(headers={"User-Agent": IPHONE})
    client.cookies["pz_consent"] = dump_consent_cookie(purposes, time.time())
    return client


def live(prefix: str) -> dict[str, int]:
    today = datetime.now(UTC).date()
    counts = counter_store().live_counts([today])[today]
    return {field: n for field, n in counts.items() if field.startswith(prefix)}


def _per_visitor(names: list[str], visitor_ids: list[str]) -> list[str]:
    return [
        name
        for name in names
        if ":profile:" in name or ":an:v:" in name or any(v in name for v in visitor_ids)
    ]


@pytest.mark.redis
def test_forged_consent_cookies_leave_no_profile_rows_or_visitor_keys_in_redis(
    redis_settings: str, demo: None
) -> None:
    minted = []
    for _ in range(25):
        response = forged_client().get("/")
        assert response.status_code == 200
        visitor_id = read_visitor_id(response.cookies["pz_vid"].value)
        assert visitor_id is not None
        minted.append(visitor_id)
    assert len(set(minted)) == 25
    assert Profile.objects.count() == 0
    names = redis_keys(redis_settings)
    assert _per_visitor(names, minted) == []
    # The aggregates are counted as for any visitor: 25 impressions, 25 exposed visitors.
    assert sum(live("imp|").values()) == 25
    assert sum(live("exp|").values()) == 25


def test_forged_consent_cookies_leave_no_profile_rows_or_visitor_state_in_memory(
    demo: None,
) -> None:
    minted = []
    for _ in range(10):
        response = forged_client().get("/")
        minted.append(read_visitor_id(response.cookies["pz_vid"].value))
    assert Profile.objects.count() == 0
    cached = list(caches["default"]._cache)  # type: ignore[attr-defined]
    assert _per_visitor(cached, [v for v in minted if v]) == []
    assert all(counter_store().visitor_fields(v) == {} for v in minted if v)


def test_the_returned_cookie_stores_the_first_page_view(demo: None) -> None:
    client = consenting_client("personalization")
    first = client.get("/guides/")
    cookie = read_visitor_cookie(first.cookies["pz_vid"].value)
    assert cookie is not None
    assert cookie.first_page == first.wsgi_request.visitor.first_page
    assert cookie.first_page is not None
    assert cookie.minted_at == pytest.approx(time.time(), abs=5)
    assert Profile.objects.count() == 0
    second = client.get("/")
    assert "pz_vid" not in second.cookies
    (row,) = Profile.objects.all()
    assert row.visitor_id.hex == cookie.visitor_id
    state = ProfileState.from_json(row.data)
    assert state.visits == 1
    assert state.first_seen == pytest.approx(cookie.minted_at, abs=1)


def test_a_return_after_the_visit_timeout_counts_two_visits(demo: None) -> None:
    visitor_id = uuid.uuid4().hex
    client = consenting_client("personalization")
    home = HomePage.objects.get()
    earlier = time.time() - 2 * 3600
    client.cookies["pz_vid"] = dump_visitor_id(VisitorCookie(visitor_id, earlier, home.pk))
    response = client.get("/guides/")
    assert response.status_code == 200
    state = ProfileState.from_json(Profile.objects.get().data)
    assert state.visits == 2
    assert state.first_seen == pytest.approx(int(earlier))
    assert response.wsgi_request.visitor.attributes["visitor"]["returning"] is True


def test_an_event_worth_points_is_stored_at_once(demo: None) -> None:
    from personalize import track

    client = consenting_client("personalization")
    request = client.get("/try-it/").wsgi_request
    assert request.visitor.minted is True
    assert track(request, "demo_request") is True
    state = ProfileState.from_json(Profile.objects.get().data)
    # The page view (5 points) and the request (25 points).
    assert state.score == pytest.approx(30.0, abs=0.01)


def test_an_event_worth_nothing_waits_for_the_browser(demo: None) -> None:
    from personalize import track

    request = consenting_client("personalization").get("/").wsgi_request
    assert track(request, "video_play") is True
    assert Profile.objects.count() == 0


def test_a_landing_exposure_rides_in_the_cookie_and_converts_later(demo: None) -> None:
    home = HomePage.objects.get()
    phones = Segment.objects.get(slug="mobile-visitors")
    fitting = Goal.objects.get(name="Requested a fitting")
    client = consenting_client("analytics")
    landing = client.get("/")
    cookie = read_visitor_cookie(landing.cookies["pz_vid"].value)
    assert cookie is not None
    # The exposure to the phones' test: page, block, variant, alternative, segment.
    (field,) = cookie.carried
    dims = field.removeprefix("seen|")
    assert dims.startswith(f"{home.pk}|") and dims.endswith(f"|{phones.pk}")
    assert live("exp|") == {f"exp|{dims}": 1}
    assert counter_store().visitor_fields(cookie.visitor_id) == {}
    # What the cookie carries is the visitor's data too: the export shows it.
    exported = client.get("/personalize/privacy/export/").json()["analytics"]["seen"]
    assert [(seen["page"], seen["segment"]) for seen in exported] == [
        (str(home.pk), str(phones.pk))
    ]
    back = client.post("/demo/fitting/", {"next": "/try-it/#fitting"})
    assert back.status_code == 302
    assert live("conv|") == {f"conv|{fitting.pk}|{dims}": 1}
    stored = counter_store().visitor_fields(cookie.visitor_id)
    assert stored[f"seen|{dims}"] == cookie.carried[f"seen|{dims}"]
    # Stored: the cookie is written again without it, and the exposure is not counted twice.
    rewritten = read_visitor_cookie(back.cookies["pz_vid"].value)
    assert rewritten == VisitorCookie(cookie.visitor_id, int(cookie.minted_at or 0), None, {})
    client.get("/")
    assert live("exp|") == {f"exp|{dims}": 1}


def test_visitor_cookie_round_trip_and_tampering() -> None:
    cookie = VisitorCookie("a" * 32, 1_700_000_000, 42, {"seen|1|b|c|0|-": "1700000000"})
    value = dump_visitor_id(cookie)
    assert read_visitor_cookie(value) == cookie
    assert read_visitor_id(value) == "a" * 32
    body, mac = value.rsplit(".", 1)
    assert read_visitor_cookie(f"{body[:-1]}A.{mac}") is None


def test_carried_fields_that_do_not_fit_are_left_out() -> None:
    fields = {f"seen|{n}|{'b' * 90}": "1700000000" for n in range(40)}
    value = dump_visitor_id(VisitorCookie("a" * 32, 1_700_000_000, 42, fields))
    cookie = read_visitor_cookie(value)
    assert cookie is not None
    assert len(value) < 2048
    assert 0 < len(cookie.carried) < 16
    assert list(cookie.carried) == list(fields)[: len(cookie.carried)]
