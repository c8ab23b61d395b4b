"""Rate limits per client address: minting ids, events, consent, preferences and GraphQL."""

from __future__ import annotations

import io
import time
from typing import Any

import pytest
from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, RequestFactory

from personalize.signals.consent import dump_consent_cookie
from personalize.visitors.ratelimit import Rate, client_key, parse_rate, rate_limits, retry_after
from tests.conftest import redis_cache

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.1"  # in the suite's TRUSTED_PROXIES
CLIENT = "198.51.100.7"


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def limits(request: Any, settings: Any) -> Any:
    """Small limits on the local-memory cache, or on a real Redis under this test's prefix."""
    personalize = {
        **settings.PERSONALIZE,
        "RATE_LIMITS": {
            "mint": "2/m",
            "events": "3/m",
            "consent": "2/m",
            "preferences": "2/m",
            "graphql": "2/m",
        },
    }
    if request.param == "redis":
        url = request.getfixturevalue("redis_url")
        settings.CACHES = {**settings.CACHES, "shared": redis_cache(url)}
        personalize["CACHE_ALIAS"] = "shared"
    settings.PERSONALIZE = personalize
    yield request.param
    if request.param == "redis":
        caches["shared"].delete_pattern("*")


def client_from(address: str = CLIENT, *, consent: bool = False) -> Client:
    """A browser at ``address``, behind the site's trusted proxy."""
    client = Client(REMOTE_ADDR=PROXY, headers={"X-Forwarded-For": address})
    if consent:
        client.cookies["pz_consent"] = dump_consent_cookie(["personalization"], time.time())
    return client


def post_event(client: Client) -> Any:
    return client.post(
        "/personalize/events/", {"name": "video_play"}, content_type="application/json"
    )


def test_events_over_the_limit_get_a_429_with_retry_after(limits: str) -> None:
    client = client_from(consent=True)
    assert [post_event(client).status_code for _ in range(3)] == [200, 200, 200]
    refused = post_event(client)
    assert refused.status_code == 429
    assert refused.json() == {"tracked": False, "error": "Too many requests"}
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert "no-store" in refused["Cache-Control"]
    # Another client behind the same proxy has its own count.
    assert post_event(client_from("198.51.100.8")).status_code == 200


def test_consent_changes_over_the_limit(limits: str) -> None:
    client = client_from()
    for _ in range(2):
        assert client.post("/personalize/consent/", {"choice": "all"}).status_code == 303
    refused = client.post("/personalize/consent/", {"choice": "all"})
    assert refused.status_code == 429
    assert refused["Content-Type"] == "text/plain; charset=utf-8"
    assert refused.content == b"Too many requests."
    as_json = client.post(
        "/personalize/consent/", {"choice": "all"}, content_type="application/json"
    )
    assert as_json.status_code == 429
    assert as_json.json() == {"error": "Too many requests"}


def test_preference_answers_over_the_limit(limits: str) -> None:
    client = client_from(consent=True)
    answer = {"key": "drink", "value": "tea"}
    assert [client.post("/personalize/preferences/", answer).status_code for _ in range(2)] == [
        303,
        303,
    ]
    refused = client.post(
        "/personalize/preferences/", answer, headers={"Accept": "application/json"}
    )
    assert refused.status_code == 429
    assert refused.json() == {"error": "Too many requests"}


def test_graphql_over_the_limit_answers_a_graphql_error(limits: str) -> None:
    client = client_from()
    query = {"query": "{ __typename }"}
    for _ in range(2):
        assert client.post("/graphql/", query, content_type="application/json").status_code == 200
    refused = client.post("/graphql/", query, content_type="application/json")
    assert refused.status_code == 429
    assert refused.json() == {"errors": [{"message": "Too many requests"}]}
    assert int(refused["Retry-After"]) >= 1


def test_front_end_servers_with_a_key_are_not_limited(limits: str) -> None:
    server = Client(REMOTE_ADDR=CLIENT, headers={"X-Personalize-Frontend-Key": "test-frontend-key"})
    query = {"query": "{ __typename }"}
    codes = [server.post("/graphql/", query, content_type="application/json").status_code]
    codes += [server.post("/graphql/", query, content_type="application/json").status_code]
    codes += [server.post("/graphql/", query, content_type="application/json").status_code]
    assert codes == [200, 200, 200]


def test_minting_over_the_limit_serves_the_page_without_an_id(limits: str) -> None:
    from django.core.management import call_command

    call_command("seed_demo", stdout=io.StringIO())
    ids = []
    for _ in range(3):
        response = client_from(consent=True).get("/")
        assert response.status_code == 200
        ids.append("pz_vid" in response.cookies)
    assert ids == [True, True, False]


