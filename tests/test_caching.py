"""Decision keys, shareable responses and the page cache, through the real middleware stack."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IPHONE, WINDOWS_CHROME

TEMPLATES = Path(__file__).resolve().parent / "templates"
ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Mobile Safari/537.36"
)
BLOCK_KEY = "b" * 32
CACHE_MIDDLEWARE = "personalize.middleware.PersonalizeCacheMiddleware"
#: A gated block for registered visitors.
MEMBERS_ONLY = {
    "type": "gated",
    "value": {
        "requirement": "authenticated",
        "groups": [],
        "segments": [],
        "teaser": "<p>Teaser</p>",
        "content": [{"type": "heading", "value": "Members only", "id": "c1"}],
        "cta_label": "Register",
        "cta_page": None,
    },
}


def _variant(label: str, segment: int, text: str, key: str, **extra: Any) -> dict[str, Any]:
    return {
        "label": label,
        "segments": [segment],
        "content": [{"type": "heading", "value": text, "id": key[:8]}],
        "alternatives": extra.pop("alternatives", []),
        "weight": extra.pop("weight", 50),
        "holdout": 0,
        "key": key,
    }


@pytest.fixture
def cached_site(db: Any, settings: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A site with the cache middleware in front and a plain template (no banner, no forms)."""
    from cms_site.home.models import ContentPage

    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != CACHE_MIDDLEWARE]
    settings.MIDDLEWARE = [CACHE_MIDDLEWARE, *settings.MIDDLEWARE]
    templates = copy.deepcopy(settings.TEMPLATES)
    templates[0]["DIRS"] = [str(TEMPLATES), *templates[0].get("DIRS", [])]
    settings.TEMPLATES = templates
    settings.PERSONALIZE = {**settings.PERSONALIZE, "PAGE_CACHE_TIMEOUT": 300}
    monkeypatch.setattr(ContentPage, "template", "caching_page.html")
    return settings


@pytest.fixture
def phones(segment_factory: Any) -> Any:
    return segment_factory("Phones", condition={"device.type": "mobile"}, slug="phones")


def _publish(body: list[dict[str, Any]], slug: str = "offers") -> Any:
    from wagtail.models import Site

    from cms_site.home.models import ContentPage

    root = Site.objects.get(is_default_site=True).root_page
    page = ContentPage(title="Offers", slug=slug, body=body)
    root.add_child(instance=page)
    page.save_revision().publish()
    return page


def _personalized(phones: Any, **variant: Any) -> dict[str, Any]:
    return {
        "type": "personalized",
        "value": {
            "variants": [_variant("Phones", phones.pk, "For phones", "1" * 32, **variant)],
            "default": [{"type": "heading", "value": "For everyone", "id": "d1"}],
            "key": BLOCK_KEY,
        },
    }


def _get(client: Any, path: str, agent: str, **headers: str) -> Any:
    return client.get(path, headers={"User-Agent": agent, **headers})


def test_same_decisions_share_a_key_and_the_cached_response(
    client: Any, cached_site: Any, phones: Any
) -> None:
    page = _publish([_personalized(phones)])
    first = _get(client, page.url, IPHONE)
    second = _get(client, page.url, ANDROID)
    desktop = _get(client, page.url, WINDOWS_CHROME)

    assert first["X-Personalize-Key"] == second["X-Personalize-Key"]
    assert desktop["X-Personalize-Key"] != first["X-Personalize-Key"]
    assert b"For phones" in first.content and b"For phones" in second.content
    assert b"For everyone" in desktop.content and b"For phones" not in desktop.content
    assert first["X-Personalize-Cache"] == "miss"
    assert second["X-Personalize-Cache"] == "hit"
    assert desktop["X-Personalize-Cache"] == "miss"
    assert "X-Personalize-Key" in first["Vary"] and "Cookie" not in first["Vary"]
    assert first["Cache-Control"].replace(" ", "") in (
        "public,max-age=0,s-maxage=300",
        "max-age=0,public,s-maxage=300",
    )


