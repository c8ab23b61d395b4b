"""GraphQL consent, events, preferences and the visitor's profile (browsers and front ends)."""

from __future__ import annotations

import json
import time
from typing import Any
from unittest.mock import ANY

import pytest
from django.test import Client, TestCase
from wagtail.models import Page, Site

from personalize.models import Profile, ScoringRule
from personalize.profiles.scoring import config_changed
from personalize.signals.consent import dump_consent_cookie, parse_consent_cookie
from personalize.visitors.identity import read_visitor_id

pytestmark = pytest.mark.django_db

KEY = {"X-Personalize-Frontend-Key": "test-frontend-key"}
CONSENT = """
mutation ($purposes: [String!]!, $v: VisitorInput) {
  setConsent(purposes: $purposes, visitor: $v) { consent gpc consentCookie visitorToken }
}
"""
TRACK = """
mutation ($name: String!, $target: String, $tags: [String!], $page: ID, $v: VisitorInput) {
  trackEvent(name: $name, target: $target, tags: $tags, page: $page, visitor: $v) {
    tracked visitorToken error
  }
}
"""
PREFER = """
mutation ($key: String!, $value: String, $v: VisitorInput) {
  setPreference(key: $key, value: $value, visitor: $v) { stored visitorToken error }
}
"""
VISITOR = """
query ($v: VisitorInput) {
  visitor(visitor: $v) {
    consent gpc segments { slug } explanation
    profile { visits returning daysSinceFirstVisit score stage peakStage interests prefs }
  }
}
"""


def _post(client: Any, query: str, variables: dict[str, Any] | None = None, **extra: Any) -> Any:
    # Each request commits (autocommit), so the profile store's on-commit cache drops run.
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(
            "/graphql/",
            json.dumps({"query": query, "variables": variables or {}}),
            content_type="application/json",
            **extra,
        )


def _data(response: Any) -> Any:
    assert response.status_code == 200, response.content
    body = response.json()
    assert "errors" not in body, body["errors"]
    return body["data"]


def _visitor(client: Any, v: dict[str, Any] | None = None, **extra: Any) -> Any:
    visitor = _data(_post(client, VISITOR, {"v": v}, **extra))["visitor"]
    visitor["explanation"] = json.loads(visitor["explanation"])
    if visitor["profile"] is not None:
        for name in ("interests", "prefs"):
            visitor["profile"][name] = json.loads(visitor["profile"][name])
    return visitor


def _consented(client: Any) -> None:
    client.cookies["pz_consent"] = dump_consent_cookie(["personalization"], time.time())


@pytest.fixture
def demo_request_rule(db: Any) -> ScoringRule:
    rule = ScoringRule.objects.create(
        name="Demo request", trigger="event", value="demo_request", points=30
    )
    config_changed()
    return rule


def test_set_consent_sets_the_cookie_and_returns_the_choice(client: Any) -> None:
    response = _post(client, CONSENT, {"purposes": ["personalization", "marketing", "analytics"]})
    result = _data(response)["setConsent"]
    assert result["consent"] == ["necessary", "personalization", "analytics"]
    assert result["gpc"] is False
    parsed = parse_consent_cookie(result["consentCookie"])
    assert parsed is not None
    purposes, at = parsed
    assert purposes == {"necessary", "personalization", "analytics"}
    assert abs(at - time.time()) < 60
    assert result["visitorToken"] is None
    assert response.cookies["pz_consent"].value == result["consentCookie"]
    assert "no-store" in response["Cache-Control"]
    assert _visitor(client)["consent"] == ["necessary", "personalization", "analytics"]


def test_set_consent_reports_gpc(client: Any) -> None:
    headers = {"Sec-GPC": "1"}
    before = _visitor(client, headers=headers)
    assert (before["consent"], before["gpc"]) == (["necessary"], True)
    result = _data(_post(client, CONSENT, {"purposes": ["analytics"]}, headers=headers))
    assert result["setConsent"]["consent"] == ["necessary", "analytics"]
    assert result["setConsent"]["gpc"] is True


