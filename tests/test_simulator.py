"""The visitor simulator: editors see the site as a chosen visitor, and nothing is recorded."""

from __future__ import annotations

import io
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission, User
from django.contrib.sessions.backends.db import SessionStore
from django.core.management import call_command
from django.http import HttpResponse, JsonResponse
from django.test import Client
from django.urls import reverse

from personalize.analytics.store import counter_store
from personalize.blocks.simulation_bar import describe, show_simulation
from personalize.middleware import PersonalizeMiddleware
from personalize.models import Profile, Segment
from personalize.signals.consent import dump_consent_cookie
from personalize.visitors.simulated import (
    HINT_COOKIE,
    SESSION_KEY,
    SimulatedVisitor,
)
from personalize.visitors.simulation import (
    Simulation,
    country_timezone,
    read_simulation,
    simulated_moment,
    simulated_profile,
    simulated_referral,
)
from personalize.visitors.stand_in import PreviewVisitorUser, real_user
from tests.conftest import IPHONE, without_clock_segments

SEGMENT = "Mobile visitors from Austria on weekday evenings"
SLUG = "austrian-weekday-evening-phones"
FORM = "/admin/personalize/simulate/"
EXIT = "/admin/personalize/simulate/exit/"
DACH_HEADING = "Free shipping to Germany, Austria and Switzerland"


def _userbar_serves_anonymous() -> bool:
    """Wagtail 7.1 and later render the userbar for a signed-out page an editor asked for."""
    from wagtail.admin import userbar

    return hasattr(userbar, "Userbar")


def monday() -> date:
    """A Monday in the coming week."""
    today = datetime.now(UTC).date()
    return today + timedelta(days=(7 - today.weekday()) % 7 or 7)


def evening_phones(segment_factory: Any) -> Segment:
    segment: Segment = segment_factory(
        SEGMENT,
        slug=SLUG,
        rules=[
            {"type": "country", "value": {"values": ["AT"]}},
            {"type": "device_type", "value": {"values": ["mobile"]}},
            {"type": "weekdays", "value": {"values": ["1", "2", "3", "4", "5"]}},
            {"type": "time_window", "value": {"start": "18:00:00", "end": "23:00:00"}},
        ],
    )
    return segment


def austrian_phone(day: date, at: str = "19:30", user_id: int = 1) -> Simulation:
    return Simulation(user_id=user_id, country="AT", device="mobile", date=day.isoformat(), time=at)


# The pure part: a simulation's signals


def test_country_gives_the_visitors_time_zone() -> None:
    assert country_timezone("AT") == "Europe/Vienna"
    assert country_timezone("US") == "America/New_York"
    assert country_timezone("XX") is None
    assert country_timezone(None) is None


def test_local_date_and_time_are_the_visitors_own() -> None:
    moment = simulated_moment(austrian_phone(date(2026, 6, 1)), datetime.now(UTC), "Europe/Vienna")
    # 19:30 in Vienna in summer (CEST, UTC+2) is 17:30 UTC.
    assert moment.astimezone(UTC) == datetime(2026, 6, 1, 17, 30, tzinfo=UTC)


def test_campaign_tags_are_classified_as_on_landing() -> None:
    tags = Simulation(user_id=1, utm=(("utm_source", "google"), ("utm_medium", "cpc")))
    referral = simulated_referral(tags, ())
    assert (referral["channel"], referral["source"], referral["medium"]) == (
        "paid_search",
        "google",
        "cpc",
    )
    assert simulated_referral(Simulation(user_id=1), ())["channel"] == "direct"
    chosen = Simulation(user_id=1, channel="email", referrer="www.google.com")
    assert simulated_referral(chosen, ())["channel"] == "email"
    assert simulated_referral(chosen, ())["host"] == "www.google.com"


def test_profile_stage_follows_the_score_and_needs_consent() -> None:
    profile = simulated_profile(Simulation(user_id=1, score=55, interests=(("ski-touring", 3),)))
    assert (profile["stage"], profile["peak_stage"], profile["score"]) == (
        "consideration",
        "consideration",
        55,
    )
    assert profile["interests"] == {"ski-touring": 3}
    assert simulated_profile(Simulation(user_id=1, stage="intent"))["score"] == 80
    refused = simulated_profile(Simulation(user_id=1, score=55, consent=()))
    assert refused["score"] is None and refused["stage"] is None