def test_a_cache_hit_counts_like_a_render(client: Any, cached_site: Any, phones: Any) -> None:
    from personalize.analytics.store import counter_store

    page = _publish([_personalized(phones)])
    responses = [_get(client, page.url, IPHONE) for _ in range(3)]

    assert [r["X-Personalize-Cache"] for r in responses] == ["miss", "hit", "hit"]
    today = datetime.now(UTC).date()
    counts = counter_store().live_counts([today])[today]
    assert counts[f"imp|{page.pk}|{BLOCK_KEY}|{'1' * 32}|-|{phones.pk}"] == 3


def test_each_alternative_of_an_ab_test_has_its_own_key(
    client: Any, cached_site: Any, phones: Any
) -> None:
    page = _publish_ab_test(phones)
    keys: dict[bool, set[str]] = {True: set(), False: set()}
    for _ in range(12):
        client.cookies.clear()
        client.cookies["pz_consent"] = _consent_cookie()
        response = _get(client, page.url, IPHONE)
        keys[b"take two" in response.content].add(response["X-Personalize-Key"])

    assert keys[True] and keys[False]
    assert not keys[True] & keys[False]


def _publish_ab_test(phones: Any) -> Any:
    """A page whose phone variant runs an A/B test: its own content against "Phones, take two"."""
    from personalize.models import Experiment

    page = _publish(
        [_personalized(phones, alternatives=[{"label": "B", "weight": 50, "content": [
            {"type": "heading", "value": "Phones, take two", "id": "alt1"}
        ]}])]
    )  # fmt: skip
    Experiment.objects.filter(key="1" * 32).update(status="running")
    return page


def _consent_cookie() -> str:
    import time

    from personalize.signals.consent import dump_consent_cookie

    return dump_consent_cookie(("necessary", "personalization", "analytics"), time.time())


def test_preference_answers_give_different_keys(
    make_request: Any, cached_site: Any, phones: Any
) -> None:
    from personalize.caching.index import build_index
    from personalize.caching.keys import decide_page
    from personalize.visitors.visitor import Visitor

    page = _publish(
        [{"type": "preference", "value": {"key": "drink", "question": "Drink?", "options": [
            {"value": "tea", "label": "Tea"}, {"value": "coffee", "label": "Coffee"}
        ], "help_text": ""}}]
    )  # fmt: skip
    index = build_index(page)

    class Answered(Visitor):
        def __init__(self, request: Any, answer: str | None) -> None:
            super().__init__(request)
            self.answer = answer

        @property
        def profile(self) -> Any:
            from personalize.rules.scoring import ProfileState

            return ProfileState(prefs={"drink": self.answer} if self.answer else {})

    keys = {
        answer: decide_page(Answered(make_request(), answer), index, site_id=1).key
        for answer in ("coffee", "tea", None)
    }
    assert len(set(keys.values())) == 3
    assert index.preferences == ("drink",)


def test_a_locked_gate_is_never_served_unlocked(
    client: Any, cached_site: Any, django_user_model: Any
) -> None:
    page = _publish([MEMBERS_ONLY])
    user = django_user_model.objects.create_user("member", password="pw")  # noqa: S106
    client.force_login(user)
    member = _get(client, page.url, IPHONE)
    client.logout()
    client.cookies.clear()
    anonymous = [_get(client, page.url, IPHONE) for _ in range(2)]

    assert b"Members only" in member.content
    assert "private" in member["Cache-Control"]
    assert all(b"Members only" not in r.content for r in anonymous)
    assert [r["X-Personalize-Cache"] for r in anonymous] == ["miss", "hit"]
    assert member["X-Personalize-Key"] != anonymous[0]["X-Personalize-Key"]


def test_publishing_drops_the_cached_responses(
    client: Any, cached_site: Any, phones: Any, django_capture_on_commit_callbacks: Any
) -> None:
    page = _publish([_personalized(phones)])
    before = [_get(client, page.url, IPHONE) for _ in range(2)]
    page.body = [{"type": "heading", "value": "Reworded", "id": "h9"}, _personalized(phones)]
    with django_capture_on_commit_callbacks(execute=True):
        page.save_revision().publish()
    after = _get(client, page.url, IPHONE)

    assert [r["X-Personalize-Cache"] for r in before] == ["miss", "hit"]
    assert after["X-Personalize-Cache"] == "miss"
    assert b"Reworded" in after.content
    assert after["X-Personalize-Key"] != before[0]["X-Personalize-Key"]