def test_without_consent_nothing_is_tracked(client: Any, demo_request_rule: ScoringRule) -> None:
    response = _post(client, TRACK, {"name": "demo_request"})
    assert _data(response)["trackEvent"] == {"tracked": False, "visitorToken": None, "error": None}
    assert Profile.objects.count() == 0
    assert "pz_vid" not in response.cookies
    visitor = _visitor(client)
    assert (visitor["consent"], visitor["profile"]) == (["necessary"], None)


def test_tracked_event_builds_the_profile(client: Any, demo_request_rule: ScoringRule) -> None:
    _consented(client)
    response = _post(client, TRACK, {"name": "demo_request"})
    assert _data(response)["trackEvent"] == {"tracked": True, "visitorToken": None, "error": None}
    profile = Profile.objects.get()
    assert profile.visitor_id.hex == read_visitor_id(response.cookies["pz_vid"].value)
    assert response.cookies["pz_vid"]["httponly"] is True
    assert _visitor(client)["profile"] == {
        "visits": 1,
        "returning": False,
        "daysSinceFirstVisit": 0,
        "score": 30.0,
        "stage": "interest",
        "peakStage": "interest",
        "interests": {},
        "prefs": {},
    }


def test_relayed_visitor_reads_its_own_profile(client: Any, demo_request_rule: ScoringRule) -> None:
    _consented(client)
    browser = _post(client, TRACK, {"name": "demo_request"})
    token = browser.cookies["pz_vid"].value
    server = Client()  # the front-end server: no cookies of its own
    relayed = {"consent": client.cookies["pz_consent"].value, "visitorToken": token}
    visitor = _visitor(server, relayed, headers=KEY)
    assert visitor["consent"] == ["necessary", "personalization"]
    assert visitor["profile"]["score"] == 30.0
    without_token = _visitor(server, {"consent": relayed["consent"]}, headers=KEY)
    assert without_token["profile"] is None
    without_consent = _visitor(server, {"visitorToken": token}, headers=KEY)
    assert (without_consent["consent"], without_consent["profile"]) == (["necessary"], None)


def test_relayed_visitor_gets_the_cookie_values(
    client: Any, demo_request_rule: ScoringRule
) -> None:
    choice = _post(client, CONSENT, {"purposes": ["personalization"], "v": {}}, headers=KEY)
    consent = _data(choice)["setConsent"]
    assert consent["visitorToken"] is None
    assert "pz_consent" not in choice.cookies  # the front end sets it on its own response
    relayed = {"consent": consent["consentCookie"], "userAgent": "Mozilla/5.0 (X11; Linux)"}
    tracked = _post(client, TRACK, {"name": "demo_request", "v": relayed}, headers=KEY)
    result = _data(tracked)["trackEvent"]
    assert result["tracked"] is True
    assert "pz_vid" not in tracked.cookies
    visitor_id = read_visitor_id(result["visitorToken"])
    assert Profile.objects.get().visitor_id.hex == visitor_id
    again = {**relayed, "visitorToken": result["visitorToken"]}
    second = _data(_post(client, TRACK, {"name": "demo_request", "v": again}, headers=KEY))
    assert read_visitor_id(second["trackEvent"]["visitorToken"]) == visitor_id
    assert _visitor(client, again, headers=KEY)["profile"]["score"] == 60.0


def test_relayed_consent_needs_a_frontend_key(client: Any) -> None:
    body = _post(client, CONSENT, {"purposes": ["personalization"], "v": {}}).json()
    assert body["data"] == {"setConsent": None}
    assert "front-end key" in body["errors"][0]["message"]


def test_withdrawing_consent_erases_the_profile(
    client: Any, demo_request_rule: ScoringRule
) -> None:
    _consented(client)
    _data(_post(client, TRACK, {"name": "demo_request"}))
    assert Profile.objects.count() == 1
    response = _post(client, CONSENT, {"purposes": []})
    assert _data(response)["setConsent"]["consent"] == ["necessary"]
    assert Profile.objects.count() == 0
    assert response.cookies["pz_vid"]["max-age"] == 0
    assert parse_consent_cookie(response.cookies["pz_consent"].value) == (
        frozenset({"necessary"}),
        ANY,
    )


