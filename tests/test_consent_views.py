"""The consent, events and preferences endpoints, the consent banner and the time zone script."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.template import Context, Template
from django.test import Client
from wagtail.models import Page, Site

from cms_site.home.models import HomePage
from personalize.models import PersonalizationSettings, Profile, ScoringRule
from personalize.profiles.scoring import config_changed
from personalize.profiles.store import ProfileKey, profile_store
from personalize.signals.consent import dump_consent_cookie, parse_consent_cookie
from personalize.visitors.visitor import Visitor
from tests.conftest import IPHONE

pytestmark = pytest.mark.django_db

ALL = ["necessary", "personalization", "analytics"]


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


def consent_to(client: Client, *purposes: str) -> None:
    """Give the browser a consent cookie for ``purposes``."""
    client.cookies["pz_consent"] = dump_consent_cookie(purposes, time.time())


def profile_cache_keys() -> list[str]:
    return [key for key in cache._cache if ":profile:" in key]  # type: ignore[attr-defined]


def visitor_id_of(client: Client) -> str:
    from personalize.visitors.identity import read_visitor_id

    visitor_id = read_visitor_id(client.cookies["pz_vid"].value)
    assert visitor_id is not None
    return visitor_id


# --- POST /personalize/consent/ ------------------------------------------------------------------


def test_consent_url_is_included_by_the_demo_site() -> None:
    from django.urls import reverse

    assert reverse("personalize:consent") == "/personalize/consent/"
    assert reverse("personalize:events") == "/personalize/events/"
    assert reverse("personalize:preference") == "/personalize/preferences/"


def test_allow_all_sets_the_consent_cookie_and_redirects(client: Client) -> None:
    before = time.time()
    response = client.post("/personalize/consent/", {"choice": "all", "next": "/guides/?a=1"})
    assert response.status_code == 303
    assert response["Location"] == "/guides/?a=1"
    cookie = response.cookies["pz_consent"]
    parsed = parse_consent_cookie(cookie.value)
    assert parsed is not None
    assert parsed[0] == frozenset(ALL)
    assert before - 1 <= parsed[1] <= time.time()
    assert cookie["samesite"] == "Lax"
    assert cookie["max-age"] == 180 * 24 * 60 * 60
    assert "no-store" in response["Cache-Control"]


def test_only_necessary_and_custom_choices(client: Client) -> None:
    response = client.post("/personalize/consent/", {"choice": "necessary", "next": "/"})
    assert parse_consent_cookie(response.cookies["pz_consent"].value)[0] == {"necessary"}
    response = client.post(
        "/personalize/consent/", {"purposes": ["analytics"], "choice": "custom", "next": "/"}
    )
    assert parse_consent_cookie(response.cookies["pz_consent"].value)[0] == {
        "necessary",
        "analytics",
    }
    # Ticked boxes without a button value count as the ticked purposes.
    response = client.post("/personalize/consent/", {"purposes": ["personalization"]})
    assert parse_consent_cookie(response.cookies["pz_consent"].value)[0] == {
        "necessary",
        "personalization",
    }
    assert response["Location"] == "/"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/path",
        "javascript:alert(1)",
        "/\\evil.example",
        "http://testserver.evil.example/",
        "",
    ],
)
def test_unsafe_next_redirects_home(client: Client, target: str) -> None:
    response = client.post("/personalize/consent/", {"choice": "all", "next": target})
    assert response.status_code == 303
    assert response["Location"] == "/"


def test_next_on_this_host_is_kept(client: Client) -> None:
    response = client.post(
        "/personalize/consent/", {"choice": "all", "next": "http://testserver/journal/"}
    )
    assert response["Location"] == "http://testserver/journal/"


def test_consent_json_variant(client: Client) -> None:
    response = client.post(
        "/personalize/consent/",
        {"purposes": ["personalization"]},
        headers={"Accept": "application/json", "Sec-GPC": "1"},
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"consent": ["necessary", "personalization"], "gpc": True}
    assert parse_consent_cookie(response.cookies["pz_consent"].value)[0] == {
        "necessary",
        "personalization",
    }


def test_consent_as_a_json_body(client: Client) -> None:
    response = client.post(
        "/personalize/consent/",
        {"purposes": ["analytics"]},
        content_type="application/json",
        headers={"Accept": "application/json"},
    )
    assert response.json() == {"consent": ["necessary", "analytics"], "gpc": False}
    wrong_type = client.post(
        "/personalize/consent/",
        {"purposes": "analytics"},
        content_type="application/json",
        headers={"Accept": "application/json"},
    )
    assert wrong_type.status_code == 400
    assert wrong_type.json() == {"error": "purposes: Enter a list of values."}
    not_an_object = client.post("/personalize/consent/", "[]", content_type="application/json")
    assert not_an_object.status_code == 400
    assert not_an_object["Content-Type"] == "text/plain; charset=utf-8"
    assert "pz_consent" not in not_an_object.cookies


def test_browser_accept_header_gets_the_redirect(client: Client) -> None:
    accept = "text/html,application/xhtml+xml,application/json;q=0.9,*/*;q=0.8"
    response = client.post("/personalize/consent/", {"choice": "all"}, headers={"Accept": accept})
    assert response.status_code == 303


def test_consent_get_is_not_allowed(client: Client) -> None:
    response = client.get("/personalize/consent/")
    assert response.status_code == 405
    assert response["Allow"] == "POST"


@pytest.mark.parametrize(
    "data",
    [
        {"choice": "everything"},
        {"purposes": ["marketing"]},
        {"purposes": ["personalization"], "next": "/" + "x" * 3000},
    ],
)
def test_bad_consent_input_is_a_400(client: Client, data: dict[str, Any]) -> None:
    response = client.post("/personalize/consent/", data)
    assert response.status_code == 400
    assert "pz_consent" not in response.cookies
    json_response = client.post(
        "/personalize/consent/", data, headers={"Accept": "application/json"}
    )
    assert json_response.status_code == 400
    assert json_response.json()["error"].split(":")[0] in {"choice", "purposes", "next"}


def test_consent_needs_a_csrf_token() -> None:
    strict = Client(enforce_csrf_checks=True)
    assert strict.post("/personalize/consent/", {"choice": "all"}).status_code == 403
    strict.get("/personalize/privacy/")  # sets the CSRF cookie
    token = strict.cookies["csrftoken"].value
    response = strict.post("/personalize/consent/", {"choice": "all", "csrfmiddlewaretoken": token})
    assert response.status_code == 303


def test_withdrawing_consent_erases_the_anonymous_profile(client: Client, home: HomePage) -> None:
    client.post("/personalize/consent/", {"choice": "all"})
    client.get("/")
    client.get("/")
    assert Profile.objects.count() == 1
    response = client.post("/personalize/consent/", {"choice": "necessary", "next": "/"})
    assert Profile.objects.count() == 0
    assert response.cookies["pz_vid"]["max-age"] == 0
    assert parse_consent_cookie(response.cookies["pz_consent"].value)[0] == {"necessary"}


# --- What a page view stores, with and without consent -------------------------------------------


def test_page_view_before_consent_stores_nothing(client: Client, home: HomePage) -> None:
    response = client.get("/", {"utm_source": "newsletter", "utm_medium": "email"})
    assert response.status_code == 200
    assert "pz_vid" not in response.cookies
    assert "pz_attr" not in response.cookies
    assert Profile.objects.count() == 0
    assert profile_cache_keys() == []
    assert "timezone.js" not in response.content.decode()


def test_page_views_after_consent_create_a_profile(client: Client, home: HomePage) -> None:
    client.post("/personalize/consent/", {"choice": "all", "next": "/"})
    response = client.get("/", {"utm_source": "newsletter", "utm_medium": "email"})
    assert response.status_code == 200
    assert response.cookies["pz_vid"]["httponly"] is True
    assert "pz_attr" in response.cookies
    assert 'src="/static/personalize/timezone.js"' in response.content.decode()
    # A new id stores nothing until the browser sends it back.
    assert Profile.objects.count() == 0
    assert profile_cache_keys() == []
    client.get("/")
    profile = Profile.objects.get()
    assert profile.visitor_id.hex == visitor_id_of(client)
    assert profile.user_id is None
    assert profile.data["visits"] == 1


def test_gpc_without_a_choice_stores_nothing_even_in_opt_out_mode(
    client: Client, home: HomePage, settings: Any
) -> None:
    settings.PERSONALIZE = {**settings.PERSONALIZE, "CONSENT_MODE": "opt-out"}
    response = client.get("/", {"utm_source": "x", "utm_medium": "cpc"}, headers={"Sec-GPC": "1"})
    assert response.status_code == 200
    assert "pz_vid" not in response.cookies
    assert "pz_attr" not in response.cookies
    assert Profile.objects.count() == 0
    assert profile_cache_keys() == []
    events = client.post(
        "/personalize/events/",
        {"name": "video_play"},
        content_type="application/json",
        headers={"Sec-GPC": "1"},
    )
    assert events.json() == {"tracked": False}
    # Without the signal, opt-out mode does store: the test above is not vacuous.
    response = client.get("/")
    assert "pz_vid" in response.cookies
    client.get("/")
    assert Profile.objects.count() == 1


# --- POST /personalize/events/ -------------------------------------------------------------------


def test_event_is_tracked_and_scored(client: Client) -> None:
    ScoringRule.objects.create(name="Video", trigger="event", value="video_play", points=7)
    config_changed()
    consent_to(client, "personalization")
    response = client.post(
        "/personalize/events/",
        {"name": "video_play", "target": "intro", "tags": ["Skiing"]},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json() == {"tracked": True}
    assert "no-store" in response["Cache-Control"]
    state = profile_store().load(ProfileKey(visitor_id=visitor_id_of(client)))
    assert state is not None
    assert state.score == 7
    assert state.visits == 1


def test_event_without_consent_is_not_tracked(client: Client) -> None:
    response = client.post(
        "/personalize/events/", {"name": "video_play"}, content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json() == {"tracked": False}
    assert Profile.objects.count() == 0
    assert "pz_vid" not in response.cookies


def test_event_from_a_bot_is_not_tracked(client: Client) -> None:
    consent_to(client, "personalization")
    response = client.post(
        "/personalize/events/",
        {"name": "video_play"},
        content_type="application/json",
        headers={"User-Agent": "Googlebot/2.1 (+http://www.google.com/bot.html)"},
    )
    assert response.json() == {"tracked": False}
    assert Profile.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"name": "bad name!"}, "'name' must be"),
        ({"name": ""}, "'name' must be"),
        ({"target": "x"}, "'name' must be"),
        ({"name": "x" * 65}, "'name' must be"),
        ({"name": "ok", "target": ["a"]}, "'target' must be a string"),
        ({"name": "ok", "target": "t" * 101}, "'target' must be 1 to 100"),
        ({"name": "ok", "tags": "skiing"}, "'tags' must be a list"),
        ({"name": "ok", "tags": [1]}, "Each tag must be"),
        ({"name": "ok", "tags": ["x"] * 21}, "'tags' must be a list of at most 20"),
        ([1, 2], "The body must be a JSON object"),
    ],
)
def test_invalid_events_are_a_400_with_a_reason(client: Client, body: Any, message: str) -> None:
    consent_to(client, "personalization")
    response = client.post("/personalize/events/", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["tracked"] is False
    assert response.json()["error"].startswith(message)
    assert Profile.objects.count() == 0


def test_malformed_json_is_a_400(client: Client) -> None:
    response = client.post(
        "/personalize/events/", b'{"name": "video', content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"].startswith("The body is not valid JSON")
    invalid_utf8 = client.post("/personalize/events/", b"\xff\xfe", content_type="application/json")
    assert invalid_utf8.status_code == 400


def test_oversized_event_body_is_refused(client: Client) -> None:
    consent_to(client, "personalization")
    body = json.dumps({"name": "video_play", "target": "x" * 5000})
    response = client.post("/personalize/events/", body, content_type="application/json")
    assert response.status_code == 413
    assert response.json() == {"tracked": False, "error": "The body is larger than 4096 bytes."}
    assert Profile.objects.count() == 0


def test_event_with_an_invalid_content_length_is_a_400(client: Client) -> None:
    response = client.post(
        "/personalize/events/",
        {"name": "video_play"},
        content_type="application/json",
        CONTENT_LENGTH="many",
    )
    assert response.status_code == 400
    assert response.json() == {"tracked": False, "error": "Invalid Content-Length."}


def test_event_as_url_encoded_or_multipart_form(client: Client) -> None:
    consent_to(client, "personalization")
    encoded = client.post(
        "/personalize/events/",
        "name=scroll%3A75&tags=a&tags=b",
        content_type="application/x-www-form-urlencoded",
    )
    assert encoded.json() == {"tracked": True}
    # What navigator.sendBeacon(url, formData) sends.
    multipart = client.post("/personalize/events/", {"name": "scroll:100", "tags": ["a"]})
    assert multipart.request["CONTENT_TYPE"].startswith("multipart/form-data")
    assert multipart.json() == {"tracked": True}
    too_many = client.post("/personalize/events/", {"name": "x", "tags": ["t"] * 21})
    assert too_many.status_code == 400


def test_events_get_is_not_allowed(client: Client) -> None:
    assert client.get("/personalize/events/").status_code == 405


def test_events_need_the_csrf_header() -> None:
    strict = Client(enforce_csrf_checks=True)
    consent_to(strict, "personalization")
    body = {"name": "video_play"}
    refused = strict.post("/personalize/events/", body, content_type="application/json")
    assert refused.status_code == 403
    strict.get("/personalize/privacy/")
    token = strict.cookies["csrftoken"].value
    response = strict.post(
        "/personalize/events/",
        body,
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 200
    assert response.json() == {"tracked": True}


# --- POST /personalize/preferences/ --------------------------------------------------------------


def test_preference_is_stored_and_a_segment_matches_next_request(
    client: Client, home: HomePage, segment_factory: Any
) -> None:
    segment_factory("Skiers", slug="skiers", condition={"visitor.prefs.sport": "skiing"})
    consent_to(client, "personalization")
    response = client.post(
        "/personalize/preferences/", {"key": "sport", "value": " skiing ", "next": "/"}
    )
    assert response.status_code == 303
    assert response["Location"] == "/#pz-pref-sport"
    state = profile_store().load(ProfileKey(visitor_id=visitor_id_of(client)))
    assert state is not None
    assert state.prefs == {"sport": "skiing"}
    page = client.get("/")
    assert page.wsgi_request.visitor.profile_attributes()["prefs"] == {"sport": "skiing"}
    assert page.wsgi_request.visitor.in_segment("skiers") is True


@pytest.mark.parametrize("removal", [{"value": ""}, {"value": "skiing", "remove": "1"}])
def test_preference_is_removed(client: Client, removal: dict[str, str]) -> None:
    consent_to(client, "personalization")
    client.post("/personalize/preferences/", {"key": "sport", "value": "skiing"})
    client.post("/personalize/preferences/", {"key": "lang", "value": "de"})
    response = client.post("/personalize/preferences/", {"key": "sport", **removal})
    assert response.status_code == 303
    state = profile_store().load(ProfileKey(visitor_id=visitor_id_of(client)))
    assert state is not None
    assert state.prefs == {"lang": "de"}


def test_preference_without_consent_stores_nothing(client: Client) -> None:
    response = client.post(
        "/personalize/preferences/", {"key": "sport", "value": "skiing", "next": "/guides/"}
    )
    assert response.status_code == 303
    assert response["Location"] == "/guides/#pz-pref-sport"
    assert Profile.objects.count() == 0
    assert "pz_vid" not in response.cookies


def test_preference_json_variant(client: Client) -> None:
    accept = {"Accept": "application/json"}
    refused = client.post(
        "/personalize/preferences/", {"key": "sport", "value": "ski"}, headers=accept
    )
    assert refused.json() == {"stored": False, "key": "sport", "value": "ski", "consent": False}
    consent_to(client, "personalization")
    stored = client.post(
        "/personalize/preferences/", {"key": "sport", "value": "ski"}, headers=accept
    )
    assert stored.json() == {"stored": True, "key": "sport", "value": "ski", "consent": True}


def test_preference_as_a_json_body(client: Client) -> None:
    consent_to(client, "personalization")
    response = client.post(
        "/personalize/preferences/",
        {"key": "lang", "value": "de"},
        content_type="application/json",
        headers={"Accept": "application/json"},
    )
    assert response.json() == {"stored": True, "key": "lang", "value": "de", "consent": True}
    bad = client.post(
        "/personalize/preferences/",
        b"{oops",
        content_type="application/json",
        headers={"Accept": "application/json"},
    )
    assert bad.status_code == 400
    assert bad.json()["error"].startswith("The body is not valid JSON")


@pytest.mark.parametrize(
    "data",
    [
        {"key": "Sport", "value": "x"},
        {"key": "", "value": "x"},
        {"key": "a b", "value": "x"},
        {"key": "sport", "value": "x" * 101},
        {"value": "x"},
    ],
)
def test_bad_preference_input_is_a_400(client: Client, data: dict[str, str]) -> None:
    consent_to(client, "personalization")
    response = client.post("/personalize/preferences/", data)
    assert response.status_code == 400
    assert Profile.objects.count() == 0


def test_preferences_get_is_not_allowed(client: Client) -> None:
    assert client.get("/personalize/preferences/").status_code == 405


# --- {% personalize_consent_banner %} and {% personalize_timezone_script %} ----------------------


def render(source: str, request: Any, **extra: Any) -> str:
    template = Template("{% load personalize_tags %}" + source)
    return template.render(Context({"request": request, **extra}))


def visitor_request(make_request: Any, **kwargs: Any) -> Any:
    request = make_request("/guides/?page=2", **kwargs)
    request.visitor = Visitor(request)
    return request


def test_banner_renders_until_a_choice_is_made(make_request: Any, db: Any) -> None:
    request = visitor_request(make_request)
    html = render("{% personalize_consent_banner %}", request)
    assert 'role="region"' in html
    assert 'aria-labelledby="pz-banner-title"' in html
    assert '<form method="post" action="/personalize/consent/"' in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert '<input type="hidden" name="next" value="/guides/?page=2">' in html
    assert 'value="personalization" id="pz-banner-personalization">' in html  # not ticked
    assert '<label for="pz-banner-analytics">Analytics: count what I see' in html
    for button in ('value="all">Allow all<', 'value="necessary">Only necessary<'):
        assert button in html
    assert 'value="custom">Save my choice<' in html
    assert '<a href="/personalize/privacy/">What we know about you</a>' in html
    assert "Global Privacy Control" not in html
    assert request.visitor.used is True

    chosen = visitor_request(
        make_request, cookies={"pz_consent": dump_consent_cookie(["analytics"], time.time())}
    )
    assert render("{% personalize_consent_banner %}", chosen) == ""
    assert chosen.visitor.used is True


def test_banner_mentions_gpc(make_request: Any, db: Any) -> None:
    request = visitor_request(make_request, headers={"Sec-GPC": "1"})
    html = render("{% personalize_consent_banner %}", request)
    assert "Global Privacy Control signal, and we honour it" in html


def test_banner_in_opt_out_mode_shows_the_current_state(
    make_request: Any, db: Any, settings: Any
) -> None:
    settings.PERSONALIZE = {**settings.PERSONALIZE, "CONSENT_MODE": "opt-out"}
    html = render("{% personalize_consent_banner %}", visitor_request(make_request))
    assert 'value="personalization" id="pz-banner-personalization" checked>' in html


def test_banner_uses_the_admin_texts(
    make_request: Any, db: Any, django_capture_on_commit_callbacks: Any
) -> None:
    render("{% personalize_consent_banner %}", visitor_request(make_request))  # warm the config
    with django_capture_on_commit_callbacks(execute=True):
        PersonalizationSettings.objects.create(
            banner_title="Darf es persönlich sein?",
            banner_text="Wir merken uns, was Sie lesen <wenn Sie wollen>.",
            accept_label="Alles erlauben",
            reject_label="Nur Notwendiges",
            save_label="Auswahl speichern",
            personalization_label="Personalisierung",
            analytics_label="Statistik",
            privacy_link_text="Was wir über Sie wissen",
        )
    html = render("{% personalize_consent_banner %}", visitor_request(make_request))
    assert '<h2 id="pz-banner-title" class="pz-banner-title">Darf es persönlich sein?</h2>' in html
    assert "Wir merken uns, was Sie lesen &lt;wenn Sie wollen&gt;." in html
    assert 'value="all">Alles erlauben<' in html
    assert 'value="necessary">Nur Notwendiges<' in html
    assert 'value="custom">Auswahl speichern<' in html
    assert '<label for="pz-banner-personalization">Personalisierung</label>' in html
    assert ">Was wir über Sie wissen</a>" in html


def test_banner_is_hidden_on_pages_that_ask(make_request: Any, db: Any) -> None:
    request = visitor_request(make_request)
    assert render("{% personalize_consent_banner %}", request, personalize_hide_banner=True) == ""
    assert render("{% personalize_consent_banner %}", None) == ""


def test_banner_follows_the_browser_cookie_over_http(client: Client, db: Any) -> None:
    from django.template import engines

    banner = engines["django"].from_string(
        "{% load personalize_tags %}{% personalize_consent_banner %}"
    )
    # The privacy page hides the banner: it has its own consent form.
    response = client.get("/personalize/privacy/")
    assert 'id="pz-banner-title"' not in response.content.decode()
    assert 'id="pz-banner-title"' in banner.render({}, response.wsgi_request)
    client.post("/personalize/consent/", {"choice": "necessary"})
    assert banner.render({}, client.get("/personalize/privacy/").wsgi_request) == ""


def test_privacy_url_tag(make_request: Any) -> None:
    assert render("{% personalize_privacy_url %}", None) == "/personalize/privacy/"


def test_timezone_script_only_with_personalization_consent(make_request: Any, db: Any) -> None:
    without = visitor_request(make_request)
    assert render("{% personalize_timezone_script %}", without) == ""
    assert without.visitor.used is True
    analytics_only = visitor_request(
        make_request, cookies={"pz_consent": dump_consent_cookie(["analytics"], time.time())}
    )
    assert render("{% personalize_timezone_script %}", analytics_only) == ""
    allowed = visitor_request(
        make_request,
        cookies={"pz_consent": dump_consent_cookie(["personalization"], time.time())},
    )
    assert render("{% personalize_timezone_script %}", allowed) == (
        '<script src="/static/personalize/timezone.js" data-cookie="pz_tz" defer></script>'
    )
    assert render("{% personalize_timezone_script %}", None) == ""


def test_banner_attaches_a_visitor_without_the_middleware(rf: Any, db: Any) -> None:
    request = rf.get("/", headers={"User-Agent": IPHONE})
    request.user = AnonymousUser()
    html = render("{% personalize_consent_banner %}", request)
    assert 'id="pz-banner-title"' in html
    assert isinstance(request.visitor, Visitor)


def test_preference_form_template_with_choices_and_no_consent(make_request: Any, db: Any) -> None:
    from django.template.loader import render_to_string

    html = render_to_string(
        "personalize/preference_form.html",
        {
            "key": "sport",
            "value": "climbing",
            "next": "/guides/",
            "label": "Your sport",
            "choices": [("skiing", "Skiing"), ("climbing", "Climbing")],
            "allowed": False,
        },
        request=make_request("/guides/"),
    )
    assert '<form method="post" action="/personalize/preferences/"' in html
    assert '<label for="pz-pref-sport-value">Your sport</label>' in html
    assert '<option value="climbing" selected>Climbing</option>' in html
    assert '<option value="skiing">Skiing</option>' in html
    assert 'name="remove" value="1"' in html
    assert 'We only remember this if you <a href="/personalize/privacy/">' in html
    empty = render_to_string(
        "personalize/preference_form.html", {"key": "lang", "value": "", "next": "/"}
    )
    assert 'name="remove"' not in empty
    assert "We only remember this" not in empty
    assert '<input type="text" id="pz-pref-lang-value" name="value" value=""' in empty
