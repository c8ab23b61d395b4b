"""Visitor profiles end to end: tracking, scoring, decay, stages, login merge, logout."""

from __future__ import annotations

import io
import os
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from wagtail.models import Page

from personalize.models import Profile, ScoringRule
from personalize.profiles.database import DatabaseProfileStore
from personalize.profiles.scoring import config_changed
from personalize.profiles.store import ProfileKey, profile_store
from personalize.rules.scoring import ProfileState
from personalize.signals.consent import dump_consent_cookie
from personalize.visitors.identity import dump_visitor_id, read_visitor_id
from personalize.visitors.visitor import Visitor

pytestmark = pytest.mark.django_db

BOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


@pytest.fixture
def demo(db: Any) -> None:
    """The demo site without its scoring rules and page tags: each test sets its own."""
    from cms_site.home.models import ContentPage

    call_command("seed_demo", stdout=io.StringIO())
    ScoringRule.objects.all().delete()
    for page in ContentPage.objects.all():
        page.tags.clear()
        page.save_revision().publish()
    config_changed()


def consent(client: Any, *purposes: str, at: float | None = None) -> None:
    client.cookies["pz_consent"] = dump_consent_cookie(purposes, at or time.time())


def only_profile() -> ProfileState:
    (row,) = Profile.objects.all()
    return ProfileState.from_json(row.data)


def tag(url_path: str, *names: str) -> Page:
    page = Page.objects.get(url_path=f"/home{url_path}").specific
    page.tags.add(*names)
    page.save_revision().publish()
    return page


def test_consent_then_page_views_build_one_profile(client: Any, demo: None) -> None:
    consent(client, "personalization")
    first = client.get("/")
    visitor_id = read_visitor_id(first.cookies["pz_vid"].value)
    assert visitor_id is not None
    assert first.cookies["pz_vid"]["httponly"] is True
    assert "no-store" in first["Cache-Control"]
    second = client.get("/guides/")
    assert "pz_vid" not in second.cookies
    row = Profile.objects.get()
    assert row.visitor_id.hex == visitor_id
    assert row.user_id is None
    assert only_profile().visits == 1


def test_tagged_pages_add_interests(client: Any, demo: None) -> None:
    tag("/guides/layering-for-ski-touring/", "Ski touring", "Gear")
    consent(client, "personalization")
    client.get("/guides/layering-for-ski-touring/")
    client.get("/guides/layering-for-ski-touring/")
    response = client.get("/")
    # Decay between two requests is far below a rounding step.
    assert only_profile().interests == {
        "ski touring": pytest.approx(2.0),
        "gear": pytest.approx(2.0),
    }
    attributes = response.wsgi_request.visitor.attributes["visitor"]
    assert attributes["interests"] == {"gear": 2.0, "ski touring": 2.0}
    assert attributes["visits"] == 1
    assert attributes["returning"] is False


def test_page_type_rule_respects_the_visit_cap(client: Any, demo: None) -> None:
    ScoringRule.objects.create(
        name="Reads content",
        trigger="page_type",
        page_type="home.contentpage",
        points=10,
        cap_per_visit=20,
    )
    config_changed()
    consent(client, "personalization")
    for path in ("/guides/", "/journal/", "/guides/layering-for-ski-touring/", "/"):
        client.get(path)
    assert only_profile().score == pytest.approx(20.0)


def test_event_rule_and_stage(client: Any, demo: None, rf: Any) -> None:
    from personalize import track

    ScoringRule.objects.create(name="Demo", trigger="event", value="demo_request", points=55)
    config_changed()
    consent(client, "personalization")
    client.get("/")
    request = client.get("/guides/").wsgi_request
    assert track(request, "demo_request") is True
    visitor = Visitor(request)
    assert visitor.profile_attributes()["score"] == 55.0
    assert visitor.profile_attributes()["stage"] == "consideration"


def test_a_new_visit_starts_after_thirty_minutes(client: Any, demo: None) -> None:
    consent(client, "personalization")
    client.get("/")
    client.get("/")  # the browser sent the new id back: the profile is stored
    row = Profile.objects.get()
    state = ProfileState.from_json(row.data)
    past = state.last_seen - 31 * 60
    row.data = replace(state, last_seen=past, first_seen=past).to_json()
    row.save()
    cache.clear()
    client.get("/guides/")
    assert only_profile().visits == 2