def test_relayed_withdrawal_returns_no_token(client: Any, demo_request_rule: ScoringRule) -> None:
    relayed = {"consent": dump_consent_cookie(["personalization"], time.time())}
    first = _data(_post(client, TRACK, {"name": "demo_request", "v": relayed}, headers=KEY))
    relayed["visitorToken"] = first["trackEvent"]["visitorToken"]
    assert read_visitor_id(relayed["visitorToken"]) == Profile.objects.get().visitor_id.hex
    withdrawn = _data(_post(client, CONSENT, {"purposes": [], "v": relayed}, headers=KEY))
    assert withdrawn["setConsent"]["visitorToken"] is None
    assert withdrawn["setConsent"]["consent"] == ["necessary"]
    assert Profile.objects.count() == 0


def test_explanation_shows_the_visitors_values(
    client: Any, segment_factory: Any, demo_request_rule: ScoringRule
) -> None:
    segment_factory("Engaged", slug="engaged", condition={"visitor.score": {"$gte": 20}})
    segment_factory("Ready", slug="ready", condition={"visitor.stage": "intent"})
    _consented(client)
    _data(_post(client, TRACK, {"name": "demo_request"}))
    explanation = _visitor(client)["explanation"]
    found = {
        e["slug"]: (e["matched"], [(r["matched"], r["attributes"]) for r in e["rules"]])
        for e in explanation
    }
    # Only the segments the visitor is in: "ready" and its rule stay editor-only.
    assert found == {"engaged": (True, [(True, {"visitor.score": 30.0})])}
    assert explanation[0]["rules"][0]["values"] == [["your engagement score", "30"]]


def test_preference_puts_the_visitor_in_a_segment(client: Any, segment_factory: Any) -> None:
    segment_factory("Climbers", slug="climbers", condition={"visitor.prefs.activity": "climbing"})
    _consented(client)
    response = _post(client, PREFER, {"key": "activity", "value": "  climbing "})
    assert _data(response)["setPreference"] == {"stored": True, "visitorToken": None, "error": None}
    assert "pz_vid" in response.cookies
    visitor = _visitor(client)
    assert visitor["segments"] == [{"slug": "climbers"}]
    assert visitor["profile"]["prefs"] == {"activity": "climbing"}
    removed = _data(_post(client, PREFER, {"key": "activity", "value": None}))
    assert removed["setPreference"]["stored"] is True
    assert _visitor(client)["segments"] == []


def test_relayed_preference(client: Any, segment_factory: Any) -> None:
    segment_factory("Climbers", slug="climbers", condition={"visitor.prefs.activity": "climbing"})
    relayed = {"consent": dump_consent_cookie(["personalization"], time.time())}
    stored = _data(
        _post(client, PREFER, {"key": "activity", "value": "climbing", "v": relayed}, headers=KEY)
    )["setPreference"]
    assert stored["stored"] is True
    relayed["visitorToken"] = stored["visitorToken"]
    assert _visitor(client, relayed, headers=KEY)["segments"] == [{"slug": "climbers"}]


def test_preference_without_consent_is_not_stored(client: Any) -> None:
    result = _data(_post(client, PREFER, {"key": "activity", "value": "climbing"}))
    assert result["setPreference"] == {"stored": False, "visitorToken": None, "error": None}
    assert Profile.objects.count() == 0


def test_page_view_from_a_front_end(client: Any) -> None:
    home = Site.objects.get(is_default_site=True).root_page
    ScoringRule.objects.create(name="Home", trigger="page", page=home, points=5)
    config_changed()
    relayed = {"consent": dump_consent_cookie(["personalization"], time.time())}
    variables = {"name": "page_view", "page": str(home.pk), "v": relayed}
    result = _data(_post(client, TRACK, variables, headers=KEY))["trackEvent"]
    assert (result["tracked"], result["error"]) == (True, None)
    relayed["visitorToken"] = result["visitorToken"]
    # A new id: nothing is stored until the front end relays the token back; the token carries
    # the first page view, which is scored then.
    assert _visitor(client, relayed, headers=KEY)["profile"] is None
    again = _data(_post(client, TRACK, {**variables, "v": relayed}, headers=KEY))["trackEvent"]
    assert again["tracked"] is True
    assert _visitor(client, relayed, headers=KEY)["profile"]["score"] == 10.0


