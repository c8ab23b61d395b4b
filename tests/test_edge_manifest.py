"""The edge manifest endpoint and GraphQL field: the key, caching, origin-only marking."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import DatabaseError

from personalize.edge import manifest as manifest_module
from personalize.edge.manifest import build_manifest, current_manifest
from personalize.segments import SegmentRecord, SegmentSet
from personalize.views.manifest import FORBIDDEN_MESSAGE

pytestmark = pytest.mark.django_db

URL = "/personalize/manifest.json"
KEY = {"X-Personalize-Frontend-Key": "test-frontend-key"}


@pytest.fixture
def segments(segment_factory: Any) -> dict[str, Any]:
    return {
        "dach": segment_factory(
            "DACH", slug="dach", condition={"geo.country": {"$in": ["DE", "AT", "CH"]}}
        ),
        "phones": segment_factory("Phones", slug="phones", condition={"device.type": "mobile"}),
        "morning": segment_factory(
            "Morning", slug="morning", condition={"time.hour": {"$gte": 6, "$lt": 11}}
        ),
    }


def _entries(body: dict[str, Any]) -> dict[str, Any]:
    return {entry["slug"]: entry for entry in body["segments"] if entry["slug"] in SLUGS}


SLUGS = {"dach", "phones", "morning"}


def test_key_holders_get_the_manifest(client: Any, segments: dict[str, Any]) -> None:
    response = client.get(URL, headers=KEY)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = json.loads(response.content)
    assert body["schema"] == 1
    assert body["time_zone"] == "Europe/Berlin"
    assert body["consent_mode"] == "opt-in"
    assert body["cookies"] == {"consent": "pz_consent", "timezone": "pz_tz"}
    assert body["continents"]["AT"] == "EU"
    assert body["attributes"]["geo.country"]["edge"] is True
    assert body["attributes"]["device.*"]["edge"] is False
    assert set(body["versions"]) == {"segments", "experiments"}
    assert body["generated_at"].endswith("Z")
    entries = _entries(body)
    assert entries["dach"] == {
        "id": segments["dach"].pk,
        "slug": "dach",
        "name": "DACH",
        "edge": True,
        "condition": {"geo.country": {"$in": ["DE", "AT", "CH"]}},
    }
    assert entries["morning"]["condition"] == {
        "time.hour": {"$gte": 6, "$lt": 11, "$type": "number"}
    }
    assert entries["phones"]["edge"] is False
    assert "condition" not in entries["phones"]
    assert entries["phones"]["reason"].startswith('the attribute "device.type" is known only')


def test_cache_headers(client: Any, segments: dict[str, Any]) -> None:
    response = client.get(URL, headers=KEY)
    assert response["Cache-Control"] == "private, no-cache"
    assert "X-Personalize-Frontend-Key" in response["Vary"]
    assert response["ETag"] == current_manifest().etag
    assert response["ETag"].startswith('"') and len(response["ETag"]) == 34
    assert "Set-Cookie" not in response


def test_if_none_match_gives_304(client: Any, segments: dict[str, Any]) -> None:
    etag = client.get(URL, headers=KEY)["ETag"]
    for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        response = client.get(URL, headers={**KEY, "If-None-Match": header})
        assert response.status_code == 304, header
        assert response.content == b""
        assert response["ETag"] == etag
        assert response["Cache-Control"] == "private, no-cache"
    assert client.get(URL, headers={**KEY, "If-None-Match": '"other"'}).status_code == 200


def test_a_saved_segment_changes_the_etag(
    client: Any, segment_factory: Any, django_capture_on_commit_callbacks: Any
) -> None:
    first = client.get(URL, headers=KEY)["ETag"]
    assert client.get(URL, headers=KEY)["ETag"] == first
    with django_capture_on_commit_callbacks(execute=True):
        segment_factory("Austria", slug="austria", condition={"geo.country": "AT"})
    response = client.get(URL, headers={**KEY, "If-None-Match": first})
    assert response.status_code == 200
    assert response["ETag"] != first
    entries = {entry["slug"]: entry for entry in json.loads(response.content)["segments"]}
    assert entries["austria"]["condition"] == {"geo.country": {"$eq": "AT"}}


def test_warm_requests_query_nothing(
    client: Any, segments: dict[str, Any], django_assert_num_queries: Any
) -> None:
    first = client.get(URL, headers=KEY)
    with django_assert_num_queries(0):
        again = client.get(URL, headers=KEY)
        not_modified = client.get(URL, headers={**KEY, "If-None-Match": first["ETag"]})
    assert again.content == first.content
    assert not_modified.status_code == 304


def test_the_manifest_is_built_once_per_version(segments: dict[str, Any]) -> None:
    built = current_manifest()
    assert current_manifest() is built


@pytest.mark.parametrize(
    "headers",
    [{}, {"X-Personalize-Frontend-Key": "guess"}, {"X-Personalize-Frontend-Key": ""}],
)
def test_without_a_valid_key_403_says_nothing_more(
    client: Any, segments: dict[str, Any], headers: dict[str, str]
) -> None:
    response = client.get(URL, headers=headers)
    assert response.status_code == 403
    assert json.loads(response.content) == {"error": FORBIDDEN_MESSAGE}
    assert "ETag" not in response
    assert response["Cache-Control"] == "private, no-store"


def test_no_keys_configured_refuses_everyone(client: Any, settings: Any) -> None:
    settings.PERSONALIZE = {**settings.PERSONALIZE, "FRONTEND_KEYS": [""]}
    response = client.get(URL, headers={"X-Personalize-Frontend-Key": ""})
    assert response.status_code == 403


def test_only_get_and_head(client: Any, segments: dict[str, Any]) -> None:
    assert client.post(URL, headers=KEY).status_code == 405
    head = client.head(URL, headers=KEY)
    assert head.status_code == 200
    assert head["ETag"] == current_manifest().etag


def test_requests_without_a_key_are_rate_limited(client: Any, settings: Any) -> None:
    settings.PERSONALIZE = {**settings.PERSONALIZE, "RATE_LIMITS": {"manifest": "2/m"}}
    codes = [client.get(URL).status_code for _ in range(3)]
    assert codes == [403, 403, 429]
    limited = client.get(URL, headers={"X-Personalize-Frontend-Key": "guess"})
    assert limited.status_code == 429
    assert json.loads(limited.content) == {"error": "Too many requests"}
    assert int(limited["Retry-After"]) >= 1
    assert client.get(URL, headers=KEY).status_code == 200


def test_unloadable_segments_give_503(client: Any, monkeypatch: Any) -> None:
    def broken() -> Any:
        raise DatabaseError("connection refused to 10.1.2.3")

    monkeypatch.setattr("personalize.views.manifest.current_manifest", broken)
    response = client.get(URL, headers=KEY)
    assert response.status_code == 503
    assert json.loads(response.content) == {"error": "The manifest is not available right now."}


def test_settings_change_rebuilds(client: Any, settings: Any, segments: dict[str, Any]) -> None:
    client.get(URL, headers=KEY)
    assert manifest_module._memo
    settings.PERSONALIZE = {**settings.PERSONALIZE, "CONSENT_MODE": "opt-out"}
    assert not manifest_module._memo
    assert json.loads(client.get(URL, headers=KEY).content)["consent_mode"] == "opt-out"


QUERY = {"query": "{ edgeManifest }"}


def test_graphql_field_gives_the_same_json(client: Any, segments: dict[str, Any]) -> None:
    response = client.post("/graphql/", QUERY, content_type="application/json", headers=KEY)
    result = json.loads(response.content)
    assert "errors" not in result
    assert json.loads(result["data"]["edgeManifest"]) == current_manifest().data
    assert _entries(json.loads(result["data"]["edgeManifest"]))["phones"]["edge"] is False


def test_graphql_field_needs_the_key(client: Any, segments: dict[str, Any]) -> None:
    response = client.post("/graphql/", QUERY, content_type="application/json")
    result = json.loads(response.content)
    assert result["data"] is None
    assert result["errors"][0]["message"] == (
        "edgeManifest needs a valid front-end key in the X-Personalize-Frontend-Key header."
    )


@pytest.mark.parametrize("header", ['"', "garbage", "W/", ",,,", "x" * 10_000, '"\x00"', "é"])
def test_odd_if_none_match_headers_get_the_manifest(
    client: Any, segments: dict[str, Any], header: str
) -> None:
    response = client.get(URL, headers={**KEY, "If-None-Match": header})
    assert response.status_code == 200
    assert json.loads(response.content)["schema"] == 1


def test_odd_keys_are_refused_like_any_other(client: Any) -> None:
    for key in ("é" * 300, "test-frontend-key ", "TEST-FRONTEND-KEY", "\x00"):
        response = client.get(URL, headers={"X-Personalize-Frontend-Key": key})
        assert response.status_code == 403, key
        assert json.loads(response.content) == {"error": FORBIDDEN_MESSAGE}


def test_graphql_answers_to_key_holders_are_kept_from_shared_caches(
    client: Any, segments: dict[str, Any]
) -> None:
    # A GET answer holding the manifest must not be stored by a shared cache and served, by
    # URL, to a client without the key.
    response = client.get("/graphql/", QUERY, headers=KEY)
    assert json.loads(response.content)["data"]["edgeManifest"]
    assert "private" in response["Cache-Control"]
    assert "X-Personalize-Frontend-Key" in response["Vary"]


def test_a_lone_surrogate_in_a_segment_does_not_break_the_manifest() -> None:
    # Stored JSON may hold "\ud83d" escapes (SQLite keeps them; PostgreSQL refuses them): the
    # manifest is ASCII JSON, so the endpoint answers rather than failing to encode it.
    record = SegmentRecord(id=1, slug="odd", name="Odd", condition={"query.q": {"$eq": "\ud83d"}})
    built = build_manifest(SegmentSet([record], version=1), experiments_version=1)
    assert b"\\ud83d" in built.body
    assert json.loads(built.body)["segments"][0]["condition"] == {"query.q": {"$eq": "\ud83d"}}


def test_keys_written_as_one_string_are_one_key(client: Any, settings: Any) -> None:
    # FRONTEND_KEYS = "secret" (not a list) must not make each of its letters a key.
    settings.PERSONALIZE = {**settings.PERSONALIZE, "FRONTEND_KEYS": "test-frontend-key"}
    assert client.get(URL, headers={"X-Personalize-Frontend-Key": "t"}).status_code == 403
    assert client.get(URL, headers=KEY).status_code == 200
    guess = {"X-Personalize-Frontend-Key": "t"}
    answer = client.post("/graphql/", QUERY, content_type="application/json", headers=guess)
    assert json.loads(answer.content)["data"] is None


def test_an_edited_or_disabled_segment_changes_the_manifest(
    client: Any, segments: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    before = client.get(URL, headers=KEY)
    dach = segments["dach"]
    dach.condition = {"geo.country": "CH"}
    with django_capture_on_commit_callbacks(execute=True):
        dach.save()
    edited = client.get(URL, headers={**KEY, "If-None-Match": before["ETag"]})
    assert edited.status_code == 200
    assert _entries(json.loads(edited.content))["dach"]["condition"] == {
        "geo.country": {"$eq": "CH"}
    }
    dach.enabled = False
    with django_capture_on_commit_callbacks(execute=True):
        dach.save()
    disabled = client.get(URL, headers={**KEY, "If-None-Match": edited["ETag"]})
    assert disabled.status_code == 200
    assert "dach" not in _entries(json.loads(disabled.content))