def test_no_tracking_for_bots_previews_or_without_consent(client: Any, demo: None) -> None:
    client.get("/")  # no consent
    consent(client, "personalization")
    client.get("/", headers={"User-Agent": BOT})
    assert Profile.objects.count() == 0
    admin = User.objects.get(username="admin")
    client.force_login(admin)
    client.get("/", {"pz_view_as": "dach"})
    assert Profile.objects.count() == 0


def test_warm_profile_read_costs_no_query(django_assert_num_queries: Any) -> None:
    store = DatabaseProfileStore()
    key = ProfileKey(visitor_id="a" * 32)
    store.update(key, lambda s: replace(s, visits=3))
    with django_assert_num_queries(1):
        assert store.load(key).visits == 3
    with django_assert_num_queries(0):
        assert store.load(key).visits == 3
    unknown = ProfileKey(visitor_id="b" * 32)
    with django_assert_num_queries(1):
        assert store.load(unknown) is None
    with django_assert_num_queries(0):
        assert store.load(unknown) is None


@pytest.mark.django_db(transaction=True)
def test_a_warm_write_is_one_query_and_a_stale_copy_falls_back(
    django_assert_num_queries: Any,
) -> None:
    from django.db.models import F

    store = DatabaseProfileStore()
    key = ProfileKey(visitor_id="8" * 32)
    store.update(key, lambda s: replace(s, visits=1))  # created under a row lock
    assert store.load(key).visits == 1  # now cached, with its revision
    with django_assert_num_queries(1):  # UPDATE … WHERE rev = <cached rev>
        store.update(key, lambda s: replace(s, visits=s.visits + 1))
    with django_assert_num_queries(0):
        assert store.load(key).visits == 2
    # Another process writes behind this cache's back: the cached copy is stale.
    row = Profile.objects.get()
    Profile.objects.filter(pk=row.pk).update(
        rev=F("rev") + 1, data=replace(ProfileState.from_json(row.data), visits=10).to_json()
    )
    store.update(key, lambda s: replace(s, visits=s.visits + 1))
    assert ProfileState.from_json(Profile.objects.get().data).visits == 11


def test_score_decays_lazily_on_read(make_request: Any) -> None:
    store = profile_store()
    now = time.time()
    thirty_days_ago = now - 30 * 86400
    store.update(
        ProfileKey(visitor_id="c" * 32),
        lambda s: replace(
            s,
            visits=1,
            score=44.0,
            peak_score=60.0,
            decayed_at=thirty_days_ago,
            first_seen=thirty_days_ago,
            last_seen=thirty_days_ago,
            interests={"wine": 8.0},
        ),
    )
    request = make_request(
        "/",
        cookies={
            "pz_consent": dump_consent_cookie(["personalization"], now),
            "pz_vid": dump_visitor_id("c" * 32),
        },
    )
    attributes = Visitor(request).profile_attributes()
    assert attributes["score"] == pytest.approx(22.0, abs=0.01)
    assert attributes["interests"] == {"wine": pytest.approx(4.0, abs=0.01)}
    assert attributes["stage"] == "interest"
    assert attributes["peak_stage"] == "consideration"
    assert attributes["days_since_first_visit"] == 30


def test_reactivation_segment(segment_factory: Any, make_request: Any) -> None:
    segment_factory(
        "Cooling down",
        slug="cooling-down",
        condition={
            "$and": [
                {"visitor.peak_stage": {"$in": ["consideration", "intent"]}},
                {"visitor.stage": "awareness"},
            ]
        },
    )
    now = time.time()
    profile_store().update(
        ProfileKey(visitor_id="d" * 32),
        lambda s: replace(s, visits=4, score=10.0, peak_score=70.0, decayed_at=now),
    )
    cookies = {
        "pz_consent": dump_consent_cookie(["personalization"], now),
        "pz_vid": dump_visitor_id("d" * 32),
    }
    assert Visitor(make_request("/", cookies=cookies)).in_segment("cooling-down") is True
    # Without consent the same browser is a stranger.
    del cookies["pz_consent"]
    assert Visitor(make_request("/", cookies=cookies)).in_segment("cooling-down") is False


