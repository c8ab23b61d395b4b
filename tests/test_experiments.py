"""A/B/n tests inside a variant: assignment, delivery through every channel, counting."""

from __future__ import annotations

import io
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from cms_site.home.models import HomePage
from personalize.analytics.experiments import current_experiments, experiments_changed
from personalize.analytics.store import counter_store
from personalize.models import Experiment, Goal
from personalize.rules.bucketing import bucket, choose
from personalize.signals.consent import dump_consent_cookie
from personalize.visitors.identity import dump_visitor_id

pytestmark = pytest.mark.django_db

BLOCK_KEY = "b" * 32
VARIANT_KEY = "e" * 32
BOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)


def _cta(heading: str) -> dict[str, Any]:
    return {"type": "heading", "value": heading, "id": uuid.uuid4().hex}


@pytest.fixture
def site(db: Any) -> HomePage:
    """The demo, with a home page whose first variant (phones) runs a three-way test."""
    from personalize.models import Segment

    call_command("seed_demo", stdout=io.StringIO())
    phones = Segment.objects.get(slug="mobile-visitors")
    home = HomePage.objects.get()
    home.body = [
        {
            "type": "personalized",
            "value": {
                "key": BLOCK_KEY,
                "variants": [
                    {
                        "label": "Phones",
                        "segments": [phones.pk],
                        "content": [_cta("Call the workshop")],
                        "alternatives": [
                            {"label": "B: chat", "weight": 50, "content": [_cta("Chat with us")]},
                            {"label": "C: visit", "weight": 50, "content": [_cta("Visit us")]},
                        ],
                        "weight": 50,
                        "holdout": 10,
                        "key": VARIANT_KEY,
                    }
                ],
                "default": [_cta("Welcome")],
            },
        }
    ]
    home.save_revision().publish()
    return home


HEADINGS = {0: "Call the workshop", 1: "Chat with us", 2: "Visit us"}


def _browser(visitor_id: str | None, *purposes: str) -> Client:
    client = Client(headers={"User-Agent": IPHONE})
    if purposes:
        client.cookies["pz_consent"] = dump_consent_cookie(purposes, time.time())
    if visitor_id:
        client.cookies["pz_vid"] = dump_visitor_id(visitor_id)
    return client


def _start(**fields: Any) -> Experiment:
    experiment = Experiment.objects.get(key=VARIANT_KEY)
    for name, value in {"status": "running", **fields}.items():
        setattr(experiment, name, value)
    experiment.save()
    experiments_changed()
    return experiment


def _live(prefix: str) -> dict[str, int]:
    today = datetime.now(UTC).date()
    counts = counter_store().live_counts([today])[today]
    return {field: n for field, n in counts.items() if field.startswith(prefix)}


def test_publishing_creates_the_experiment_with_its_arms(site: HomePage) -> None:
    experiment = Experiment.objects.get(key=VARIANT_KEY)
    assert experiment.page_id == site.pk
    assert experiment.block_key == BLOCK_KEY
    assert experiment.status == "draft"
    assert experiment.holdout == 10
    assert experiment.arms == [
        {"label": "Phones", "weight": 50},
        {"label": "B: chat", "weight": 50},
        {"label": "C: visit", "weight": 50},
    ]


def test_until_started_everyone_sees_the_variant_content(site: HomePage) -> None:
    html = _browser(uuid.uuid4().hex, "analytics").get("/").content.decode()
    assert "Call the workshop" in html
    assert "Chat with us" not in html and "Visit us" not in html


def test_assignment_is_the_hash_of_visitor_and_key_and_sticks(site: HomePage) -> None:
    _start()
    seen = set()
    for number in range(40):
        visitor_id = uuid.UUID(int=number + 1).hex
        expected = choose(bucket(visitor_id, VARIANT_KEY), [50, 50, 50], 0.10)
        browser = _browser(visitor_id, "analytics")
        for _ in range(2):  # the same visitor twice: never flips
            html = browser.get("/").content.decode()
            heading = "Welcome" if expected is None else HEADINGS[expected]
            assert heading in html
        seen.add(expected)
    assert seen == {None, 0, 1, 2}