@pytest.mark.parametrize("change", ["unpublish", "move", "delete"])
def test_unpublishing_moving_or_deleting_any_page_drops_the_cached_responses(
    client: Any,
    cached_site: Any,
    phones: Any,
    django_capture_on_commit_callbacks: Any,
    change: str,
) -> None:
    page = _publish([_personalized(phones)])
    other = _publish([{"type": "heading", "value": "Elsewhere", "id": "h8"}], slug="other")
    before = [_get(client, page.url, IPHONE) for _ in range(2)]
    with django_capture_on_commit_callbacks(execute=True):
        if change == "unpublish":
            other.unpublish()
        elif change == "move":
            other.move(page, pos="last-child")
        else:
            other.delete()
    after = _get(client, page.url, IPHONE)

    assert [r["X-Personalize-Cache"] for r in before] == ["miss", "hit"]
    assert after["X-Personalize-Cache"] == "miss"


def test_preflight_answers_the_key_without_rendering_and_counts(
    client: Any, cached_site: Any, phones: Any
) -> None:
    from personalize.analytics.store import counter_store

    page = _publish([_personalized(phones)])
    rendered = _get(client, page.url, IPHONE)
    preflight = _get(client, page.url, IPHONE, **{"X-Personalize-Preflight": "1"})

    assert preflight.status_code == 204
    assert preflight.content == b""
    assert preflight["X-Personalize-Key"] == rendered["X-Personalize-Key"]
    assert "no-store" in preflight["Cache-Control"]
    today = datetime.now(UTC).date()
    counts = counter_store().live_counts([today])[today]
    assert counts[f"imp|{page.pk}|{BLOCK_KEY}|{'1' * 32}|-|{phones.pk}"] == 2


def test_the_fill_after_a_trusted_preflight_is_not_counted_again(
    client: Any, cached_site: Any, phones: Any
) -> None:
    from personalize.analytics.store import counter_store

    page = _publish([_personalized(phones)])
    preflight = client.get(
        page.url,
        headers={"User-Agent": IPHONE, "X-Personalize-Preflight": "1"},
        REMOTE_ADDR="10.0.0.2",
    )
    key = preflight["X-Personalize-Key"]
    fill = client.get(
        page.url, headers={"User-Agent": IPHONE, "X-Personalize-Key": key}, REMOTE_ADDR="10.0.0.2"
    )
    untrusted = client.get(
        page.url,
        headers={"User-Agent": IPHONE, "X-Personalize-Key": key},
        REMOTE_ADDR="203.0.113.7",
    )

    assert fill["X-Personalize-Key"] == key
    today = datetime.now(UTC).date()
    counts = counter_store().live_counts([today])[today]
    # The preflight and the untrusted client's request: the trusted fill is not counted.
    assert counts[f"imp|{page.pk}|{BLOCK_KEY}|{'1' * 32}|-|{phones.pk}"] == 2
    assert untrusted.status_code == 200