def test_stored_data_is_checked_and_bounded() -> None:
    data = austrian_phone(date(2026, 6, 1)).to_data()
    assert read_simulation(data) == austrian_phone(date(2026, 6, 1))
    hostile = {
        **data,
        "device": "fridge",
        "date": "2026-13-45",
        "time": "25:99",
        "timezone": "../../etc/passwd",
        "score": float("nan"),
        "visits": -3,
        "groups": ["Customers"] * 500,
        "interests": [["ski", "lots"], ["hiking", 2], "junk"] * 50,
        "consent": ["personalization", "everything"],
        "country": "A" * 10_000,
    }
    simulation = read_simulation(hostile)
    assert simulation is not None
    assert (simulation.device, simulation.date, simulation.time) == (None, None, None)
    assert (simulation.timezone, simulation.score, simulation.visits) == (None, None, None)
    assert len(simulation.groups) == 20
    assert simulation.interests == (("hiking", 2.0),) * 3
    assert simulation.consent == ("necessary", "personalization")
    assert simulation.country == "A" * 100
    assert read_simulation({"user_id": "1"}) is None
    assert read_simulation("junk") is None


# The real decision path


def test_context_is_built_from_the_simulated_signals(
    db: Any, make_request: Any, segment_factory: Any
) -> None:
    evening_phones(segment_factory)
    visitor = SimulatedVisitor(
        make_request("/", headers={"User-Agent": "curl/8"}), austrian_phone(monday())
    )

    attributes = visitor.attributes
    assert attributes["geo"]["country"] == "AT"
    assert attributes["geo"]["continent"] == "EU"
    assert attributes["time"]["timezone"] == "Europe/Vienna"
    assert (attributes["time"]["weekday"], attributes["time"]["time"]) == (1, "19:30")
    assert attributes["device"]["type"] == "mobile"
    assert attributes["referral"]["channel"] == "direct"
    assert visitor.segment_slugs == {SLUG}
    assert visitor.is_real is False
    assert describe(visitor) == "a mobile phone from Austria, Monday 19:30 (Europe/Vienna)"


def test_outside_the_evening_window_the_rule_says_why_not(
    db: Any, make_request: Any, segment_factory: Any
) -> None:
    evening_phones(segment_factory)
    visitor = SimulatedVisitor(make_request("/"), austrian_phone(monday() - timedelta(days=1)))

    assert visitor.segment_slugs == frozenset()
    [explained] = visitor.explain()
    assert explained["matched"] is False
    assert [rule["matched"] for rule in explained["rules"]] == [True, True, False, True]


def test_signed_in_groups_open_gates_as_for_a_member(db: Any, make_request: Any) -> None:
    simulation = Simulation(user_id=1, logged_in=True, groups=("Customers",))
    visitor = SimulatedVisitor(make_request("/"), simulation)
    assert visitor.authenticated is True
    assert visitor.user_groups == {"Customers"}
    assert visitor.attributes["user"]["groups"] == ["Customers"]
    assert visitor.visitor_id is None
    assert visitor.ensure_visitor_id() is None


# Editors through the site


@pytest.fixture
def demo(db: Any, segment_factory: Any) -> Segment:
    call_command("seed_demo", stdout=io.StringIO())
    without_clock_segments()
    return evening_phones(segment_factory)


@pytest.fixture
def editor(demo: Segment) -> Client:
    client = Client(headers={"User-Agent": IPHONE})
    client.force_login(User.objects.get(username="admin"))
    return client


def simulate(client: Client, **fields: str) -> Any:
    data = {
        "country": "AT",
        "device": "mobile",
        "date": monday().isoformat(),
        "time": "19:30",
        "consent": ["personalization", "analytics"],
        "next": "/",
    }
    data.update(fields)
    return client.post(FORM, data)