def test_graphql_agrees_with_the_rendered_page(site: HomePage) -> None:
    _start()
    query = (
        '{ page(path: "/") { streamfield(name: "body") { ... on PersonalizedBlock '
        "{ decision { variant alternative holdout } } } } }"
    )
    for number in range(12):
        visitor_id = uuid.UUID(int=1000 + number).hex
        browser = _browser(visitor_id, "analytics")
        html = browser.get("/").content.decode()
        data = browser.post("/graphql/", {"query": query}, content_type="application/json").json()
        assert "errors" not in data, data
        block = data["data"]["page"]["streamfield"][0]
        if block["decision"]["holdout"]:
            assert "Welcome" in html
        else:
            assert HEADINGS[block["decision"]["alternative"]] in html


def test_without_a_visitor_id_the_control_and_no_statistics(site: HomePage) -> None:
    _start()
    html = _browser(None).get("/").content.decode()
    assert "Call the workshop" in html
    assert _live("exp|") == {}
    assert _live("imp|") == {f"imp|{site.pk}|{BLOCK_KEY}|{VARIANT_KEY}|0|" + _phones(): 1}


def _phones() -> str:
    from personalize.models import Segment

    return str(Segment.objects.get(slug="mobile-visitors").pk)


def test_ended_experiment_shows_the_winner_to_everyone(site: HomePage) -> None:
    _start(status="ended", winner=2)
    for visitor_id in (None, uuid.uuid4().hex):
        html = _browser(visitor_id, "analytics").get("/").content.decode()
        assert "Visit us" in html


def test_impressions_exposures_and_conversions_are_counted(site: HomePage) -> None:
    from personalize import track

    _start()
    goal = Goal.objects.create(name="Asked", kind="event", event="asked")
    visitor_id = next(
        uuid.UUID(int=n).hex
        for n in range(1, 500)
        if choose(bucket(uuid.UUID(int=n).hex, VARIANT_KEY), [50, 50, 50], 0.1) == 1
    )
    browser = _browser(visitor_id, "analytics")
    browser.get("/")
    browser.get("/")
    dims = f"{site.pk}|{BLOCK_KEY}|{VARIANT_KEY}|1|{_phones()}"
    assert _live("imp|") == {f"imp|{dims}": 2}
    assert _live("exp|") == {f"exp|{dims}": 1}  # one visitor, however many views
    request = browser.get("/guides/").wsgi_request
    assert track(request, "asked") is True
    assert _live("conv|") == {f"conv|{goal.pk}|{dims}": 1}


def test_bots_and_previews_are_not_counted(site: HomePage) -> None:
    _start()
    bot = Client(headers={"User-Agent": BOT})
    bot.get("/")
    assert _live("imp|") == {}
    assert _live("seg|") == {}


def test_without_analytics_consent_only_anonymous_counts(site: HomePage) -> None:
    _start()
    browser = _browser(uuid.uuid4().hex, "personalization")
    html = browser.get("/").content.decode()
    # Assigned like everyone (the page must not depend on consent), not in the statistics.
    assert any(heading in html for heading in [*HEADINGS.values(), "Welcome"])
    assert len(_live("imp|")) == 1
    assert _live("exp|") == {}


def test_auto_optimize_favours_the_better_arm_and_sticks(site: HomePage) -> None:
    from personalize.analytics.experiments import optimized_weights

    goal = Goal.objects.create(name="Asked", kind="event", event="asked")
    _start(auto_optimize=True, goal=goal, exploration_floor=0.05)
    today = datetime.now(UTC).date()
    dims = f"{site.pk}|{BLOCK_KEY}|{VARIANT_KEY}"
    counter_store().add(
        today,
        {
            f"exp|{dims}|0|1": 1000,
            f"exp|{dims}|1|1": 1000,
            f"exp|{dims}|2|1": 1000,
            f"conv|{goal.pk}|{dims}|0|1": 50,
            f"conv|{goal.pk}|{dims}|1|1": 120,
            f"conv|{goal.pk}|{dims}|2|1": 50,
        },
    )
    weights = optimized_weights(current_experiments().by_key[VARIANT_KEY], 3)
    assert weights[1] > 0.8
    assert min(weights) >= 0.05 - 1e-9
    visitor_id = uuid.uuid4().hex
    browser = _browser(visitor_id, "analytics")
    first = browser.get("/").content.decode()
    stored = counter_store().visitor_fields(visitor_id)[f"a|{VARIANT_KEY}"]
    second = browser.get("/").content.decode()
    chosen = [h for h in [*HEADINGS.values(), "Welcome"] if h in first]
    assert chosen and all(h in second for h in chosen)
    assert stored in {"0", "1", "2", "h"}