@pytest.mark.parametrize(
    ("query", "variables", "field", "error"),
    [
        (TRACK, {"name": "demo request!"}, "trackEvent", "Invalid event name 'demo request!'"),
        (TRACK, {"name": "x" * 65}, "trackEvent", "at most 64 characters"),
        (TRACK, {"name": "page_view", "page": "abc"}, "trackEvent", "No live page with the id"),
        (TRACK, {"name": "page_view", "page": "999999"}, "trackEvent", "No live page"),
        (PREFER, {"key": "Activity", "value": "x"}, "setPreference", "Invalid preference key"),
        (PREFER, {"key": "activity", "value": "  "}, "setPreference", "Empty preference value"),
    ],
)
def test_bad_arguments_give_an_error_field(
    client: Any, query: str, variables: dict[str, Any], field: str, error: str
) -> None:
    _consented(client)
    result = _data(_post(client, query, variables))[field]
    assert result[("tracked" if field == "trackEvent" else "stored")] is False
    assert error in result["error"]
    assert Profile.objects.count() == 0


def test_unpublished_page_is_not_tracked(client: Any) -> None:
    home = Site.objects.get(is_default_site=True).root_page
    draft = home.add_child(instance=Page(title="Draft", slug="draft", live=False))
    _consented(client)
    result = _data(_post(client, TRACK, {"name": "page_view", "page": str(draft.pk)}))
    assert result["trackEvent"]["tracked"] is False
    assert f"No live page with the id '{draft.pk}'" in result["trackEvent"]["error"]


def test_page_view_tags_are_interests(client: Any) -> None:
    _consented(client)
    tags = ["Hiking", "hiking", *(f"tag{n}" for n in range(30))]
    assert _data(_post(client, TRACK, {"name": "page_view", "tags": tags}))["trackEvent"] == {
        "tracked": True,
        "visitorToken": None,
        "error": None,
    }
    interests = _visitor(client)["profile"]["interests"]
    # At most 20 tags of one call are read; repeats count once.
    assert interests == {"hiking": 1.0, **{f"tag{n}": 1.0 for n in range(18)}}


def test_mutations_from_browsers_need_a_csrf_token(db: Any) -> None:
    browser = Client(enforce_csrf_checks=True)
    body = _post(browser, CONSENT, {"purposes": ["personalization"]}).json()
    assert "Mutations need a CSRF token" in body["errors"][0]["message"]
    assert "pz_consent" not in browser.cookies


def test_relayed_gpc_and_consent(client: Any) -> None:
    visitor = _visitor(client, {"gpc": True}, headers=KEY)
    assert (visitor["consent"], visitor["gpc"]) == (["necessary"], True)
    granted = {"gpc": True, "consent": dump_consent_cookie(["analytics"], time.time())}
    visitor = _visitor(client, granted, headers=KEY)
    assert (visitor["consent"], visitor["gpc"]) == (["necessary", "analytics"], True)
    assert _visitor(client, {"consent": "garbage"}, headers=KEY)["consent"] == ["necessary"]


def test_logged_in_users_choice_is_kept_on_their_profile(
    client: Any, django_user_model: Any, demo_request_rule: ScoringRule
) -> None:
    user = django_user_model.objects.create_user("hiker", password="x" * 12)
    client.force_login(user)
    result = _data(_post(client, CONSENT, {"purposes": ["personalization"]}))["setConsent"]
    assert result["consent"] == ["necessary", "personalization"]
    assert _data(_post(client, TRACK, {"name": "demo_request"}))["trackEvent"]["tracked"] is True
    profile = Profile.objects.get()
    assert profile.user == user
    assert profile.data["consent"] == ["necessary", "personalization"]
    assert _visitor(client)["profile"]["score"] == 30.0


def test_direct_mutations_need_the_middleware(client: Any, settings: Any) -> None:
    settings.MIDDLEWARE = [
        m for m in settings.MIDDLEWARE if m != "personalize.middleware.PersonalizeMiddleware"
    ]
    body = _post(client, CONSENT, {"purposes": ["personalization"]}).json()
    assert body["data"] == {"setConsent": None}
    assert "need personalize.middleware.PersonalizeMiddleware" in body["errors"][0]["message"]
    assert "pz_consent" not in client.cookies