def live_counts() -> dict[str, int]:
    today = datetime.now(UTC).date()
    return dict(counter_store().live_counts([today])[today])


def sampled_page_views() -> tuple[int, list[str]]:
    today = datetime.now(UTC).date()
    seen, snapshots = counter_store().samples([today]).get(today, (0, []))
    return seen, sorted(snapshots)


def test_editor_simulates_and_every_page_shows_the_bar(editor: Client) -> None:
    response = simulate(editor)
    assert response.status_code == 303
    assert response["Location"] == "/"
    hint = response.cookies[HINT_COOKIE]
    assert (hint.value, hint["httponly"], hint["samesite"]) == ("1", True, "Lax")

    html = editor.get("/").content.decode()
    assert DACH_HEADING in html
    assert "Simulating:" in html
    assert "a mobile phone from Austria, Monday 19:30 (Europe/Vienna)" in html
    assert SEGMENT in html
    assert html.index('id="pz-sim"') < html.rindex("</body>")
    # The bar stays while navigating, until the editor exits.
    assert "Simulating:" in editor.get("/journal/").content.decode()
    exit_response = editor.post(EXIT, {"next": "/journal/"})
    assert exit_response.status_code == 303
    assert exit_response["Location"] == "/journal/"
    assert exit_response.cookies[HINT_COOKIE].value == ""  # deleted
    after = editor.get("/").content.decode()
    assert "Simulating:" not in after
    assert DACH_HEADING not in after


def test_nothing_is_stored_counted_or_cached(editor: Client, settings: Any) -> None:
    settings.PERSONALIZE = {**settings.PERSONALIZE, "PAGE_CACHE_TIMEOUT": 300}
    editor.cookies["pz_consent"] = dump_consent_cookie(
        ["personalization", "analytics"], time.time()
    )
    # The same editor, not simulating, is a visitor like any other: counted, with a profile.
    editor.get("/")
    counts, profiles = live_counts(), list(Profile.objects.values_list("data", flat=True))
    samples = sampled_page_views()
    assert counts
    assert len(profiles) == 1
    assert samples[0] == 1  # the audience sample counted the page view
    simulate(editor)

    response = editor.get("/", {"utm_source": "newsletter", "utm_medium": "email"})
    editor.get("/journal/")

    assert response.status_code == 200
    assert "Simulating:" in response.content.decode()
    assert "private" in response["Cache-Control"] and "no-store" in response["Cache-Control"]
    assert "X-Personalize-Key" not in response
    assert "X-Personalize-Cache" not in response
    assert not {"pz_vid", "pz_attr", "pz_consent"} & set(response.cookies)
    assert live_counts() == counts
    assert sampled_page_views() == samples
    assert list(Profile.objects.values_list("data", flat=True)) == profiles


def test_a_non_editors_simulation_is_ignored(demo: Segment) -> None:
    member = User.objects.create_user("member", "m@example.com", "pw")
    client = Client(headers={"User-Agent": IPHONE})
    client.force_login(member)
    session = client.session
    session[SESSION_KEY] = austrian_phone(monday(), user_id=member.pk).to_data()
    session.save()
    client.cookies[HINT_COOKIE] = "1"

    html = client.get("/").content.decode()
    assert "Simulating:" not in html
    assert DACH_HEADING not in html
    assert client.get(FORM).status_code in (302, 403)
    assert client.post(FORM, {"country": "AT", "device": "mobile"}).status_code in (302, 403)


def test_another_editors_simulation_is_ignored(editor: Client) -> None:
    session = editor.session
    session[SESSION_KEY] = austrian_phone(monday(), user_id=99_999).to_data()
    session.save()
    assert "Simulating:" not in editor.get("/").content.decode()


def test_bad_input_is_a_message_not_an_error(editor: Client) -> None:
    response = simulate(editor, country="XX", region="nowhere", interests="lots of skiing")
    assert response.status_code == 400
    html = response.content.decode()
    assert "Select a valid choice. XX is not one of the available choices." in html
    assert "is not in the form shown below" in html
    assert SESSION_KEY not in editor.session