def test_a_template_reading_the_visitor_makes_the_response_private(
    client: Any, cached_site: Any, phones: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cms_site.home.models import ContentPage

    monkeypatch.setattr(ContentPage, "template", "caching_reads_visitor.html")
    page = _publish([_personalized(phones)])
    response = _get(client, page.url, IPHONE)

    assert "private" in response["Cache-Control"]
    assert "X-Personalize-Cache" not in response
    assert response["X-Personalize-Key"]


def test_without_the_cache_middleware_responses_stay_private(
    client: Any, cached_site: Any, phones: Any
) -> None:
    cached_site.MIDDLEWARE = [m for m in cached_site.MIDDLEWARE if m != CACHE_MIDDLEWARE]
    page = _publish([_personalized(phones)])
    responses = [_get(client, page.url, IPHONE) for _ in range(2)]

    assert all("private" in r["Cache-Control"] for r in responses)
    assert all("X-Personalize-Cache" not in r for r in responses)
    assert responses[0]["X-Personalize-Key"] == responses[1]["X-Personalize-Key"]


def test_view_as_is_private_and_never_cached(
    admin_client: Any, client: Any, cached_site: Any, phones: Any
) -> None:
    page = _publish([_personalized(phones)])
    viewed = admin_client.get(f"{page.url}?pz_view_as=phones", headers={"User-Agent": IPHONE})
    visitor = _get(client, f"{page.url}?pz_view_as=phones", WINDOWS_CHROME)

    assert "no-store" in viewed["Cache-Control"]
    assert b"For phones" in viewed.content
    assert b"For phones" not in visitor.content


def test_time_rules_bound_the_shared_lifetime(
    client: Any, cached_site: Any, segment_factory: Any
) -> None:
    evenings = segment_factory("Evenings", condition={"time.hour": {"$gte": 18}}, slug="evenings")
    page = _publish([_personalized(evenings)])
    response = _get(client, page.url, IPHONE)

    max_age = int(response["Cache-Control"].split("s-maxage=")[1].split(",")[0])
    now = datetime.now(UTC)
    to_next_hour = 3600 - now.minute * 60 - now.second
    assert 0 < max_age <= min(300, to_next_hour + 1)


CACHE_KEY_QUERY = "query ($path: String!) { cacheKey(path: $path) segmentKey }"


def _graphql_key(client: Any, path: str, agent: str) -> dict[str, Any]:
    import json

    response = client.post(
        "/graphql/",
        json.dumps({"query": CACHE_KEY_QUERY, "variables": {"path": path}}),
        content_type="application/json",
        headers={"User-Agent": agent},
    )
    assert response.status_code == 200, response.content
    result: dict[str, Any] = response.json()
    assert "errors" not in result, result
    return result["data"]


def test_graphql_cache_key_separates_ab_alternatives_where_segment_key_did_not(
    client: Any, cached_site: Any, phones: Any
) -> None:
    page = _publish_ab_test(phones)
    answers: list[tuple[bool, dict[str, Any]]] = []
    for _ in range(12):
        client.cookies.clear()
        client.cookies["pz_consent"] = _consent_cookie()
        html = _get(client, page.url, IPHONE)
        answers.append((b"take two" in html.content, _graphql_key(client, page.url, IPHONE)))

    by_arm = {
        arm: {a["cacheKey"] for shown, a in answers if shown is arm} for arm in (True, False)
    }
    assert by_arm[True] and by_arm[False]
    assert not by_arm[True] & by_arm[False]
    # The deprecated key was the same for both arms.
    assert len({a["segmentKey"] for _, a in answers}) == 1


def test_graphql_cache_key_is_shared_by_visitors_with_the_same_decisions(
    client: Any, cached_site: Any, phones: Any
) -> None:
    page = _publish([_personalized(phones)])
    iphone = _graphql_key(client, page.url, IPHONE)["cacheKey"]
    android = _graphql_key(client, page.url, ANDROID)["cacheKey"]
    desktop = _graphql_key(client, page.url, WINDOWS_CHROME)["cacheKey"]
    missing = _graphql_key(client, "/no/such/page/", IPHONE)["cacheKey"]

    assert iphone == android != desktop
    assert len(iphone) == 32
    assert missing is None


def test_checks_report_a_bad_timeout_and_a_missing_middleware(settings: Any) -> None:
    from personalize.checks import check_settings

    settings.PERSONALIZE = {**settings.PERSONALIZE, "PAGE_CACHE_TIMEOUT": "5 minutes"}
    assert "personalize.E004" in {m.id for m in check_settings()}
    settings.PERSONALIZE = {**settings.PERSONALIZE, "PAGE_CACHE_TIMEOUT": 300}
    with_it = list(settings.MIDDLEWARE)
    settings.MIDDLEWARE = [m for m in with_it if m != CACHE_MIDDLEWARE]
    assert "personalize.W008" in {m.id for m in check_settings()}
    # Installed, but inside the session middleware: it could not see the session's cookie.
    session = settings.MIDDLEWARE.index("django.contrib.sessions.middleware.SessionMiddleware")
    settings.MIDDLEWARE = [
        *settings.MIDDLEWARE[: session + 1], CACHE_MIDDLEWARE, *settings.MIDDLEWARE[session + 1 :]
    ]
    assert "personalize.W008" in {m.id for m in check_settings()}
    settings.MIDDLEWARE = with_it
    ids = {m.id for m in check_settings()}
    assert "personalize.W008" not in ids and "personalize.E004" not in ids


@pytest.fixture
def demo_cached(db: Any, settings: Any) -> None:
    import io

    from django.core.management import call_command

    settings.PERSONALIZE = {**settings.PERSONALIZE, "PAGE_CACHE_TIMEOUT": 300}
    call_command("seed_demo", stdout=io.StringIO())


def test_demo_pages_are_shared_and_their_visitor_parts_are_fragments(
    client: Any, demo_cached: None
) -> None:
    from tests.fragments import with_fragments

    first = _get(client, "/journal/", WINDOWS_CHROME)
    second = _get(client, "/journal/", WINDOWS_CHROME)
    html = with_fragments(client, second)

    assert "public" in first["Cache-Control"] and "s-maxage=" in first["Cache-Control"]
    assert [first["X-Personalize-Cache"], second["X-Personalize-Cache"]] == ["miss", "hit"]
    assert b"csrfmiddlewaretoken" not in second.content
    assert b"Your visit, as the site sees it" not in second.content
    # As the browser shows it: the banner (with its own token) and the visit panel are there.
    assert 'class="pz-banner"' in html and "csrfmiddlewaretoken" in html
    assert "Your visit, as the site sees it" in html


def test_fragments_are_private_signed_and_keep_the_visitor_on_site(
    client: Any, demo_cached: None
) -> None:
    import re
    from html import unescape

    page = _get(client, "/journal/", WINDOWS_CHROME).content.decode()
    urls = [unescape(u) for u in re.findall(r'data-pz-fragment="([^"]+)"', page)]
    fragments = [client.get(url, {"next": "//evil.example/"}) for url in urls]
    forged = client.get(urls[0].replace("/fragments/", "/fragments/x"))

    assert len(urls) == 2
    assert all(f.status_code == 200 for f in fragments)
    assert all("no-store" in f["Cache-Control"] for f in fragments)
    assert any('name="next" value="/"' in f.content.decode() for f in fragments)
    assert "evil.example" not in "".join(f.content.decode() for f in fragments)
    assert forged.status_code == 404


def test_djangos_cache_middleware_does_not_keep_personalized_pages(
    client: Any, cached_site: Any, phones: Any
) -> None:
    """Why the package has a page cache of its own: Django's cache middleware takes a response's
    lifetime from max-age, which is 0 for a personalized page (browsers must not keep it)."""
    from django.test.signals import template_rendered

    cached_site.PERSONALIZE = {**cached_site.PERSONALIZE, "PAGE_CACHE_STORE": False}
    cached_site.MIDDLEWARE = [
        "django.middleware.cache.UpdateCacheMiddleware",
        *cached_site.MIDDLEWARE,
        "django.middleware.cache.FetchFromCacheMiddleware",
    ]
    page = _publish([_personalized(phones)])
    rendered: list[str] = []

    def note(sender: Any, template: Any, **kwargs: Any) -> None:
        if template.name == "caching_page.html":
            rendered.append(template.name)

    template_rendered.connect(note)
    try:
        responses = [_get(client, page.url, IPHONE) for _ in range(3)]
    finally:
        template_rendered.disconnect(note)

    assert all("s-maxage=300" in r["Cache-Control"] for r in responses)
    assert len(rendered) == 3


def test_a_timeout_that_is_no_number_keeps_pages_private_and_working(
    client: Any, cached_site: Any, phones: Any
) -> None:
    cached_site.PERSONALIZE = {**cached_site.PERSONALIZE, "PAGE_CACHE_TIMEOUT": "5 minutes"}
    page = _publish([_personalized(phones)])
    response = _get(client, page.url, IPHONE)

    assert response.status_code == 200
    assert b"For phones" in response.content
    assert "private" in response["Cache-Control"]
    assert "X-Personalize-Key" not in response
