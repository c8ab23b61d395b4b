"""The visitor-facing endpoints refuse hostile input with a 400 and never reveal an exception."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from django.db import DatabaseError
from django.test import Client

from personalize.models import Profile
from personalize.profiles.memory import MemoryProfileStore
from personalize.signals.consent import dump_consent_cookie
from personalize.views.endpoints import UNAVAILABLE_MESSAGE
from personalize.views.forms import NUL_MESSAGE

pytestmark = pytest.mark.django_db

#: Text of an exception that must never reach a response.
SECRET = "relation personalize_profile: password=hunter2"


@pytest.fixture
def visitor() -> Client:
    client = Client()
    client.cookies["pz_consent"] = dump_consent_cookie(["personalization"], time.time())
    return client


def post_json(client: Client, url: str, payload: Any, **extra: Any) -> Any:
    return client.post(url, json.dumps(payload), content_type="application/json", **extra)


@pytest.mark.parametrize(
    "payload",
    [
        {"name": "video\x00play"},
        {"name": "video_play", "target": "intro\x00"},
        {"name": "page_view", "tags": ["ski\x00touring"]},
    ],
)
def test_events_with_a_nul_character_get_a_400(visitor: Client, payload: Any) -> None:
    response = post_json(visitor, "/personalize/events/", payload)
    assert response.status_code == 400
    assert response.json() == {"tracked": False, "error": NUL_MESSAGE}
    assert Profile.objects.count() == 0


def test_a_form_event_with_a_nul_tag_gets_a_400(visitor: Client) -> None:
    response = visitor.post("/personalize/events/", {"name": "page_view", "tags": ["a", "b\x00"]})
    assert response.status_code == 400
    assert response.json()["error"] == NUL_MESSAGE


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"key": "drink", "value": "tea\x00"}, "value: Null characters are not allowed."),
        ({"key": "dri\x00nk", "value": "tea"}, "key: Null characters are not allowed."),
    ],
)
def test_preference_answers_with_a_nul_character_get_a_400(
    visitor: Client, fields: dict[str, str], message: str
) -> None:
    response = post_json(
        visitor, "/personalize/preferences/", fields, headers={"Accept": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"].startswith(message)
    assert Profile.objects.count() == 0


def test_consent_with_a_nul_character_gets_a_400(visitor: Client) -> None:
    response = visitor.post("/personalize/consent/", {"choice": "all", "next": "/\x00"})
    assert response.status_code == 400
    assert response.content.decode() == "next: Null characters are not allowed."


def test_invalid_json_is_named_without_the_parsers_message(visitor: Client) -> None:
    response = visitor.post("/personalize/events/", b'{"name": ', content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"tracked": False, "error": "The body is not valid JSON."}
    consent = visitor.post(
        "/personalize/consent/",
        b"\xff\xfe",
        content_type="application/json",
        headers={"Accept": "application/json"},
    )
    assert consent.json() == {"error": "The body is not valid JSON."}


def test_deeply_nested_json_is_a_400_not_a_server_error(visitor: Client) -> None:
    body = "[" * 100_000 + "]" * 100_000
    response = visitor.post(
        "/personalize/consent/",
        body,
        content_type="application/json",
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 400
    assert response.json() == {"error": "The body is nested too deeply."}


class FailingStore(MemoryProfileStore):
    """A profile store whose database refuses every write, with a telling message."""

    def update(self, key: Any, change: Any) -> Any:
        raise DatabaseError(SECRET)

    def erase(self, key: Any) -> int:
        raise DatabaseError(SECRET)


@pytest.fixture
def failing_store(monkeypatch: Any) -> None:
    import personalize.profiles.store

    monkeypatch.setattr(personalize.profiles.store, "_store", FailingStore())


def test_a_failing_store_gets_a_generic_503(visitor: Client, failing_store: None) -> None:
    visitor.get("/personalize/privacy/")
    visitor.cookies["pz_vid"] = _visitor_cookie()
    answers = [
        visitor.post("/personalize/consent/", {"choice": "necessary"}),
        post_json(
            visitor,
            "/personalize/consent/",
            {"choice": "necessary"},
            headers={"Accept": "application/json"},
        ),
        visitor.post("/personalize/privacy/erase/", {"confirm": "1"}),
    ]
    assert [answer.status_code for answer in answers] == [503, 503, 503]
    assert answers[0].content.decode() == UNAVAILABLE_MESSAGE
    assert answers[1].json() == {"error": UNAVAILABLE_MESSAGE}
    assert all(SECRET not in answer.content.decode() for answer in answers)
    # A preference that cannot be stored is answered as not stored, not as an error.
    stored = post_json(
        visitor,
        "/personalize/preferences/",
        {"key": "drink", "value": "tea"},
        headers={"Accept": "application/json"},
    )
    assert stored.status_code == 200
    assert stored.json()["stored"] is False


def _visitor_cookie() -> str:
    from personalize.visitors.identity import dump_visitor_id

    return dump_visitor_id("c" * 32)