def login(client: Any, username: str, password: str) -> Any:
    return client.post("/accounts/login/", {"username": username, "password": password})


def test_login_merges_the_anonymous_profile(client: Any, demo: None) -> None:
    tag("/guides/layering-for-ski-touring/", "ski touring")
    customer = User.objects.get(username="customer")
    earlier = time.time() - 3 * 86400
    profile_store().update(
        ProfileKey(user_id=customer.pk),
        lambda s: replace(
            s,
            visits=2,
            score=10.0,
            decayed_at=time.time(),
            first_seen=earlier,
            last_seen=earlier,
            interests={"ski touring": 1.0},
            prefs={"drink": "tea"},
            prefs_at={"drink": earlier},
        ),
    )
    consent(client, "personalization")
    client.get("/guides/layering-for-ski-touring/")
    client.get("/")  # the browser sent the new id back: the profile is stored
    anonymous = Profile.objects.get(user__isnull=True)
    assert login(client, "customer", "customer-demo").status_code == 302
    assert not Profile.objects.filter(pk=anonymous.pk).exists()
    merged = ProfileState.from_json(Profile.objects.get(user=customer).data)
    assert merged.visits == 3
    assert merged.interests["ski touring"] == pytest.approx(2.0, abs=0.01)
    assert merged.prefs == {"drink": "tea"}
    assert merged.first_seen == earlier
    assert [entry["action"] for entry in merged.merges] == ["merged"]
    assert merged.merges[0]["visitor_id"] == anonymous.visitor_id.hex
    # A second login with the same browser has nothing left to merge.
    client.post("/accounts/logout/")
    consent(client, "personalization")
    client.cookies["pz_vid"] = dump_visitor_id(anonymous.visitor_id.hex)
    login(client, "customer", "customer-demo")
    again = ProfileState.from_json(Profile.objects.get(user=customer).data)
    assert len(again.merges) == 1
    assert again.visits == merged.visits


def test_login_without_user_profile_links_the_anonymous_one(client: Any, demo: None) -> None:
    consent(client, "personalization")
    client.get("/")
    # A new id: nothing is stored until the browser sends it back, as the login does; the
    # first visit its cookie carries becomes the profile the account takes over.
    assert Profile.objects.count() == 0
    login(client, "customer", "customer-demo")
    anonymous = Profile.objects.get()
    assert anonymous.user == User.objects.get(username="customer")
    state = ProfileState.from_json(anonymous.data)
    assert state.visits == 1
    assert state.merges[0]["action"] == "linked"
    # Logged in, the user's profile is the one that grows.
    client.get("/guides/")
    assert Profile.objects.count() == 1


def test_logout_forgets_the_browser(client: Any, demo: None) -> None:
    consent(client, "personalization", "analytics")
    client.get("/", {"utm_source": "newsletter", "utm_medium": "email"})
    login(client, "customer", "customer-demo")
    response = client.post("/accounts/logout/")
    for name in ("pz_vid", "pz_attr"):
        assert response.cookies[name].value == ""
        assert response.cookies[name]["max-age"] == 0
    # The next anonymous visitor starts afresh: a new id, and no profile until it comes back.
    after = client.get("/guides/")
    assert after.wsgi_request.visitor.attributes["visitor"]["visits"] is None
    new_id = read_visitor_id(after.cookies["pz_vid"].value)
    assert not Profile.objects.filter(visitor_id=new_id).exists()
    again = client.get("/")
    # One visit: these two page views, in a new profile — nothing of the account's.
    assert again.wsgi_request.visitor.attributes["visitor"]["visits"] == 1
    row = Profile.objects.get(visitor_id=new_id)
    assert row.user_id is None
    assert ProfileState.from_json(row.data).visits == 1


def test_the_newer_consent_wins_at_login(client: Any, demo: None) -> None:
    customer = User.objects.get(username="customer")
    later = time.time()
    profile_store().update(
        ProfileKey(user_id=customer.pk),
        lambda s: replace(s, consent=("necessary",), consent_at=later),
    )
    consent(client, "personalization", "analytics", at=later - 3600)
    response = login(client, "customer", "customer-demo")
    # The account's choice, made later on another device, reaches this browser.
    assert response.cookies["pz_consent"].value == dump_consent_cookie(["necessary"], later)
    # And a newer choice in this browser is kept on the account.
    client.cookies["pz_consent"] = dump_consent_cookie(["personalization"], later + 60)
    client.post("/accounts/logout/")
    client.cookies["pz_consent"] = dump_consent_cookie(["personalization"], later + 60)
    login(client, "customer", "customer-demo")
    stored = ProfileState.from_json(Profile.objects.get(user=customer).data)
    assert stored.consent == ("necessary", "personalization")
    assert stored.consent_at == int(later + 60)


