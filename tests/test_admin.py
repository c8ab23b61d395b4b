"""Editors manage segments in the Wagtail admin without code."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from wagtail.test.utils.form_data import streamfield

from personalize.models import Segment
from personalize.visitors.registry import current_segments

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor_client(client: Any) -> Any:
    admin = User.objects.create_superuser("admin", "admin@example.com", "pw")
    client.force_login(admin)
    return client


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Like wagtail's nested_form_data, but lists stay lists (multiple-choice fields)."""
    flat: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, name + "-"))
        else:
            flat[name] = value
    return flat


def _form(
    name: str, slug: str, rules: list[tuple[str, dict[str, Any]]], match: str = "all"
) -> dict[str, Any]:
    return _flatten(
        {
            "name": name,
            "slug": slug,
            "description": "",
            "enabled": "on",
            "match": match,
            "rules": streamfield(rules),
        }
    )


def test_editor_creates_segment_and_visitors_match_at_once(
    editor_client: Any, django_capture_on_commit_callbacks: Any
) -> None:
    url = reverse("wagtailsnippets_personalize_segment:add")
    assert len(current_segments()) == 0
    with django_capture_on_commit_callbacks(execute=True):
        response = editor_client.post(
            url,
            _form("Visitors from Austria", "austria", [("country", {"values": ["AT"]})]),
        )
    assert response.status_code == 302
    segment = Segment.objects.get(slug="austria")
    assert segment.condition == {"$and": [{"geo.country": {"$in": ["AT"]}}]}
    assert segment.summary == "Visitors from Austria"
    assert current_segments().get("austria") is not None


def test_invalid_rule_shows_error_not_500(editor_client: Any) -> None:
    url = reverse("wagtailsnippets_personalize_segment:add")
    response = editor_client.post(
        url,
        _form(
            "Broken",
            "broken",
            [("advanced", {"description": "", "condition_json": '{"x": {"$nope": 1}}'})],
        ),
    )
    assert response.status_code == 200
    assert "Invalid condition" in response.content.decode()
    assert not Segment.objects.filter(slug="broken").exists()


def test_list_shows_summary_and_searches(editor_client: Any, segment_factory: Any) -> None:
    segment_factory(
        "Mobile visitors", rules=[{"type": "device_type", "value": {"values": ["mobile"]}}]
    )
    segment_factory(
        "Night owls",
        rules=[{"type": "time_window", "value": {"start": "23:00:00", "end": "04:00:00"}}],
    )
    url = reverse("wagtailsnippets_personalize_segment:list")
    html = editor_client.get(url).content.decode()
    assert "Visitors on a mobile phone" in html
    assert "Visitors between 23:00 and 04:00 local time" in html
    found = editor_client.get(url, {"q": "owls"}).content.decode()
    assert "Night owls" in found
    assert "Mobile visitors" not in found


def test_edit_form_renders_every_rule_type(editor_client: Any, segment_factory: Any) -> None:
    segment = segment_factory(
        "Edit me", rules=[{"type": "device_type", "value": {"values": ["tablet"]}}]
    )
    url = reverse("wagtailsnippets_personalize_segment:edit", args=[segment.pk])
    html = editor_client.get(url).content.decode()
    assert "Country is one of" in html
    assert "Advanced condition (JSON)" in html
    assert "Group of rules" in html


def test_segments_menu_item(editor_client: Any) -> None:
    html = editor_client.get(reverse("wagtailadmin_home")).content.decode()
    assert reverse("wagtailsnippets_personalize_segment:list") in html