def test_a_forged_forwarded_for_from_an_untrusted_peer_is_no_new_client(limits: str) -> None:
    refused = []
    for n in range(4):
        spoofer = Client(REMOTE_ADDR=CLIENT, headers={"X-Forwarded-For": f"203.0.113.{n}"})
        spoofer.cookies["pz_consent"] = dump_consent_cookie(["personalization"], time.time())
        refused.append(post_event(spoofer).status_code)
    assert refused == [200, 200, 200, 429]


def test_a_limit_set_to_none_is_off(settings: Any) -> None:
    settings.PERSONALIZE = {**settings.PERSONALIZE, "RATE_LIMITS": {"events": None}}
    request = RequestFactory().post("/", REMOTE_ADDR=CLIENT)
    assert {retry_after(request, "events") for _ in range(200)} == {None}
    # The other limits keep their defaults.
    assert rate_limits()["consent"] == Rate(20, 60)
    settings.PERSONALIZE = {**settings.PERSONALIZE, "RATE_LIMITS": None}
    assert set(rate_limits().values()) == {None}


@pytest.mark.redis
def test_redis_down_lets_every_request_through(settings: Any, caplog: Any) -> None:
    settings.CACHES = {**settings.CACHES, "shared": redis_cache("redis://127.0.0.1:1/0")}
    settings.PERSONALIZE = {
        **settings.PERSONALIZE,
        "CACHE_ALIAS": "shared",
        "RATE_LIMITS": {"events": "1/m", "graphql": "1/m"},
    }
    client = client_from(consent=True)
    assert [post_event(client).status_code for _ in range(3)] == [200, 200, 200]
    query = {"query": "{ __typename }"}
    codes = {client.post("/graphql/", query, content_type="application/json").status_code}
    codes |= {client.post("/graphql/", query, content_type="application/json").status_code}
    assert codes == {200}
    assert "shared cache unreachable (" in caplog.text


def test_retry_after_counts_to_the_end_of_the_window(settings: Any) -> None:
    settings.PERSONALIZE = {**settings.PERSONALIZE, "RATE_LIMITS": {"events": "2/m"}}
    request = RequestFactory().post("/", REMOTE_ADDR=CLIENT)
    start = 60.0 * 29_000_000 + 10
    assert retry_after(request, "events", now=start) is None
    assert retry_after(request, "events", now=start + 1) is None
    assert retry_after(request, "events", now=start + 5) == 45
    # The next window starts afresh.
    assert retry_after(request, "events", now=start + 50) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [("60/m", Rate(60, 60)), ("10/5s", Rate(10, 5)), (" 1000 / h ", Rate(1000, 3600))],
)
def test_parse_rate(value: str, expected: Rate) -> None:
    assert parse_rate(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [("60", "is not a rate such as '60/m'"), ("0/m", "allows nothing"), (60, "is not a rate")],
)
def test_parse_rate_refuses_what_is_no_rate(value: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_rate(value)


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"logins": "5/m"}, r"Unknown limit\(s\) in PERSONALIZE\['RATE_LIMITS'\]: logins"),
        ({"events": "fast"}, r"PERSONALIZE\['RATE_LIMITS'\]\['events'\]: 'fast' is not a rate"),
        ("60/m", "must be a dict"),
    ],
)
def test_bad_rate_limits_are_reported(settings: Any, setting: Any, message: str) -> None:
    settings.PERSONALIZE = {**settings.PERSONALIZE, "RATE_LIMITS": setting}
    with pytest.raises(ImproperlyConfigured, match=message):
        rate_limits()


def test_client_key_uses_the_trusted_proxies_and_groups_ipv6_by_64(settings: Any) -> None:
    factory = RequestFactory()
    behind = factory.get("/", REMOTE_ADDR=PROXY, headers={"X-Forwarded-For": f"1.2.3.4, {CLIENT}"})
    assert client_key(behind) == CLIENT
    direct = factory.get("/", REMOTE_ADDR=CLIENT, headers={"X-Forwarded-For": "1.2.3.4"})
    assert client_key(direct) == CLIENT
    ipv6 = factory.get("/", REMOTE_ADDR="2001:db8:1:2:aaaa::1")
    assert client_key(ipv6) == "2001:db8:1:2::/64"
    assert client_key(factory.get("/", REMOTE_ADDR="garbage")) == "-"