def test_region_must_belong_to_the_country(editor: Client) -> None:
    response = simulate(editor, region="DE-BY")
    assert response.status_code == 400
    assert "Bavaria (Germany) is not in Austria." in response.content.decode()
    assert SESSION_KEY not in editor.session
    assert simulate(editor, region="AT-7").status_code == 303
    assert stored_region(editor) == "AT-7"


def test_region_is_chosen_by_name_and_kept_as_its_code(editor: Client) -> None:
    html = editor.get(FORM).content.decode()
    assert '<option value="AT-7">Tirol (Austria)</option>' in html
    assert '<option value="DE-BY" data-alias="Bayern">Bavaria (Germany)</option>' in html
    assert 'data-controller="personalize-picker"' in html
    assert "personalize/pickers.js" in html
    # A region without a country gives its country.
    assert simulate(editor, country="", region="AT-7").status_code == 303
    simulation = read_simulation(editor.session[SESSION_KEY])
    assert simulation is not None
    assert (simulation.country, simulation.region) == ("AT", "AT-7")
    assert (
        '<option value="AT-7" selected>Tirol (Austria)</option>'
        in editor.get(FORM).content.decode()
    )


def test_the_bar_names_the_region(editor: Client) -> None:
    simulate(editor, region="AT-7", city="Innsbruck")
    html = editor.get("/").content.decode()
    assert "a mobile phone from Innsbruck, Tirol (Austria), Monday 19:30 (Europe/Vienna)" in html


@pytest.mark.parametrize("region", ["7", "at-7", "AT-99", "Tirol", "x" * 5000])
def test_a_region_not_in_the_list_is_a_form_error(editor: Client, region: str) -> None:
    response = simulate(editor, region=region)
    assert response.status_code == 400
    assert "Select a valid choice." in response.content.decode()
    assert SESSION_KEY not in editor.session


def stored_region(client: Client) -> str | None:
    simulation = read_simulation(client.session[SESSION_KEY])
    return simulation.region if simulation else None


def test_next_never_leaves_the_site(editor: Client) -> None:
    assert simulate(editor, next="https://evil.example/")["Location"] == "/"
    assert simulate(editor, next="//evil.example/")["Location"] == "/"
    assert editor.post(EXIT, {"next": "https://evil.example/x"})["Location"] == "/"


def test_a_rejected_form_links_back_only_within_the_site(editor: Client) -> None:
    response = simulate(editor, country="XX", next="javascript:alert(1)")
    assert response.status_code == 400
    html = response.content.decode()
    assert 'href="javascript:' not in html
    assert '<a class="pz-simulator__cancel" href="/">' in html


def test_the_form_needs_a_csrf_token(demo: Segment) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(User.objects.get(username="admin"))
    assert client.post(FORM, {"country": "AT", "device": "mobile"}).status_code == 403
    assert client.post(EXIT).status_code == 403
    form = client.get(FORM, {"next": "/journal/"})
    assert form.status_code == 200
    assert "private" in form["Cache-Control"]
    assert 'value="/journal/"' in form.content.decode()


def test_the_form_shows_the_running_simulation(editor: Client) -> None:
    simulate(editor, interests="ski-touring: 3", prefs="drink = tea")
    html = editor.get(FORM).content.decode()
    assert '<option value="AT" selected>' in html
    assert "ski-touring: 3" in html
    assert "drink = tea" in html
    assert "Stop simulating" in html


def test_the_editor_needs_admin_access(demo: Segment) -> None:
    viewer = User.objects.create_user("viewer", "v@example.com", "pw")
    viewer.user_permissions.add(Permission.objects.get(codename="access_admin"))
    client = Client()
    client.force_login(viewer)
    assert simulate(client).status_code == 303
    assert "Simulating:" in client.get("/").content.decode()


# Signed out or signed in: the user the page is rendered for


