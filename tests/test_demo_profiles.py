"""The demo's visitor profiles: seeded scoring rules and segments, and the pages that use them."""

from __future__ import annotations

import io
import time
from typing import Any

import pytest
from django.core.management import call_command
from wagtail.models import Page

from cms_site.home.models import ContentPage, HomePage
from personalize.models import PersonalizationSettings, Profile, ScoringRule, Segment
from personalize.profiles.scoring import config_changed
from personalize.rules.scoring import ProfileState
from personalize.signals.consent import dump_consent_cookie
from personalize.visitors.registry import segments_changed
from tests.fragments import with_fragments

pytestmark = pytest.mark.django_db

LAYERING = "/guides/layering-for-ski-touring/"
FIRST_TOUR = "/journal/first-tour-of-the-season/"

SEEDED_RULES = {
    "Logged-in customer": "+20 points for visitors who are logged in and who are in the group "
    "Customers",
    "Reads a guide or article": "+5 points for viewing a Content page (at most 15 per visit)",
    "Reads about ski touring": "+10 points for viewing a page tagged “ski-touring” (at most 20 "
    "in total)",
    "Requests a fitting": "+25 points for the event “demo_request” (at most 25 per visit)",
    "Signs up for the newsletter": "+15 points for the event “newsletter_signup” (at most 15 in "
    "total)",
}


def seed() -> str:
    """Run seed_demo and make this process see its rules and segments at once.

    The package announces changes after the transaction commits, which never happens inside a
    test's transaction.
    """
    output = io.StringIO()
    call_command("seed_demo", stdout=output)
    config_changed()
    segments_changed()
    return output.getvalue()


@pytest.fixture
def demo(db: Any) -> None:
    seed()


def consent(client: Any) -> None:
    client.cookies["pz_consent"] = dump_consent_cookie(["personalization"], time.time())


def profile() -> ProfileState:
    (row,) = Profile.objects.all()
    return ProfileState.from_json(row.data)


def test_seed_demo_twice_creates_nothing_new(demo: None) -> None:
    counts = (ScoringRule.objects.count(), Segment.objects.count(), Page.objects.count())
    assert "Demo content ready." in seed()
    assert (ScoringRule.objects.count(), Segment.objects.count(), Page.objects.count()) == counts
    assert counts[:2] == (5, 11)
    assert PersonalizationSettings.objects.count() == 1


def test_seed_demo_tags_pages_from_an_earlier_run_and_keeps_editors_tags(demo: None) -> None:
    jacket = ContentPage.objects.get(slug="choosing-a-rain-jacket")
    jacket.tags.clear()
    jacket.save_revision().publish()
    dolomites = ContentPage.objects.get(slug="three-days-in-the-dolomites")
    dolomites.tags.set(["trekking"])
    dolomites.save_revision().publish()
    seed()
    assert sorted(ContentPage.objects.get(pk=jacket.pk).tags.names()) == ["hiking", "rain-gear"]
    assert list(ContentPage.objects.get(pk=dolomites.pk).tags.names()) == ["trekking"]


def test_seeded_pages_carry_tags(demo: None) -> None:
    tags = {page.slug: sorted(page.tags.names()) for page in ContentPage.objects.all()}
    assert tags["layering-for-ski-touring"] == ["layering", "ski-touring", "skiing"]
    assert tags["first-tour-of-the-season"] == ["safety", "ski-touring"]
    assert tags["waxing-skis-at-home"] == ["care", "skiing"]
    assert tags["three-days-in-the-dolomites"] == ["hiking", "hut-to-hut"]
    assert tags["try-it"] == []


def test_seeded_scoring_rules_are_valid(demo: None) -> None:
    rules = list(ScoringRule.objects.all())
    for rule in rules:
        rule.full_clean()
    assert {rule.name: rule.summary for rule in rules} == SEEDED_RULES
    customer = ScoringRule.objects.get(name="Logged-in customer")
    assert customer.condition == {
        "$and": [{"user.authenticated": True}, {"user.groups": {"$in": ["Customers"]}}]
    }
    assert customer.to_record().condition is not None


def test_seeded_profile_segments_are_valid(demo: None) -> None:
    slugs = ["ready-to-buy", "cooling-down", "ski-touring-fans", "returning-visitors"]
    segments = {s.slug: s for s in Segment.objects.filter(slug__in=[*slugs, "tea-drinkers"])}
    for segment in segments.values():
        segment.full_clean()
    conditions = {slug: segments[slug].condition for slug in segments}
    assert conditions == {
        "ready-to-buy": {"$and": [{"visitor.stage": {"$in": ["consideration", "intent"]}}]},
        "cooling-down": {
            "$and": [
                {"visitor.peak_stage": {"$in": ["consideration", "intent"]}},
                {"visitor.stage": {"$in": ["awareness"]}},
            ]
        },
        "ski-touring-fans": {"$and": [{"visitor.interests.ski-touring": {"$gte": 2}}]},
        "returning-visitors": {"$and": [{"visitor.returning": True}]},
        "tea-drinkers": {"$and": [{"visitor.prefs.drink": {"$eq": "tea"}}]},
    }


