"""PersonalizeMiddleware, the debug page and the demo site over real HTTP requests."""

from __future__ import annotations

import io
import time
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from personalize.signals.consent import dump_consent_cookie
from personalize.visitors.attribution import read_attribution
from tests.conftest import IPHONE
from tests.fragments import with_fragments

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(db: Any) -> None:
    call_command("seed_demo", stdout=io.StringIO())


def test_request_visitor_is_lazy_and_shared(client: Any, demo: None) -> None:
    response = client.get("/", headers={"User-Agent": IPHONE})
    visitor = response.wsgi_request.visitor
    assert visitor.in_segment("mobile-visitors") is True
    # "Morning readers" also matches on weekday mornings (the demo's local time).
    assert {s.slug for s in visitor.segments} - {"morning-readers"} == {"mobile-visitors"}
    assert "Mobile visitors" in with_fragments(client, response)


def consent_to(client: Any, *purposes: str) -> None:
    """Give the test client's browser a consent choice."""
    client.cookies["pz_consent"] = dump_consent_cookie(purposes, time.time())


def test_landing_attribution_cookie_persists_across_pages(client: Any, demo: None) -> None:
    consent_to(client, "personalization")
    landing = client.get("/", {"utm_source": "google", "utm_medium": "cpc"})
    cookie = landing.cookies["pz_attr"]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert "private" in landing["Cache-Control"]
    stored = read_attribution(cookie.value, 1800)
    assert stored is not None
    assert stored["attribution"]["channel"] == "paid_search"
    page = client.get("/guides/", headers={"Referer": "http://testserver/"})
    assert page.wsgi_request.visitor.in_segment("paid-search") is True
    assert "pz_attr" not in page.cookies


def test_no_attribution_cookie_before_consent(client: Any, demo: None) -> None:
    response = client.get("/", {"utm_source": "google", "utm_medium": "cpc"})
    assert "pz_attr" not in response.cookies
    # The landing attribution still counts for this request's own decisions.
    assert response.wsgi_request.visitor.in_segment("paid-search") is True


def test_cookie_stored_even_when_page_does_not_personalize(client: Any, demo: None) -> None:
    consent_to(client, "personalization")
    response = client.get("/journal/", {"utm_medium": "email", "utm_source": "newsletter"})
    assert (
        read_attribution(response.cookies["pz_attr"].value, 1800)["attribution"]["channel"]
        == "email"
    )


def test_no_cookie_on_post_or_errors(client: Any, demo: None) -> None:
    consent_to(client, "personalization")
    assert "pz_attr" not in client.get("/no-such-page/", {"gclid": "x"}).cookies
    assert "pz_attr" not in client.post("/", {"gclid": "x"}).cookies


def test_geo_through_trusted_proxy(client: Any, demo: None) -> None:
    trusted = client.get("/", headers={"CF-IPCountry": "AT"}, REMOTE_ADDR="10.0.0.1")
    spoofed = client.get("/", headers={"CF-IPCountry": "AT"}, REMOTE_ADDR="198.51.100.1")
    assert trusted.wsgi_request.visitor.in_segment("dach") is True
    assert spoofed.wsgi_request.visitor.in_segment("dach") is False


def test_logged_in_customer_segment(client: Any, demo: None) -> None:
    client.login(username="customer", password="customer-demo")  # noqa: S106
    response = client.get("/")
    assert response.wsgi_request.visitor.in_segment("customers") is True


def test_debug_page_hidden_from_anonymous_without_debug(client: Any, demo: None) -> None:
    assert client.get("/personalize/debug/").status_code == 404


def test_debug_page_for_staff_explains(client: Any, demo: None) -> None:
    staff = User.objects.create_user("editor", "e@example.com", "pw", is_staff=True)
    client.force_login(staff)
    response = client.get("/personalize/debug/", headers={"User-Agent": IPHONE})
    html = response.content.decode()
    assert response.status_code == 200
    directives = {d.strip() for d in response["Cache-Control"].split(",")}
    assert {"private", "no-store", "no-cache"} <= directives
    assert "Mobile visitors" in html
    assert "on a mobile phone" in html
    assert "<code>device.type</code></td><td><code>&quot;mobile&quot;</code>" in html


def test_debug_page_open_when_setting_allows(client: Any, demo: None, settings: Any) -> None:
    settings.PERSONALIZE = {**settings.PERSONALIZE, "DEBUG_VIEW": True}
    assert client.get("/personalize/debug/").status_code == 200
    settings.PERSONALIZE = {**settings.PERSONALIZE, "DEBUG_VIEW": False}
    staff = User.objects.create_user("ed", "ed@example.com", "pw", is_staff=True)
    client.force_login(staff)
    assert client.get("/personalize/debug/").status_code == 404


@pytest.mark.parametrize(
    "extra",
    [
        {"HTTP_USER_AGENT": "\udcff" * 10},
        {"HTTP_COOKIE": "pz_attr=" + "A" * 5000 + "; pz_tz=\x00"},
        {"HTTP_REFERER": "javascript:alert(1)"},
        {"QUERY_STRING": "utm_source=%ff%fe&utm_medium=%zz&gclid"},
        {"HTTP_CF_IPCOUNTRY": "<script>", "REMOTE_ADDR": "10.0.0.1"},
        {"HTTP_X_FORWARDED_FOR": "1.1.1.1, [::1", "REMOTE_ADDR": "10.0.0.1"},
    ],
)
def test_hostile_requests_render(client: Any, demo: None, extra: dict[str, str]) -> None:
    response = client.get("/", **extra)
    assert response.status_code == 200
    assert response.wsgi_request.visitor.attributes["device"]["type"] in {
        "mobile",
        "tablet",
        "desktop",
        "bot",
        "other",
    }


def test_seed_demo_is_idempotent(demo: None) -> None:
    from wagtail.models import Page

    from personalize.models import Segment

    counts = (Page.objects.count(), Segment.objects.count(), User.objects.count())
    output = io.StringIO()
    call_command("seed_demo", stdout=output)
    assert (Page.objects.count(), Segment.objects.count(), User.objects.count()) == counts
    assert counts[1] == 11
    assert "password 'admin-demo'" in output.getvalue()


def test_demo_cdn_picker_sets_country_for_loopback_only(
    client: Any, demo: None, settings: Any
) -> None:
    # As in the demo's settings: loopback plays the trusted CDN.
    settings.PERSONALIZE = {**settings.PERSONALIZE, "TRUSTED_PROXIES": ["127.0.0.1", "10.0.0.0/8"]}
    response = client.post("/demo/country/", {"country": "ch", "next": "/guides/"})
    assert response.status_code == 302
    assert response["Location"] == "/guides/"
    assert client.get("/").wsgi_request.visitor.attributes["geo"]["country"] == "CH"
    remote = client.get("/", REMOTE_ADDR="198.51.100.4")
    assert remote.wsgi_request.visitor.attributes["geo"]["country"] is None
    client.post("/demo/country/", {"country": "", "next": "https://evil.example/"})
    assert client.get("/").wsgi_request.visitor.attributes["geo"]["country"] is None