def test_pages_are_served_when_the_store_is_down(
    site: HomePage, settings: Any, caplog: Any
) -> None:
    settings.CACHES = {
        **settings.CACHES,
        "shared": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.3, "SOCKET_TIMEOUT": 0.3},
        },
    }
    settings.PERSONALIZE = {**settings.PERSONALIZE, "CACHE_ALIAS": "shared"}
    _start()
    response = _browser(uuid.uuid4().hex, "analytics").get("/")
    assert response.status_code == 200
    assert "shared cache unreachable" in caplog.text


def test_the_visitors_analytics_state_is_exported_and_erased(site: HomePage) -> None:
    _start()
    visitor_id = uuid.uuid4().hex
    browser = _browser(visitor_id, "analytics")
    browser.get("/")
    exported = browser.get("/personalize/privacy/export/").json()["analytics"]
    assert len(exported["seen"]) == 1
    assert exported["seen"][0]["block"] == BLOCK_KEY
    assert exported["seen"][0]["variant"] == VARIANT_KEY
    assert "What we counted" in browser.get("/personalize/privacy/").content.decode()
    browser.post("/personalize/privacy/erase/", {"confirm": "1"})
    assert counter_store().visitor_fields(visitor_id) == {}


def test_withdrawing_analytics_forgets_the_visitor(site: HomePage) -> None:
    _start()
    visitor_id = uuid.uuid4().hex
    browser = _browser(visitor_id, "analytics")
    browser.get("/")
    assert counter_store().visitor_fields(visitor_id) != {}
    browser.post("/personalize/consent/", {"choice": "necessary"})
    assert counter_store().visitor_fields(visitor_id) == {}


def test_relayed_visitors_are_counted_as_themselves(site: HomePage) -> None:
    _start()
    visitor_id = uuid.uuid4().hex
    query = (
        'query($v: VisitorInput) { page(path: "/", visitor: $v) { streamfield(name: "body")'
        " { ... on PersonalizedBlock { decision { alternative holdout } } } } }"
    )
    variables = {
        "v": {
            "userAgent": IPHONE,
            "consent": dump_consent_cookie(["analytics"], time.time()),
            "visitorToken": dump_visitor_id(visitor_id),
        }
    }
    server = Client(headers={"X-Personalize-Frontend-Key": "test-frontend-key"})
    data = server.post(
        "/graphql/", {"query": query, "variables": variables}, content_type="application/json"
    ).json()
    assert "errors" not in data, data
    decision = data["data"]["page"]["streamfield"][0]["decision"]
    expected = choose(bucket(visitor_id, VARIANT_KEY), [50, 50, 50], 0.1)
    assert decision["holdout"] is (expected is None)
    alternative = "h" if expected is None else str(expected)
    dims = f"{site.pk}|{BLOCK_KEY}|{VARIANT_KEY}|{alternative}|{_phones()}"
    assert _live("imp|") == {f"imp|{dims}": 1}
    # The relayed visitor's consent and id count the exposure, not the front-end server's.
    assert _live("exp|") == {f"exp|{dims}": 1}
    assert counter_store().visitor_fields(visitor_id) != {}


def test_a_new_consenting_visitor_keeps_the_alternative_of_their_first_page(
    site: HomePage,
) -> None:
    from personalize.visitors.identity import read_visitor_id

    _start()
    browser = _browser(None, "analytics")
    first = browser.get("/")
    visitor_id = read_visitor_id(first.cookies["pz_vid"].value)
    assert visitor_id is not None
    expected = choose(bucket(visitor_id, VARIANT_KEY), [50, 50, 50], 0.1)
    heading = "Welcome" if expected is None else HEADINGS[expected]
    assert heading in first.content.decode()
    assert heading in browser.get("/").content.decode()


def test_segment_visitors_are_counted_once_a_day_for_consenting_visitors(site: HomePage) -> None:
    today = datetime.now(UTC).date()
    phones = int(_phones())
    first, second = uuid.uuid4().hex, uuid.uuid4().hex
    for visitor_id in (first, first, second):
        _browser(visitor_id, "analytics").get("/")
    _browser(None).get("/")  # no consent: not a counted visitor
    assert counter_store().unique_visitors(phones, [today]) == 2
    markers = [f for f in counter_store().visitor_fields(first) if f.startswith("segs|")]
    assert len(markers) == 1