def test_known_user_without_cookie_gets_the_accounts_consent(client: Any, demo: None) -> None:
    customer = User.objects.get(username="customer")
    profile_store().update(
        ProfileKey(user_id=customer.pk),
        lambda s: replace(s, consent=("necessary", "personalization"), consent_at=time.time()),
    )
    client.force_login(customer)
    response = client.get("/")
    assert response.wsgi_request.visitor.consent.allows("personalization") is True
    assert ProfileState.from_json(Profile.objects.get(user=customer).data).visits == 1


def test_document_download_is_tracked(client: Any, demo: None) -> None:
    from django.core.files.base import ContentFile
    from wagtail.documents.models import Document, document_served

    document = Document.objects.create(title="Packing list", file=ContentFile(b"x", "list.txt"))
    rule = ScoringRule.objects.create(name="Downloads", trigger="download", points=7)
    config_changed()
    consent(client, "personalization")
    client.get("/")
    request = client.get("/guides/").wsgi_request
    # What Wagtail's document view sends once it serves the file.
    document_served.send(sender=Document, instance=document, request=request)
    assert only_profile().score == pytest.approx(7.0)
    assert only_profile().total_points == {f"rule:{rule.pk}": 7.0}


@pytest.mark.skipif(
    connection.vendor != "postgresql" and not os.environ.get("DATABASE_URL"),
    reason="row locks under concurrency need PostgreSQL (CI sets DATABASE_URL)",
)
@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_events_lose_none() -> None:
    from django.db import close_old_connections

    from personalize.rules.scoring import Event, apply_event
    from personalize.rules.scoring import ScoringRule as Rule

    store = DatabaseProfileStore()
    key = ProfileKey(visitor_id="e" * 32)
    rule = Rule(key="rule:1", trigger="event", target="click", points=1.0)
    start = threading.Barrier(50)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            start.wait()
            store.update(
                key,
                lambda s: apply_event(s, Event(name="click"), [rule], {}, time.time()),
            )
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert Profile.objects.count() == 1
    assert ProfileState.from_json(Profile.objects.get().data).total_points == {"rule:1": 50.0}


@pytest.mark.skipif(
    connection.vendor != "postgresql" and not os.environ.get("DATABASE_URL"),
    reason="row locks under concurrency need PostgreSQL (CI sets DATABASE_URL)",
)
@pytest.mark.django_db(transaction=True)
def test_concurrent_merges_of_one_login_count_once() -> None:
    user = User.objects.create_user("lena", "lena@example.com", "pw")
    store = DatabaseProfileStore()
    anonymous = "7" * 32
    store.update(ProfileKey(visitor_id=anonymous), lambda s: replace(s, visits=2, score=10.0))
    store.update(ProfileKey(user_id=user.pk), lambda s: replace(s, visits=5, score=5.0))
    start = threading.Barrier(8)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            start.wait()
            store.merge_into_user(anonymous, user.pk, time.time(), half_life_days=30)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    (row,) = Profile.objects.all()
    merged = ProfileState.from_json(row.data)
    assert (row.user_id, merged.visits, len(merged.merges)) == (user.pk, 7, 1)
    assert merged.score == pytest.approx(15.0, abs=0.01)


def test_purge_deletes_profiles_not_seen_since(db: Any) -> None:
    store = DatabaseProfileStore()
    old = ProfileKey(visitor_id="f" * 32)
    store.update(old, lambda s: replace(s, last_seen=time.time() - 400 * 86400))
    store.update(ProfileKey(visitor_id="0" * 32), lambda s: replace(s, last_seen=time.time()))
    assert store.purge(datetime.now(UTC) - timedelta(days=395)) == 1
    assert [p.visitor_id.hex for p in Profile.objects.all()] == ["0" * 32]
