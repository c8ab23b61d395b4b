"""The segment version in a real Redis; a Redis that is down means local segments and a log line."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import caches

from personalize.cache import CacheVersionStore
from personalize.models import Segment
from personalize.segments import SegmentRegistry, VersionStoreError
from personalize.visitors.registry import current_segments, registry
from personalize.visitors.visitor import Visitor
from tests.conftest import IPHONE, NOW, redis_cache

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def redis_settings(settings: Any, redis_url: str) -> Any:
    settings.CACHES = {**settings.CACHES, "shared": redis_cache(redis_url)}
    settings.PERSONALIZE = {**settings.PERSONALIZE, "CACHE_ALIAS": "shared"}
    yield settings
    # Only this test's keys: never FLUSHDB a Redis that may hold someone else's data.
    caches["shared"].delete_pattern("*")


@pytest.fixture
def redis_down(settings: Any) -> Any:
    # A closed port: connection refused at once, as when Redis has stopped.
    settings.CACHES = {**settings.CACHES, "shared": redis_cache("redis://127.0.0.1:1/0")}
    settings.PERSONALIZE = {**settings.PERSONALIZE, "CACHE_ALIAS": "shared"}
    return settings


def test_version_lives_in_redis_and_moves_on_save(
    redis_settings: Any, segment_factory: Any
) -> None:
    store = CacheVersionStore()
    before = store.current()
    assert caches["shared"].get(store.key) == before
    segment_factory(rules=[{"type": "device_type", "value": {"values": ["mobile"]}}], slug="phones")
    assert store.current() == before + 1


def test_two_processes_share_changes_through_redis(
    redis_settings: Any, segment_factory: Any
) -> None:
    def loader() -> list[Any]:
        return [s.to_record() for s in Segment.objects.live()]

    process_a = SegmentRegistry(loader, CacheVersionStore())
    process_b = SegmentRegistry(loader, CacheVersionStore())
    assert len(process_a.current()) == len(process_b.current()) == 0
    segment_factory(rules=[{"type": "device_type", "value": {"values": ["mobile"]}}], slug="phones")
    assert process_a.current().get("phones") is not None
    assert process_b.current().get("phones") is not None


def test_flushed_redis_gives_a_new_version(redis_settings: Any) -> None:
    store = CacheVersionStore()
    first = store.current()
    caches["shared"].delete(store.key)  # what a flush or an eviction does to the key
    assert store.current() != first


def test_store_down_raises_version_store_error(redis_down: Any) -> None:
    with pytest.raises(VersionStoreError):
        CacheVersionStore().current()


def test_pages_render_with_redis_down(
    redis_down: Any, segment_factory: Any, make_request: Any, caplog: Any
) -> None:
    segment_factory(rules=[{"type": "device_type", "value": {"values": ["mobile"]}}], slug="phones")
    registry.reset()
    visitor = Visitor(make_request(headers={"User-Agent": IPHONE}), NOW)
    assert [s.slug for s in visitor.segments] == ["phones"]
    assert current_segments().version is None
    assert "shared cache unreachable (" in caplog.text


def test_saving_with_redis_down_keeps_the_data(
    redis_down: Any, segment_factory: Any, caplog: Any
) -> None:
    segment = segment_factory(
        rules=[{"type": "device_type", "value": {"values": ["tablet"]}}], slug="tabs"
    )
    assert Segment.objects.get(pk=segment.pk).summary == "Visitors on a tablet"
    assert "not announced" in caplog.text


@pytest.fixture
def demo_site(db: Any) -> None:
    import io

    from django.core.management import call_command

    call_command("seed_demo", stdout=io.StringIO())


def _consenting_client() -> Any:
    import time

    from django.test import Client

    from personalize.signals.consent import dump_consent_cookie

    client = Client()
    client.cookies["pz_consent"] = dump_consent_cookie(["personalization"], time.time())
    return client


@pytest.mark.django_db  # the demo needs the root page that a transactional flush removes
def test_profiles_are_cached_in_redis_and_erased_from_it(
    redis_settings: Any, demo_site: None
) -> None:
    from personalize.models import Profile

    client = _consenting_client()
    client.get("/")
    client.get("/guides/")  # the new id came back: the profile is stored
    client.get("/journal/")  # and read through Redis
    redis = caches["shared"]
    assert len(redis.keys("*:profile:*")) == 1
    assert Profile.objects.count() == 1
    response = client.post("/personalize/privacy/erase/", {"confirm": "1"})
    assert response.status_code == 303
    assert redis.keys("*:profile:*") == []
    assert Profile.objects.count() == 0
    assert response.cookies["pz_vid"]["max-age"] == 0


@pytest.mark.django_db
def test_pages_and_profiles_work_with_redis_down(
    redis_down: Any, demo_site: None, caplog: Any
) -> None:
    from personalize.models import Profile
    from personalize.rules.scoring import ProfileState

    client = _consenting_client()
    assert client.get("/").status_code == 200
    assert client.get("/guides/").status_code == 200
    # The profile lives in the database; only its cached copy is missing.
    assert ProfileState.from_json(Profile.objects.get().data).visits == 1
    # Logged once, when seeding the demo first met the closed port.
    logged = [r.getMessage() for when in ("setup", "call") for r in caplog.get_records(when)]
    assert sum(m.startswith("shared cache unreachable (") for m in logged) == 1
