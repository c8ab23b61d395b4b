"""build_context: every signal of a request becomes a documented attribute."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from hypothesis import given
from hypothesis import settings as settings_hypothesis
from hypothesis import strategies as st

from personalize.visitors.attribution import dump_attribution
from personalize.visitors.context import build_context
from tests.conftest import IPHONE, NOW, WINDOWS_CHROME
from tests.mmdb import build_city_database

pytestmark = pytest.mark.django_db


def test_attribute_tree_has_every_documented_key(make_request: Any) -> None:
    context = build_context(make_request("/journal/?utm_source=x"), NOW)
    assert sorted(context.attributes) == [
        "consent",
        "device",
        "geo",
        "gpc",
        "page",
        "query",
        "referral",
        "time",
        "user",
        "visitor",
    ]
    assert sorted(context.attributes["geo"]) == [
        "city",
        "continent",
        "country",
        "region",
        "timezone",
    ]
    assert sorted(context.attributes["time"]) == [
        "date",
        "hour",
        "minute",
        "month",
        "time",
        "timezone",
        "weekday",
    ]
    assert context.attributes["page"] == {"path": "/journal/", "locale": "en"}


def test_trusted_proxy_headers_give_geo_and_local_time(make_request: Any) -> None:
    request = make_request(
        headers={
            "CF-IPCountry": "AT",
            "CF-Region-Code": "9",
            "CF-IPCity": "Vienna",
            "CF-Timezone": "Europe/Vienna",
        },
        remote_addr="10.1.2.3",
    )
    context = build_context(request, NOW)
    assert context.attributes["geo"] == {
        "country": "AT",
        "region": "AT-9",
        "city": "Vienna",
        "continent": "EU",
        "timezone": "Europe/Vienna",
    }
    assert context.get("time.timezone") == "Europe/Vienna"
    assert context.get("time.time") == "09:30"
    assert context.get("time.weekday") == 3


def test_spoofed_header_from_untrusted_peer_is_ignored(make_request: Any) -> None:
    request = make_request(headers={"CF-IPCountry": "AT"}, remote_addr="198.51.100.7")
    assert build_context(request, NOW).get("geo.country") is None


def test_geoip_database_used_for_untrusted_peer(
    make_request: Any, settings: Any, tmp_path: Any
) -> None:
    path = build_city_database(tmp_path / "city.mmdb")
    settings.PERSONALIZE = {**settings.PERSONALIZE, "GEOIP_PATH": str(path)}
    request = make_request(headers={"CF-IPCountry": "US"}, remote_addr="62.46.10.10")
    geo = build_context(request, NOW).attributes["geo"]
    assert geo["country"] == "AT"
    assert geo["city"] == "Vienna"
    assert geo["timezone"] == "Europe/Vienna"


def test_forwarded_client_behind_trusted_proxy_is_looked_up(
    make_request: Any, settings: Any, tmp_path: Any
) -> None:
    path = build_city_database(tmp_path / "city.mmdb")
    settings.PERSONALIZE = {**settings.PERSONALIZE, "GEOIP_PATH": str(path)}
    request = make_request(
        headers={"X-Forwarded-For": "81.2.69.160, 10.0.0.2"}, remote_addr="10.0.0.1"
    )
    assert build_context(request, NOW).get("geo.city") == "London"


def test_timezone_cookie_used_without_geo(make_request: Any) -> None:
    request = make_request(cookies={"pz_tz": "America/New_York"})
    context = build_context(request, NOW)
    assert context.get("time.timezone") == "America/New_York"
    assert context.get("time.hour") == 3


def test_bad_timezone_cookie_falls_back_to_site_zone(make_request: Any) -> None:
    request = make_request(cookies={"pz_tz": "../../etc/passwd"})
    context = build_context(request, NOW)
    assert context.get("time.timezone") == "Europe/Berlin"
    assert context.get("time.hour") == 9


def test_device_from_user_agent(make_request: Any) -> None:
    phone = build_context(make_request(headers={"User-Agent": IPHONE}), NOW)
    desktop = build_context(make_request(headers={"User-Agent": WINDOWS_CHROME}), NOW)
    assert phone.attributes["device"] == {"type": "mobile", "os": "iOS", "browser": "Mobile Safari"}
    assert desktop.attributes["device"] == {"type": "desktop", "os": "Windows", "browser": "Chrome"}


def test_query_parameters_are_exposed_and_bounded(make_request: Any) -> None:
    context = build_context(make_request(data={"ref": "partner", "q": "x" * 500}), NOW)
    assert context.get("query.ref") == "partner"
    assert context.get("query.q") == "x" * 200


def test_referral_from_utm_and_direct(make_request: Any) -> None:
    paid = build_context(make_request(data={"utm_source": "google", "utm_medium": "cpc"}), NOW)
    direct = build_context(make_request(), NOW)
    assert paid.get("referral.channel") == "paid_search"
    assert paid.refresh_attribution is True
    assert direct.get("referral.channel") == "direct"
    assert direct.get("referral.source") == "(direct)"


def test_internal_navigation_keeps_landing_attribution(make_request: Any) -> None:
    landing = build_context(make_request(data={"gclid": "abc"}), NOW)
    cookie = dump_attribution(dict(landing.attributes["referral"]))
    later = make_request(
        "/guides/",
        headers={"Referer": "http://testserver/", "Host": "testserver"},
        cookies={"pz_attr": cookie},
    )
    context = build_context(later, NOW)
    assert context.get("referral.channel") == "paid_search"
    assert context.get("referral.source") == "google"
    assert context.refresh_attribution is False


def test_new_campaign_replaces_attribution(make_request: Any) -> None:
    cookie = dump_attribution({"channel": "paid_search", "source": "google", "medium": "cpc"})
    request = make_request(
        data={"utm_source": "newsletter", "utm_medium": "email"}, cookies={"pz_attr": cookie}
    )
    assert build_context(request, NOW).get("referral.channel") == "email"


def test_forged_attribution_cookie_is_ignored(make_request: Any) -> None:
    request = make_request(cookies={"pz_attr": "eyJhIjp7ImNoYW5uZWwiOiJlbWFpbCJ9fQ.forgedsig"})
    assert build_context(request, NOW).get("referral.channel") == "direct"


def test_expired_attribution_cookie_is_ignored(make_request: Any) -> None:
    cookie = dump_attribution(
        {"channel": "email", "source": "newsletter", "medium": "email"}, now=NOW.timestamp() - 3600
    )
    request = make_request(cookies={"pz_attr": cookie})
    assert build_context(request, NOW).get("referral.channel") == "direct"


def test_anonymous_user_attributes(make_request: Any) -> None:
    user = build_context(make_request(), NOW).attributes["user"]
    assert user == {
        "authenticated": False,
        "staff": False,
        "groups": [],
        "first_name": None,
        "email": None,
    }


def test_known_user_attributes_and_groups(make_request: Any) -> None:
    member = User.objects.create_user("cleo", "cleo@example.com", "pw", first_name="Cleo")
    member.groups.add(Group.objects.create(name="Customers"), Group.objects.create(name="Beta"))
    attrs = build_context(make_request(user=member), NOW).attributes["user"]
    assert attrs == {
        "authenticated": True,
        "staff": False,
        "groups": ["Beta", "Customers"],
        "first_name": "Cleo",
        "email": "cleo@example.com",
    }


def test_groups_not_read_when_not_needed(make_request: Any, django_assert_num_queries: Any) -> None:
    member = User.objects.create_user("dora", "d@example.com", "pw")
    request = make_request(user=member)
    with django_assert_num_queries(0):
        attrs = build_context(request, NOW, include_groups=False).attributes["user"]
    assert attrs["groups"] == []
    assert attrs["authenticated"] is True


@pytest.mark.parametrize(
    "headers",
    [
        {"User-Agent": "\x00\xff" * 5000},
        {"CF-IPCountry": "\u00e4\u00f6"},
        {"Referer": "http://[::1"},
        {"X-Forwarded-For": "garbage, , 999.1.1.1"},
        {"Sec-CH-UA-Platform": '"' * 300},
    ],
)
def test_hostile_headers_give_unknowns(make_request: Any, headers: dict[str, str]) -> None:
    context = build_context(make_request(headers=headers, remote_addr="10.0.0.5"), NOW)
    assert context.get("geo.country") is None
    assert context.get("device.type") in {"other", "desktop", "mobile", "tablet", "bot"}
    assert context.get("referral.channel") in {"direct", "referral"}


def test_attribution_cookie_round_trip_and_tampering(settings: Any) -> None:
    from personalize.visitors.attribution import read_attribution

    cookie = dump_attribution({"channel": "email", "source": "newsletter", "medium": "email"})
    stored = read_attribution(cookie, 1800)
    assert stored is not None
    assert stored["attribution"]["source"] == "newsletter"
    body, mac = cookie.rsplit(".", 1)
    forged_body = body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1]
    assert read_attribution(f"{forged_body}.{mac}", 1800) is None
    assert read_attribution("no-dot-at-all", 1800) is None
    assert read_attribution("ünïcode.ßig", 1800) is None


def test_attribution_cookie_survives_secret_rotation(settings: Any) -> None:
    from personalize.visitors.attribution import read_attribution

    cookie = dump_attribution({"channel": "email", "source": "newsletter", "medium": "email"})
    old = settings.SECRET_KEY
    settings.SECRET_KEY = "a-new-secret-key"
    assert read_attribution(cookie, 1800) is None
    settings.SECRET_KEY_FALLBACKS = [old]
    assert read_attribution(cookie, 1800)["attribution"]["channel"] == "email"


_text = st.text(st.characters(codec="latin-1"), max_size=300)


@settings_hypothesis(max_examples=150, deadline=None)
@given(
    headers=st.dictionaries(
        st.sampled_from(
            [
                "User-Agent",
                "Referer",
                "CF-IPCountry",
                "CF-IPCity",
                "CF-Timezone",
                "X-Forwarded-For",
                "Sec-CH-UA-Mobile",
                "Sec-CH-UA-Platform",
                "CloudFront-Viewer-Country-Region",
            ]
        ),
        _text,
    ),
    query=st.dictionaries(_text, _text, max_size=5),
    cookies=st.dictionaries(st.sampled_from(["pz_attr", "pz_tz"]), _text),
    peer=st.sampled_from(["10.0.0.1", "203.0.113.5", "", "garbage", "::1"]),
)
def test_arbitrary_requests_never_raise(
    headers: dict[str, str], query: dict[str, str], cookies: dict[str, str], peer: str
) -> None:
    from django.contrib.auth.models import AnonymousUser
    from django.test import RequestFactory

    request = RequestFactory().get("/", data=query, headers=headers, REMOTE_ADDR=peer)
    request.user = AnonymousUser()
    request.COOKIES.update(cookies)
    context = build_context(request, NOW)
    assert context.get("device.type") in {"mobile", "tablet", "desktop", "bot", "other"}
    assert context.get("referral.channel") is not None
    assert 0 <= context.get("time.hour") <= 23
    country = context.get("geo.country")
    assert country is None or (len(country) == 2 and country.isupper())
