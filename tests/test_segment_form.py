"""The segment form helps while editing: slug from the name, the live sentence and audience
estimate from its endpoint, and the chooser that says who each segment is."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.test import Client
from django.urls import reverse
from wagtail.test.utils.form_data import streamfield

from personalize.analytics.counters import VisitSample
from personalize.analytics.samples import forget_loaded_samples
from personalize.analytics.store import counter_store
from personalize.models import Segment

pytestmark = pytest.mark.django_db

URL = "wagtailsnippets_personalize_segment:describe_rules"
XHR = {"X-Requested-With": "XMLHttpRequest"}


@pytest.fixture
def editor_client(client: Any) -> Any:
    admin = User.objects.create_superuser("admin", "admin@example.com", "pw")
    client.force_login(admin)
    return client


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, name + "-"))
        else:
            flat[name] = value
    return flat


def _rules(rules: list[tuple[str, dict[str, Any]]], match: str = "all") -> dict[str, Any]:
    return _flatten({"match": match, "rules": streamfield(rules)})


def _describe(client: Any, data: Any, **kwargs: Any) -> Any:
    return client.post(reverse(URL), data, headers=XHR, **kwargs)


def test_the_sentence_of_valid_rules_is_the_summary_saving_stores(editor_client: Any) -> None:
    rules = [("country", {"values": ["AT"]}), ("device_type", {"values": ["mobile"]})]
    response = _describe(editor_client, _rules(rules))
    assert response.status_code == 200
    data = response.json()
    assert data["sentence"] == "Visitors from Austria on a mobile phone"
    assert data["problems"] == []
    assert data["estimate"].startswith("No recorded page views yet")

    saved = editor_client.post(
        reverse("wagtailsnippets_personalize_segment:add"),
        {"name": "Austrian phones", "slug": "austrian-phones", "enabled": "on", **_rules(rules)},
    )
    assert saved.status_code == 302
    assert Segment.objects.get(slug="austrian-phones").summary == data["sentence"]


def test_any_rule_reads_with_or(editor_client: Any) -> None:
    rules = [("country", {"values": ["AT"]}), ("device_type", {"values": ["tablet"]})]
    data = _describe(editor_client, _rules(rules, match="any")).json()
    assert data["sentence"] == "Visitors from Austria, or on a tablet"


def test_no_rules_is_every_visitor(editor_client: Any) -> None:
    data = _describe(editor_client, _rules([])).json()
    assert data == {
        "sentence": "All visitors",
        "problems": [],
        "estimate": data["estimate"],
    }
    assert data["estimate"].startswith("No recorded page views yet")


def test_an_incomplete_rule_is_named_and_left_out_of_the_sentence(editor_client: Any) -> None:
    rules = [("country", {"values": []}), ("device_type", {"values": ["mobile"]})]
    response = _describe(editor_client, _rules(rules))
    assert response.status_code == 200
    data = response.json()
    assert data["sentence"] == "Visitors on a mobile phone"
    assert len(data["problems"]) == 1
    assert data["problems"][0]["rule"] == 1
    assert data["problems"][0]["message"].startswith(
        "Rule 1 (Country is one of), left out until it is complete: "
    )
    assert data["estimate"] == "The estimate appears when every rule is complete."


def test_invalid_json_in_an_advanced_rule_gets_a_clear_message(editor_client: Any) -> None:
    rules = [("advanced", {"description": "", "condition_json": '{"device.type": '})]
    data = _describe(editor_client, _rules(rules)).json()
    assert data["sentence"] == "All visitors"
    [problem] = data["problems"]
    assert problem["rule"] == 1
    assert "Rule 1 (Advanced condition (JSON)), left out" in problem["message"]
    assert "Not valid JSON" in problem["message"]


def test_deeply_nested_json_in_an_advanced_rule_is_a_problem_not_an_error(
    editor_client: Any,
) -> None:
    rules = [("advanced", {"description": "", "condition_json": "[" * 100_000})]
    response = _describe(editor_client, _rules(rules))
    assert response.status_code == 200
    [problem] = response.json()["problems"]
    assert "Not valid JSON" in problem["message"]


def test_an_invalid_condition_in_an_advanced_rule_is_reported(editor_client: Any) -> None:
    rules = [("advanced", {"description": "", "condition_json": '{"x": {"$nope": 1}}'})]
    [problem] = _describe(editor_client, _rules(rules)).json()["problems"]
    assert "Invalid condition" in problem["message"]


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"match": "all"},
        {"rules-count": "many"},
        {"rules-count": "1"},
        {"rules-count": "1", "rules-0-deleted": "", "rules-0-type": "country"},
        {"rules-count": "99999999"},
    ],
)
def test_data_without_readable_rules_gets_a_400_with_a_message(
    editor_client: Any, data: dict[str, str]
) -> None:
    response = _describe(editor_client, data)
    assert response.status_code == 400
    assert response.json()["error"].startswith("The rules could not be read")


def test_garbage_never_gives_a_server_error(editor_client: Any) -> None:
    garbage = [
        b'{"rules": [1, 2, 3]}',
        b"\xff\xfe\x00rules-count=\xff",
        b"rules-count=1&rules-0-deleted=&rules-0-type=nope&rules-0-order=0",
        b"rules-count=1&rules-0-deleted=&rules-0-type=time_window&rules-0-order=x",
        b"rules-count=1&rules-0-deleted=&rules-0-type=time_window&rules-0-order=0"
        b"&rules-0-value-start=25:99&rules-0-value-end=",
        b"rules-count=1&rules-0-deleted=&rules-0-type=rule_group&rules-0-order=0"
        b"&rules-0-value-match=zzz&rules-0-value-rules-count=0",
        b"match=%00&rules-count=0",
    ]
    for body in garbage:
        response = editor_client.post(
            reverse(URL), body, content_type="application/x-www-form-urlencoded", headers=XHR
        )
        assert response.status_code in (200, 400), body
        assert set(response.json()) & {"error", "sentence"}, body


def test_a_time_window_with_a_bad_time_is_a_problem_not_an_error(editor_client: Any) -> None:
    rules = [("time_window", {"start": "25:99", "end": "10:00"})]
    [problem] = _describe(editor_client, _rules(rules)).json()["problems"]
    assert problem["message"].startswith(
        "Rule 1 (Local time between), left out until it is complete: From: "
    )


def test_a_visitor_without_admin_access_gets_403(client: Any) -> None:
    client.force_login(User.objects.create_user("reader", password="pw"))
    response = _describe(client, _rules([]))
    assert response.status_code == 403


def test_an_editor_without_segment_permissions_gets_403(client: Any) -> None:
    user = User.objects.create_user("writer", password="pw")
    group = Group.objects.create(name="Writers")
    group.permissions.add(Permission.objects.get(codename="access_admin"))
    user.groups.add(group)
    client.force_login(user)
    response = _describe(client, _rules([]))
    assert response.status_code == 403
    assert response.json() == {"error": "You do not have permission to edit segments."}


def test_an_editor_who_may_add_segments_gets_the_sentence(client: Any) -> None:
    user = User.objects.create_user("segmenter", password="pw")
    group = Group.objects.create(name="Segmenters")
    group.permissions.add(
        Permission.objects.get(codename="access_admin"),
        Permission.objects.get(codename="add_segment"),
    )
    user.groups.add(group)
    client.force_login(user)
    data = _describe(client, _rules([("device_type", {"values": ["tablet"]})])).json()
    assert data["sentence"] == "Visitors on a tablet"


def test_the_endpoint_needs_the_csrf_token() -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(User.objects.create_superuser("admin", "admin@example.com", "pw"))
    assert _describe(client, _rules([])).status_code == 403


def test_the_endpoint_answers_only_post(editor_client: Any) -> None:
    assert editor_client.get(reverse(URL), headers=XHR).status_code == 405


def test_the_estimate_comes_from_the_sample(editor_client: Any) -> None:
    today = datetime.now(UTC).date()
    store = counter_store()
    visits = [("AT", "mobile")] * 30 + [("DE", "mobile")] * 50 + [("AT", "desktop")] * 20
    for country, device in visits:
        snapshot = {"geo": {"country": country}, "device": {"type": device}}
        store.add_sample(today, VisitSample(json.dumps(snapshot), 0.5, 1000))
    forget_loaded_samples()
    rules = [("country", {"values": ["AT"]}), ("device_type", {"values": ["mobile"]})]
    data = _describe(editor_client, _rules(rules)).json()
    assert data["estimate"] == "About 30 page views in the last 7 days would have matched."
    rules = [("city", {"values": "Vienna"})]
    data = _describe(editor_client, _rules(rules)).json()
    assert data["estimate"].startswith("No estimate: the sample of page views does not hold")
    assert "geo.city" in data["estimate"]


# --- the form ------------------------------------------------------------------------------------


def test_a_new_segment_s_name_fills_in_its_slug(editor_client: Any) -> None:
    html = editor_client.get(reverse("wagtailsnippets_personalize_segment:add")).content.decode()
    assert 'data-w-sync-target-value="#id_slug"' in html
    assert "w-sync#apply" in html
    assert 'data-controller="w-slug"' in html
    assert "data-personalize-audience" in html
    assert reverse(URL) in html
    assert "personalize/segment_form.js" in html


def test_an_existing_segment_s_slug_stays(editor_client: Any, segment_factory: Any) -> None:
    segment = segment_factory(
        "Tablets", rules=[{"type": "device_type", "value": {"values": ["tablet"]}}]
    )
    url = reverse("wagtailsnippets_personalize_segment:edit", args=[segment.pk])
    html = editor_client.get(url).content.decode()
    assert 'data-controller="w-slug"' in html
    assert "w-sync#apply" not in html
    assert "Visitors on a tablet" in html  # the panel's sentence before any script runs


# --- the chooser ---------------------------------------------------------------------------------


def test_the_chooser_shows_who_each_segment_is(editor_client: Any, segment_factory: Any) -> None:
    segment_factory("Austria", rules=[{"type": "country", "value": {"values": ["AT"]}}])
    segment_factory("Phones", rules=[{"type": "device_type", "value": {"values": ["mobile"]}}])
    url = reverse("wagtailsnippetchoosers_personalize_segment:choose")
    html = editor_client.get(url).json()["html"]
    headers = re.findall(r"<th[^>]*>\s*(\w+)\s*</th>", html)
    assert headers == ["Title", "Who"]
    assert re.search(r">\s*Austria\s*</a>.*?<td[^>]*>\s*Visitors from Austria\s*</td>", html, re.S)
    assert "Visitors from Austria" in html
    assert "Visitors on a mobile phone" in html
    results = reverse("wagtailsnippetchoosers_personalize_segment:choose_results")
    found = editor_client.get(results, {"q": "Phones"}).content.decode()
    assert "Visitors on a mobile phone" in found
    assert "Visitors from Austria" not in found