def test_a_signed_out_visitor_sees_the_page_logged_out(editor: Client) -> None:
    simulate(editor)
    html = editor.get("/").content.decode()
    assert DACH_HEADING in html
    assert 'href="/accounts/login/?next=/"' in html
    assert "Log out" not in html
    # The simulator's own parts are the editor's: the bar with Edit and Exit, its CSRF token.
    assert f'href="{FORM}?next=%2F"' in html
    assert f'action="{EXIT}"' in html
    assert 'name="csrfmiddlewaretoken"' in html
    # The userbar asks the editor (Wagtail 7.0's cannot serve a signed-out page: none there).
    assert ("Edit the simulated visitor…" in html) is _userbar_serves_anonymous()
    # The simulator itself still knows the editor.
    form = editor.get(FORM)
    assert form.status_code == 200
    assert "Stop simulating" in form.content.decode()


def test_a_signed_in_visitor_is_the_editor(editor: Client) -> None:
    simulate(editor, logged_in="on")
    html = editor.get("/").content.decode()
    assert "Log out Ada" in html
    assert "signed in" in html
    assert "Edit the simulated visitor…" in html


def test_view_as_is_logged_out(editor: Client) -> None:
    html = editor.get("/", {"pz_view_as": "dach"}).content.decode()
    assert "Free shipping to Germany" in html
    assert "Log out" not in html
    assert 'href="/accounts/login/?next=/"' in html
    assert "Viewing as:" in html


def test_the_debug_page_still_knows_the_editor(editor: Client) -> None:
    simulate(editor)
    response = editor.get("/personalize/debug/")
    assert response.status_code == 200
    assert "&quot;AT&quot;" in response.content.decode()  # geo.country, JSON in HTML


def _simulating_request(rf: Any, simulation_fields: dict[str, Any]) -> Any:
    admin = User.objects.get(username="admin")
    request = rf.get("/")
    request.user = admin
    request.COOKIES[settings.SESSION_COOKIE_NAME] = "x"
    request.COOKIES[HINT_COOKIE] = "1"
    request.session = SessionStore()
    simulation = Simulation(user_id=admin.pk, country="AT", **simulation_fields)
    request.session[SESSION_KEY] = simulation.to_data()
    return request


@pytest.mark.parametrize(("fields", "signed_in"), [({}, False), ({"logged_in": True}, True)])
def test_the_editor_is_request_user_again_after_the_page(
    demo: Segment, rf: Any, fields: dict[str, Any], signed_in: bool
) -> None:
    request = _simulating_request(rf, fields)
    admin = request.user
    seen: list[Any] = []

    def page(req: Any) -> HttpResponse:
        seen.append(req.user)
        return HttpResponse("<html><body><p>page</p></body></html>")

    response = PersonalizeMiddleware(page)(request)

    assert seen[0].is_authenticated is signed_in
    assert (seen[0] is admin) is signed_in
    assert request.user is admin
    assert "Simulating:" in response.content.decode()


def test_a_view_that_logs_in_keeps_its_user(demo: Segment, rf: Any) -> None:
    request = _simulating_request(rf, {})
    member = User.objects.create_user("member", "m@example.com", "pw")

    def log_in(req: Any) -> HttpResponse:
        req.user = member
        return HttpResponse("<html><body></body></html>")

    PersonalizeMiddleware(log_in)(request)
    assert request.user is member


def test_the_stand_in_answers_only_admin_access_as_the_editor(demo: Segment) -> None:
    admin = User.objects.get(username="admin")
    stand_in = PreviewVisitorUser(admin)
    assert stand_in.is_authenticated is False
    assert stand_in.has_perm("wagtailadmin.access_admin") is _userbar_serves_anonymous()
    assert stand_in.has_perm("wagtailcore.change_page") is False
    assert real_user(stand_in) is admin
    assert real_user(admin) is admin


# "View as" is a simulation that forces a segment


def test_view_as_lasts_until_exit(editor: Client) -> None:
    first = editor.get("/", {"pz_view_as": "paid-search"})
    assert "10% off your first order" in first.content.decode()
    assert "no-store" in first["Cache-Control"]
    assert first.cookies[HINT_COOKIE].value == "1"

    html = editor.get("/").content.decode()
    assert "10% off your first order" in html
    assert "Viewing as:" in html
    assert "Paid-search arrivals" in html
    editor.post(EXIT, {"next": "/"})
    assert "10% off your first order" not in editor.get("/").content.decode()


