"""PreferenceBlock, the "Allow personalization and save" path, and "Why am I seeing this?"."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.template import engines
from django.test import Client
from wagtail import blocks
from wagtail.blocks import StructBlockValidationError

from personalize.blocks import PersonalizedBlock
from personalize.blocks.preference import PreferenceBlock
from personalize.models import Profile
from personalize.profiles.store import ProfileKey, profile_store
from personalize.rules.scoring import ProfileState
from personalize.signals.consent import dump_consent_cookie, parse_consent_cookie
from personalize.visitors.identity import dump_visitor_id
from personalize.visitors.visitor import Visitor
from tests.conftest import IPHONE

pytestmark = pytest.mark.django_db

DRINK = {
    "key": "drink",
    "question": "What would you like to drink on arrival?",
    "options": [
        {"value": "tea", "label": "Tea"},
        {"value": "coffee", "label": "Coffee"},
    ],
    "help_text": "",
}


def render(block: Any, value: Any, request: Any) -> str:
    template = engines["django"].from_string("{% load wagtailcore_tags %}{% include_block b %}")
    bound = block.bind(block.to_python(value))
    return template.render({"b": bound, "request": request}, request)


def test_without_consent_the_form_asks_for_it(make_request: Any) -> None:
    html = render(PreferenceBlock(), DRINK, make_request("/"))
    assert 'name="grant" value="personalization"' in html
    assert "Allow personalization and save" in html
    assert 'value="tea"' in html and 'value="coffee"' in html
    assert "checked" not in html


def test_with_consent_the_current_answer_is_checked(make_request: Any) -> None:
    visitor_id = "1" * 32
    profile_store().update(
        ProfileKey(visitor_id=visitor_id),
        lambda s: ProfileState(prefs={"drink": "coffee"}, prefs_at={"drink": time.time()}),
    )
    request = make_request(
        "/",
        cookies={
            "pz_consent": dump_consent_cookie(["personalization"], time.time()),
            "pz_vid": dump_visitor_id(visitor_id),
        },
    )
    request.visitor = Visitor(request)
    html = render(PreferenceBlock(), DRINK, request)
    assert 'value="coffee" checked' in html
    assert "Change my answer" in html
    assert 'name="grant"' not in html
    api = PreferenceBlock().get_api_representation(
        PreferenceBlock().to_python(DRINK), {"request": request}
    )
    assert api == {
        "key": "drink",
        "question": "What would you like to drink on arrival?",
        "options": [{"value": "tea", "label": "Tea"}, {"value": "coffee", "label": "Coffee"}],
        "helpText": "",
        "answer": "coffee",
    }


def test_allow_and_save_grants_consent_and_stores_the_answer(client: Client) -> None:
    response = client.post(
        "/personalize/preferences/",
        {"key": "drink", "value": "tea", "grant": "personalization", "next": "/try-it/"},
    )
    assert response.status_code == 303
    assert response["Location"] == "/try-it/#pz-pref-drink"
    purposes, _ = parse_consent_cookie(response.cookies["pz_consent"].value)
    assert purposes == {"necessary", "personalization"}
    assert "pz_vid" in response.cookies
    assert ProfileState.from_json(Profile.objects.get().data).prefs == {"drink": "tea"}


def test_grant_keeps_analytics_already_granted(client: Client) -> None:
    client.cookies["pz_consent"] = dump_consent_cookie(["analytics"], time.time())
    response = client.post(
        "/personalize/preferences/", {"key": "drink", "value": "tea", "grant": "personalization"}
    )
    purposes, _ = parse_consent_cookie(response.cookies["pz_consent"].value)
    assert purposes == {"necessary", "personalization", "analytics"}


def test_options_need_distinct_values() -> None:
    value = {**DRINK, "options": [{"value": "tea", "label": "Tea"}] * 2}
    with pytest.raises(StructBlockValidationError):
        PreferenceBlock().clean(PreferenceBlock().to_python(value))


def test_search_indexes_the_question_not_answers() -> None:
    block = PreferenceBlock()
    assert block.get_searchable_content(block.to_python(DRINK)) == [
        "What would you like to drink on arrival?",
        "Tea",
        "Coffee",
    ]


def test_why_am_i_seeing_this(settings: Any, segment_factory: Any, make_request: Any) -> None:
    settings.PERSONALIZE = {**settings.PERSONALIZE, "EXPLAIN_LINKS": True}
    phones = segment_factory(
        "Phone visitors",
        slug="phones",
        rules=[{"type": "device_type", "value": {"values": ["mobile"]}}],
    )
    block = PersonalizedBlock([("text", blocks.CharBlock())])
    value = {
        "variants": [
            {
                "label": "Phones",
                "segments": [phones.pk],
                "content": [{"type": "text", "value": "Call us"}],
            }
        ],
        "default": [{"type": "text", "value": "Welcome"}],
    }
    request = make_request("/", headers={"User-Agent": IPHONE})
    request.visitor = Visitor(request)
    html = render(block, value, request)
    assert "Call us" in html
    assert '<details class="pz-why">' in html
    assert "<summary>Why am I seeing this?</summary>" in html
    assert "“Phone visitors”" in html
    assert "visitors on a mobile phone (your device: mobile phone)" in html
    assert 'href="/personalize/privacy/"' in html
    # The default content explains nothing, and the setting switches explanations off.
    other = make_request("/")
    other.visitor = Visitor(other)
    assert "pz-why" not in render(block, value, other)
    settings.PERSONALIZE = {**settings.PERSONALIZE, "EXPLAIN_LINKS": False}
    request.visitor = Visitor(request)
    assert "pz-why" not in render(block, value, request)
