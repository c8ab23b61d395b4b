"""Blocks with an audience setting in every channel: pages, API v2, GraphQL, search, the page
cache and its decision key, analytics and the report's labels."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IPHONE, WINDOWS_CHROME

pytestmark = pytest.mark.django_db

TEMPLATES = Path(__file__).resolve().parent / "templates"
CACHE_MIDDLEWARE = "personalize.middleware.PersonalizeCacheMiddleware"
SETTING_KEY = "c" * 32
SECRET = "Phone owners: 20% off repairs"
PUBLIC = "Open to all: the journal"


def _cta(heading: str, audience: dict[str, Any] | None, block_id: str) -> dict[str, Any]:
    value: dict[str, Any] = {
        "heading": heading,
        "text": "A sentence.",
        "link_label": "Go",
        "link_url": "/journal/",
    }
    if audience is not None:
        value["audience"] = audience
    return {"type": "call_to_action", "value": value, "id": block_id}


def _for(segment_id: int, who: str = "segments") -> dict[str, Any]:
    return {"who": who, "segments": [segment_id], "groups": [], "key": SETTING_KEY}


def _publish(body: list[dict[str, Any]], slug: str = "offers") -> Any:
    from wagtail.models import Site

    from cms_site.home.models import ContentPage

    root = Site.objects.get(is_default_site=True).root_page
    page = ContentPage(title="Offers", slug=slug, body=body)
    root.add_child(instance=page)
    page.save_revision().publish()
    return page


@pytest.fixture
def phones(segment_factory: Any) -> Any:
    return segment_factory("Phones", condition={"device.type": "mobile"}, slug="phones")


@pytest.fixture
def page(phones: Any) -> Any:
    """A page with a call to action for phones only and one stored before the setting existed."""
    return _publish([_cta(SECRET, _for(phones.pk), "cta1"), _cta(PUBLIC, None, "cta2")])


def _get(client: Any, path: str, agent: str) -> Any:
    return client.get(path, headers={"User-Agent": agent})


def test_pages_render_the_block_only_for_its_audience(client: Any, page: Any) -> None:
    phone = _get(client, page.url, IPHONE).content.decode()
    desktop = _get(client, page.url, WINDOWS_CHROME).content.decode()
    assert SECRET in phone and PUBLIC in phone
    assert SECRET not in desktop and PUBLIC in desktop


def test_api_v2_has_no_content_of_a_hidden_block(client: Any, page: Any) -> None:
    desktop = _get(client, f"/api/v2/pages/{page.pk}/", WINDOWS_CHROME).json()
    phone = _get(client, f"/api/v2/pages/{page.pk}/", IPHONE).json()
    assert SECRET not in json.dumps(desktop)
    assert [(b["id"], b["value"]) for b in desktop["body"]][0] == ("cta1", None)
    assert phone["body"][0]["value"] == {
        "heading": SECRET,
        "text": "A sentence.",
        "link_label": "Go",
        "link_url": "/journal/",
    }
    assert "audience" not in json.dumps(phone)


PAGE_QUERY = """
query ($path: String) {
  page(path: $path) { streamfield(name: "body") { id type value } }
}
"""


def _graphql(client: Any, agent: str, path: str) -> Any:
    response = client.post(
        "/graphql/",
        json.dumps({"query": PAGE_QUERY, "variables": {"path": path}}),
        content_type="application/json",
        headers={"User-Agent": agent},
    )
    assert response.status_code == 200
    result = response.json()
    assert "errors" not in result
    return result["data"]["page"]["streamfield"]


def test_graphql_leaves_hidden_blocks_out(client: Any, page: Any) -> None:
    desktop = _graphql(client, WINDOWS_CHROME, page.url)
    phone = _graphql(client, IPHONE, page.url)
    assert [block["id"] for block in desktop] == ["cta2"]
    assert SECRET not in json.dumps(desktop)
    assert [block["id"] for block in phone] == ["cta1", "cta2"]
    assert json.loads(phone[0]["value"])["heading"] == SECRET


def test_search_finds_only_blocks_for_everyone(page: Any) -> None:
    from cms_site.home.models import ContentPage

    body = ContentPage.objects.get(pk=page.pk).body
    text = " ".join(body.stream_block.get_searchable_content(body))
    assert PUBLIC in text and SECRET not in text
    assert list(ContentPage.objects.live().search("journal")) == [page.specific]
    assert list(ContentPage.objects.live().search("repairs")) == []


def test_the_page_index_holds_the_audience(page: Any, phones: Any) -> None:
    from personalize.caching.index import Audience, PageIndex, build_index

    index = build_index(page)
    assert index.audiences == (Audience(SETTING_KEY, "segments", (), (phones.pk,)),)
    assert index.personal is True
    assert phones.pk in index.segment_ids
    assert PageIndex.from_json(json.loads(json.dumps(index.to_json()))) == index


def test_a_page_without_audiences_stays_impersonal() -> None:
    from personalize.caching.index import build_index

    everyone = {"who": "everyone", "segments": [], "groups": [], "key": SETTING_KEY}
    index = build_index(_publish([_cta(PUBLIC, everyone, "e1"), _cta(PUBLIC, None, "e2")]))
    assert index.audiences == ()
    assert index.personal is False


def test_keys_differ_exactly_when_the_audience_decision_does(make_request: Any, page: Any) -> None:
    from personalize.caching.index import build_index
    from personalize.caching.keys import decide_page
    from personalize.visitors.visitor import Visitor

    index = build_index(page)

    def key(agent: str) -> str:
        return decide_page(
            Visitor(make_request(headers={"User-Agent": agent})), index, site_id=1
        ).key

    android = (
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/126.0.0.0 Mobile Safari/537.36"
    )
    assert key(IPHONE) == key(android)
    assert key(IPHONE) != key(WINDOWS_CHROME)


@pytest.fixture
def cached_site(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    from cms_site.home.models import ContentPage

    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != CACHE_MIDDLEWARE]
    settings.MIDDLEWARE = [CACHE_MIDDLEWARE, *settings.MIDDLEWARE]
    templates = copy.deepcopy(settings.TEMPLATES)
    templates[0]["DIRS"] = [str(TEMPLATES), *templates[0].get("DIRS", [])]
    settings.TEMPLATES = templates
    settings.PERSONALIZE = {**settings.PERSONALIZE, "PAGE_CACHE_TIMEOUT": 300}
    monkeypatch.setattr(ContentPage, "template", "caching_page.html")
    return settings


def test_the_page_cache_never_serves_a_hidden_block(
    client: Any, cached_site: Any, page: Any
) -> None:
    phone = [_get(client, page.url, IPHONE) for _ in range(2)]
    desktop = [_get(client, page.url, WINDOWS_CHROME) for _ in range(2)]
    assert [r["X-Personalize-Cache"] for r in phone] == ["miss", "hit"]
    assert [r["X-Personalize-Cache"] for r in desktop] == ["miss", "hit"]
    assert all(SECRET.encode() in r.content for r in phone)
    assert all(SECRET.encode() not in r.content for r in desktop)
    assert phone[0]["X-Personalize-Key"] != desktop[0]["X-Personalize-Key"]
    assert "private" not in desktop[0]["Cache-Control"]


def test_impressions_count_shown_and_hidden_once_per_request(
    client: Any, cached_site: Any, page: Any, phones: Any
) -> None:
    from personalize.analytics.store import counter_store

    for agent in (IPHONE, IPHONE, WINDOWS_CHROME):
        _get(client, page.url, agent)
    today = datetime.now(UTC).date()
    counts = counter_store().live_counts([today])[today]
    noted = {field: n for field, n in counts.items() if field.startswith(f"imp|{page.pk}|")}
    assert noted == {
        f"imp|{page.pk}|{SETTING_KEY}|shown|-|{phones.pk}": 2,
        f"imp|{page.pk}|{SETTING_KEY}|hidden|-|-": 1,
    }


def test_the_report_labels_audience_blocks(page: Any, phones: Any) -> None:
    from personalize.admin.labels import Labeller
    from personalize.analytics.rows import Row

    rows = [
        Row(
            page_id=page.pk, block_key=SETTING_KEY, variant=outcome, alternative="", segment_id=None
        )
        for outcome in ("shown", "hidden")
    ]
    labels = Labeller(rows)
    assert labels.block(SETTING_KEY) == "Block for: Only visitors in these segments: Phones"
    assert [labels.variant(r) for r in rows] == ["Shown", "Hidden"]
    assert [labels.alternative(r) for r in rows] == ["Shown", "Hidden"]


def test_why_am_i_seeing_this_under_a_block_segments_showed(
    client: Any, settings: Any, page: Any, make_request: Any, phones: Any
) -> None:
    from personalize.caching.index import build_index
    from personalize.caching.keys import decide_page
    from personalize.visitors.visitor import Visitor

    settings.PERSONALIZE = {**settings.PERSONALIZE, "EXPLAIN_LINKS": True}
    phone = _get(client, page.url, IPHONE).content.decode()
    assert phone.count("Why am I seeing this?") == 1
    assert "You see this because you are in the audience “Phones”" in phone
    desktop = _get(client, page.url, WINDOWS_CHROME).content.decode()
    assert "Why am I seeing this?" not in desktop
    # The reasons are part of the key while they reach the page.
    index = build_index(page)
    visitor = Visitor(make_request(headers={"User-Agent": IPHONE}))
    explained = decide_page(visitor, index, site_id=1, explain=True).key
    assert explained != decide_page(visitor, index, site_id=1, explain=False).key


def test_a_preview_as_a_segment_decides_as_its_visitor_and_counts_nothing(
    make_request: Any, page: Any, phones: Any
) -> None:
    from personalize.analytics.recording import IMPRESSIONS
    from personalize.blocks import audience_decision
    from personalize.visitors.visitor import Visitor

    request = make_request(headers={"User-Agent": WINDOWS_CHROME})
    as_phones = Visitor(request, as_segments=frozenset({phones.pk}))
    child = page.specific.body[0]
    decision = audience_decision(child.block, child.value, {"visitor": as_phones})
    assert (decision.shown, decision.segment_ids) == (True, (phones.pk,))
    nobody = Visitor(request, as_segments=frozenset())
    assert audience_decision(child.block, child.value, {"visitor": nobody}).shown is False
    assert IMPRESSIONS not in request.__dict__


def test_keys_differ_by_the_segments_that_showed_the_block(
    make_request: Any, phones: Any, segment_factory: Any
) -> None:
    """The block's context holds the decision (``audience.segment_ids``, ``audience.reason``):
    visitors shown the block by different segments get different keys."""
    from personalize.caching.index import build_index
    from personalize.caching.keys import decide_page
    from personalize.visitors.visitor import Visitor

    desktops = segment_factory("Desktops", condition={"device.type": "desktop"}, slug="desktops")
    audience = {"who": "segments", "segments": [phones.pk, desktops.pk], "groups": [], "key": ""}
    index = build_index(_publish([_cta(SECRET, audience, "both")], slug="both"))

    def decided(agent: str) -> tuple[str, tuple[int, ...]]:
        visitor = Visitor(make_request(headers={"User-Agent": agent}))
        key = decide_page(visitor, index, site_id=1, explain=False).key
        return key, tuple(sorted(visitor.segment_ids))

    (phone_key, phone_ids), (desktop_key, desktop_ids) = decided(IPHONE), decided(WINDOWS_CHROME)
    assert (phone_ids, desktop_ids) == ((phones.pk,), (desktops.pk,))
    assert phone_key != desktop_key


def test_an_audience_block_from_outside_the_page_keeps_the_response_private(
    client: Any, cached_site: Any, phones: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A block the page's key does not cover (another page's, a snippet's) is decided while
    rendering: no shared cache may hand that render to a visitor decided otherwise."""
    from cms_site.home.models import ContentPage

    footer = _publish([_cta(SECRET, _for(phones.pk), "f1")], slug="footer")
    page = _publish([_cta(PUBLIC, None, "p1")], slug="plain")
    context = ContentPage.get_context

    def with_footer(self: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        return {**context(self, request, *args, **kwargs), "footer": footer.specific}

    monkeypatch.setattr(ContentPage, "get_context", with_footer)
    monkeypatch.setattr(ContentPage, "template", "caching_page_with_footer.html")
    phone = _get(client, page.url, IPHONE)
    desktop = _get(client, page.url, WINDOWS_CHROME)

    assert SECRET.encode() in phone.content
    assert SECRET.encode() not in desktop.content
    assert "private" in phone["Cache-Control"] and "private" in desktop["Cache-Control"]
    assert "X-Personalize-Cache" not in desktop