def test_userbar_offers_the_simulator_and_ends_view_as(editor: Client) -> None:
    html = editor.get("/").content.decode()
    assert "Simulate a visitor…" in html
    assert f"{FORM}?next=%2F" in html
    html = editor.get("/", {"pz_view_as": "dach"}).content.decode()
    assert f'action="{EXIT}"' in html
    # The bar of the very page that started "view as" has its own Exit (the hint cookie comes
    # with this response).
    assert "pz-sim__button--exit" in html
    # "View as" renders the page signed out: Wagtail 7.0's userbar is not there then.
    assert ("View as: From DACH ✓" in html) is _userbar_serves_anonymous()


# The bar only goes into HTML


def test_the_bar_goes_into_html_only(db: Any, rf: Any) -> None:
    request = rf.get("/")
    request.user = User(pk=1)
    request.visitor = SimulatedVisitor(request, austrian_phone(monday()))
    page = HttpResponse("<html><body><p>Hi</p></body></html>")
    data = JsonResponse({"body": "</body>"})

    show_simulation(request, page)
    show_simulation(request, data)

    assert page.content.decode().endswith("</section>\n</body></html>")
    assert "Simulating:" in page.content.decode()
    assert data.content == b'{"body": "</body>"}'


# The page editor's preview


def test_preview_shows_the_simulated_visitor(demo: Segment, rf: Any) -> None:
    from cms_site.home.models import HomePage

    admin = User.objects.get(username="admin")
    request = rf.get("/")
    request.user = admin
    request.COOKIES[settings.SESSION_COOKIE_NAME] = "x"
    request.COOKIES[HINT_COOKIE] = "1"
    request.session = SessionStore()
    request.session[SESSION_KEY] = austrian_phone(monday(), user_id=admin.pk).to_data()
    home = HomePage.objects.get()

    assert ("simulation", "Simulated visitor") in home.preview_modes
    response = home.serve_preview(request, "simulation")
    response.render()
    assert DACH_HEADING in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert isinstance(request.visitor, SimulatedVisitor)
    assert request.visitor.segment_slugs >= {SLUG, "dach", "mobile-visitors"}
    assert reverse("personalize_simulator:form") == FORM


def test_preview_through_wagtail_shows_the_simulated_visitor_logged_out(
    editor: Client, rf: Any
) -> None:
    from cms_site.home.models import HomePage

    simulate(editor)
    cookies = "; ".join(f"{name}={morsel.value}" for name, morsel in editor.cookies.items())
    original = rf.get("/admin/", HTTP_COOKIE=cookies)
    original.user = User.objects.get(username="admin")
    response = HomePage.objects.get().make_preview_request(
        original, "simulation", extra_request_attrs={"in_preview_panel": True}
    )
    html = response.content.decode()
    assert DACH_HEADING in html
    assert "a mobile phone from Austria, Monday 19:30 (Europe/Vienna)" in html
    assert "Log out" not in html
    assert 'href="/accounts/login/?next=/"' in html


def _session_request(rf: Any, hint: bool) -> Any:
    """A request with a session holding the admin's simulation, with or without the hint."""
    admin = User.objects.get(username="admin")
    request = rf.get("/", headers={"User-Agent": IPHONE})
    request.user = admin
    request.COOKIES[settings.SESSION_COOKIE_NAME] = "x"
    if hint:
        request.COOKIES[HINT_COOKIE] = "1"
    request.session = SessionStore()
    request.session[SESSION_KEY] = austrian_phone(monday(), user_id=admin.pk).to_data()
    request.session.accessed = False
    return request


@pytest.mark.parametrize("hint", [False, True])
def test_only_a_browser_with_the_hint_has_its_session_read(
    demo: Segment, rf: Any, hint: bool
) -> None:
    request = _session_request(rf, hint)
    PersonalizeMiddleware(lambda r: HttpResponse("<html><body>page</body></html>"))(request)
    # Without the hint a visitor's session (a basket, say) costs nothing: it is not read.
    assert request.session.accessed is hint
    assert isinstance(request.visitor, SimulatedVisitor) is hint
