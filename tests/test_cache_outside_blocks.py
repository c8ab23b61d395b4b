"""Segment-aware blocks rendered from outside the page's own StreamFields and the page cache.

The decision key covers the decisions of the page's own blocks. A personalized block, a gate or
a preference question rendered from elsewhere (a snippet's, another page's, as in a footer) is
decided while the page renders: the response must stay private, so no cache hands it to a
visitor decided otherwise. The same block on the page itself is covered, and stays shareable.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IPHONE, WINDOWS_CHROME

pytestmark = pytest.mark.django_db

TEMPLATES = Path(__file__).resolve().parent / "templates"
CACHE_MIDDLEWARE = "personalize.middleware.PersonalizeCacheMiddleware"
SECRET = "Phone owners: repairs while you wait"
PUBLIC = "Open to all: the journal"


def _heading(text: str, block_id: str) -> dict[str, Any]:
    return {"type": "heading", "value": text, "id": block_id}


def _personalized(segment_id: int) -> dict[str, Any]:
    return {
        "type": "personalized",
        "id": "pers",
        "value": {
            "variants": [
                {
                    "label": "Phones",
                    "segments": [segment_id],
                    "content": [_heading(SECRET, "v1")],
                    "alternatives": [],
                    "weight": 50,
                    "holdout": 0,
                    "key": "1" * 32,
                }
            ],
            "default": [_heading("Everyone else", "d1")],
            "key": "a" * 32,
        },
    }


def _gated(segment_id: int) -> dict[str, Any]:
    return {
        "type": "gated",
        "id": "gate",
        "value": {
            "requirement": "segment",
            "groups": [],
            "segments": [segment_id],
            "teaser": "For phone owners",
            "cta_label": "Log in",
            "content": [_heading(SECRET, "g1")],
        },
    }


def _publish(body: list[dict[str, Any]], slug: str) -> Any:
    from wagtail.models import Site

    from cms_site.home.models import ContentPage

    root = Site.objects.get(is_default_site=True).root_page
    page = ContentPage(title=slug.title(), slug=slug, body=body)
    root.add_child(instance=page)
    page.save_revision().publish()
    return page


@pytest.fixture
def phones(segment_factory: Any) -> Any:
    return segment_factory("Phones", condition={"device.type": "mobile"}, slug="phones")


@pytest.fixture
def cached_site(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    from cms_site.home.models import ContentPage

    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != CACHE_MIDDLEWARE]
    settings.MIDDLEWARE = [CACHE_MIDDLEWARE, *settings.MIDDLEWARE]
    templates = copy.deepcopy(settings.TEMPLATES)
    templates[0]["DIRS"] = [str(TEMPLATES), *templates[0].get("DIRS", [])]
    settings.TEMPLATES = templates
    settings.PERSONALIZE = {**settings.PERSONALIZE, "PAGE_CACHE_TIMEOUT": 300}
    monkeypatch.setattr(ContentPage, "template", "caching_page_with_footer.html")
    return settings


def _with_footer(monkeypatch: pytest.MonkeyPatch, footer: Any) -> None:
    from cms_site.home.models import ContentPage

    context = ContentPage.get_context

    def with_footer(self: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        return {**context(self, request, *args, **kwargs), "footer": footer.specific}

    monkeypatch.setattr(ContentPage, "get_context", with_footer)


def _get(client: Any, path: str, agent: str) -> Any:
    return client.get(path, headers={"User-Agent": agent})


@pytest.mark.parametrize("kind", ["personalized", "gated"])
def test_a_block_from_outside_the_page_keeps_the_response_private(
    client: Any, cached_site: Any, phones: Any, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    block = _personalized(phones.pk) if kind == "personalized" else _gated(phones.pk)
    _with_footer(monkeypatch, _publish([block], slug="footer"))
    page = _publish([_heading(PUBLIC, "h1")], slug="plain")

    phone = [_get(client, page.url, IPHONE) for _ in range(2)]
    desktop = [_get(client, page.url, WINDOWS_CHROME) for _ in range(2)]

    assert all(SECRET.encode() in r.content for r in phone)
    assert all(SECRET.encode() not in r.content for r in desktop)
    assert all("private" in r["Cache-Control"] for r in phone + desktop)
    assert [r.get("X-Personalize-Cache") for r in desktop] == [None, None]


def test_a_preference_question_from_outside_the_page_keeps_the_response_private(
    client: Any, cached_site: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    question = {
        "type": "preference",
        "id": "pref",
        "value": {
            "key": "activity",
            "question": "What do you do outdoors?",
            "help_text": "",
            "options": [
                {"value": "hiking", "label": "Hiking"},
                {"value": "climbing", "label": "Climbing"},
            ],
        },
    }
    _with_footer(monkeypatch, _publish([question], slug="footer"))
    page = _publish([_heading(PUBLIC, "h1")], slug="plain")

    response = _get(client, page.url, WINDOWS_CHROME)

    assert b"What do you do outdoors?" in response.content
    assert "private" in response["Cache-Control"]
    assert response.get("X-Personalize-Cache") is None


@pytest.mark.parametrize("kind", ["personalized", "gated"])
def test_the_same_block_on_the_page_itself_is_covered_by_the_key(
    client: Any, cached_site: Any, phones: Any, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    block = _personalized(phones.pk) if kind == "personalized" else _gated(phones.pk)
    page = _publish([block], slug="offers")
    _with_footer(monkeypatch, page)

    phone = [_get(client, page.url, IPHONE) for _ in range(2)]
    desktop = [_get(client, page.url, WINDOWS_CHROME) for _ in range(2)]

    assert [r["X-Personalize-Cache"] for r in phone] == ["miss", "hit"]
    assert [r["X-Personalize-Cache"] for r in desktop] == ["miss", "hit"]
    assert all(SECRET.encode() in r.content for r in phone)
    assert all(SECRET.encode() not in r.content for r in desktop)
    assert phone[0]["X-Personalize-Key"] != desktop[0]["X-Personalize-Key"]