def test_home_page_variants_in_priority_order(demo: None) -> None:
    welcome = HomePage.objects.get().body[0]
    assert [variant["label"] for variant in welcome.value["variants"]] == [
        "Cooling down: welcome back",
        "Ready to buy: book a fitting",
        "Ski-touring fans: touring kit",
        "Ads: first-order offer",
        "DACH: free shipping",
        "Phones: call us",
    ]


def test_two_ski_touring_pages_make_a_fan(client: Any, demo: None, settings: Any) -> None:
    settings.PERSONALIZE = {**settings.PERSONALIZE, "EXPLAIN_LINKS": True}
    consent(client)
    client.get(LAYERING)
    assert client.get("/").wsgi_request.visitor.in_segment("ski-touring-fans") is False
    client.get(FIRST_TOUR)
    response = client.get("/")
    visitor = response.wsgi_request.visitor
    html = with_fragments(client, response)
    assert visitor.in_segment("ski-touring-fans") is True
    attributes = visitor.profile_attributes()
    assert attributes["interests"]["ski-touring"] == 2.0
    # Two content pages (5 each) and two ski-touring pages (10 each).
    assert attributes["score"] == 30.0
    assert attributes["stage"] == "interest"
    assert "Touring kit, tested above Innsbruck" in html
    assert "New here?" not in html
    assert "You see this because you are in the audience “Ski-touring fans”" in html
    assert '<span class="chip">Ski-touring fans</span>' in html
    assert '<span class="chip">ski-touring · 2</span>' in html


def test_fitting_request_tracks_the_event(client: Any, demo: None) -> None:
    consent(client)
    client.get("/try-it/")
    # A new id: nothing is stored until the browser sends it back, as this post does.
    assert Profile.objects.count() == 0
    response = client.post("/demo/fitting/", {"next": "/try-it/#fitting"})
    assert response.status_code == 302
    assert response["Location"] == "/try-it/#fitting"
    # The page view the cookie carried (5 points), then the request (25 points).
    assert profile().score == pytest.approx(30.0, abs=0.01)
    page = client.get("/try-it/").content.decode()
    assert "here it added 25 points to your engagement score" in page


def test_fitting_request_without_consent_stores_nothing(client: Any, demo: None) -> None:
    response = client.post("/demo/fitting/", {"next": "https://evil.example/"})
    assert response.status_code == 302
    assert response["Location"] == "/try-it/#fitting"
    assert Profile.objects.count() == 0
    page = client.get("/try-it/").content.decode()
    assert "you have not allowed personalization" in page


def test_fitting_request_needs_post(client: Any, demo: None) -> None:
    assert client.get("/demo/fitting/").status_code == 405


def test_tea_answer_changes_the_greeting(client: Any, demo: None) -> None:
    consent(client)
    before = client.get("/try-it/").content.decode()
    assert 'name="key" value="drink"' in before
    assert "answer “Tea” and this paragraph changes" in before
    assert "have the kettle on" not in before
    response = client.post(
        "/personalize/preferences/", {"key": "drink", "value": "tea", "next": "/try-it/"}
    )
    assert response.status_code == 303
    assert response["Location"] == "/try-it/#pz-pref-drink"
    assert profile().prefs == {"drink": "tea"}
    after = client.get("/try-it/")
    html = after.content.decode()
    assert after.wsgi_request.visitor.in_segment("tea-drinkers") is True
    assert "have the kettle on" in html
    assert "answer “Tea” and this paragraph changes" not in html
    assert 'value="tea" checked' in html


def test_banner_until_the_visitor_chooses(client: Any, demo: None) -> None:
    first = with_fragments(client, client.get("/"))
    assert 'class="pz-banner"' in first
    assert '<a href="/personalize/privacy/">Privacy &amp; your data</a>' in first
    assert "nothing yet: you have not chosen" in first
    assert "nothing is stored until you allow personalization" in first
    client.post("/personalize/consent/", {"choice": "all", "next": "/"})
    chosen = with_fragments(client, client.get("/"))
    assert 'class="pz-banner"' not in chosen
    assert '<span class="chip">personalization</span><span class="chip">analytics</span>' in (
        chosen
    )


def test_privacy_page_in_the_demo_layout(client: Any, demo: None) -> None:
    consent(client)
    client.get(LAYERING)
    client.get("/")  # the browser sent the new id back: the profile is stored
    html = client.get("/personalize/privacy/").content.decode()
    assert "<title>Your privacy · Northwind Outdoor</title>" in html
    assert 'href="/static/css/site.css"' in html
    assert '<meta name="robots" content="noindex">' in html
    assert 'class="pz-banner"' not in html
    assert 'class="visit-panel' not in html
    assert "<dt>Your interest in ski touring</dt><dd>1 point</dd>" in html
