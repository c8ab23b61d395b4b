"""The shared cache's failure boundary: circuit breaker, one read per request, one write per
request, counts kept through an outage, lost data reported by the flush, Redis checks."""

from __future__ import annotations

import io
import logging
import socket
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from benchmarks.redis_commands import counting
from personalize import cache
from personalize.analytics import pending as pending_module
from personalize.analytics.counters import AnalyticsUnavailable, VisitRecord
from personalize.analytics.flush import flush
from personalize.analytics.local_store import LocalCounterStore
from personalize.analytics.pending import PendingCounts, count
from personalize.analytics.redis_store import RedisCounterStore
from personalize.analytics.store import counter_store, reset_counter_store
from personalize.cache import CacheUnavailable, CacheVersionStore, CircuitBreaker
from personalize.checks import check_redis
from personalize.models import StoreEpoch
from personalize.visitors.visitor import Visitor
from tests.conftest import IPHONE, NOW, redis_cache

DAY = date(2026, 11, 25)
VISITOR = "a" * 32


class FakeClock:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Flaky:
    """A cache call that fails while ``down`` and counts its calls."""

    def __init__(self) -> None:
        self.down = True
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.down:
            raise ConnectionRefusedError("connection refused")
        return "ok"


# --- the circuit breaker -------------------------------------------------------------------------


def test_breaker_skips_calls_for_the_back_off_after_a_failure(caplog: Any) -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(3.0, clock)
    call = Flaky()
    caplog.set_level(logging.DEBUG, logger="personalize.cache")
    with pytest.raises(CacheUnavailable, match="connection refused"):
        breaker.call(call)
    for _ in range(50):
        with pytest.raises(CacheUnavailable, match="circuit open"):
            breaker.call(call)
    assert call.calls == 1
    assert breaker.skipped == 50
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    assert warnings[0].startswith("shared cache unreachable (ConnectionRefusedError")


def test_one_trial_call_after_the_window_then_closed_again(caplog: Any) -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(3.0, clock)
    call = Flaky()
    caplog.set_level(logging.WARNING, logger="personalize.cache")
    with pytest.raises(CacheUnavailable):
        breaker.call(call)
    clock.now += 3.0
    with pytest.raises(CacheUnavailable, match="connection refused"):
        breaker.call(call)  # the trial fails: another window
    assert call.calls == 2
    assert breaker.is_open
    clock.now += 3.0
    call.down = False
    assert breaker.call(call) == "ok"
    assert not breaker.is_open
    assert breaker.call(call) == "ok"
    assert call.calls == 4
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2
    assert messages[1] == "shared cache reachable again after 6.0 s (0 calls skipped)"


def test_only_one_thread_makes_the_trial_call() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(3.0, clock)
    with pytest.raises(CacheUnavailable):
        breaker.call(Flaky())
    clock.now += 3.0
    release = threading.Event()
    started = threading.Event()
    calls: list[str] = []

    def slow_trial() -> str:
        calls.append("trial")
        started.set()
        release.wait(5)
        return "ok"

    trial = threading.Thread(target=breaker.call, args=(slow_trial,))
    trial.start()
    started.wait(5)
    # While the trial is in flight, everyone else skips.
    for _ in range(5):
        with pytest.raises(CacheUnavailable, match="circuit open"):
            breaker.call(lambda: calls.append("other"))
    release.set()
    trial.join(5)
    assert calls == ["trial"]
    assert not breaker.is_open


def test_errors_that_are_not_cache_errors_pass_through_untouched() -> None:
    breaker = CircuitBreaker(3.0, FakeClock())

    def broken() -> None:
        raise KeyError("a bug, not an outage")

    with pytest.raises(KeyError, match="a bug"):
        breaker.call(broken)
    assert not breaker.is_open


def test_back_off_follows_the_setting(settings: Any) -> None:
    settings.PERSONALIZE = {**settings.PERSONALIZE, "CACHE_BACKOFF_SECONDS": 0.5}
    assert cache.breaker.backoff == 0.5


# --- a hung Redis costs one timeout per window ---------------------------------------------------


@pytest.fixture
def hung_redis(settings: Any) -> Iterator[dict[str, int]]:
    """A server that accepts connections and never answers, as a Redis stopped by SIGSTOP."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    port = server.getsockname()[1]
    seen = {"connections": 0}
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            seen["connections"] += 1
            held.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    config = redis_cache(f"redis://127.0.0.1:{port}/0")
    config["OPTIONS"] = {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2}
    settings.CACHES = {**settings.CACHES, "shared": config}
    settings.PERSONALIZE = {**settings.PERSONALIZE, "CACHE_ALIAS": "shared"}
    reset_counter_store()
    yield seen
    stop.set()
    thread.join(2)
    for conn in held:
        conn.close()
    server.close()


@pytest.mark.django_db
def test_a_hung_redis_is_called_once_per_window(
    hung_redis: dict[str, int], segment_factory: Any, make_request: Any
) -> None:
    from personalize.analytics.recording import record_request

    segment_factory(rules=[{"type": "device_type", "value": {"values": ["mobile"]}}], slug="phones")
    for _ in range(20):
        with cache.request_reads():
            visitor = Visitor(make_request(headers={"User-Agent": IPHONE}), NOW)
            assert [s.slug for s in visitor.segments] == ["phones"]
            record_request(visitor)
    # The first request waited for one timeout; the 19 after it skipped their read at once.
    assert hung_redis["connections"] == 1
    assert cache.breaker.skipped == 19


# --- one read and one write per request ----------------------------------------------------------


@pytest.fixture
def redis_settings(settings: Any, redis_url: str) -> Iterator[Any]:
    from django_redis import get_redis_connection

    prefix = f"test-res-{uuid.uuid4().hex[:8]}"
    settings.CACHES = {**settings.CACHES, "shared": redis_cache(redis_url)}
    settings.PERSONALIZE = {
        **settings.PERSONALIZE,
        "CACHE_ALIAS": "shared",
        "CACHE_KEY_PREFIX": prefix,
    }
    reset_counter_store()
    yield settings
    from django.core.cache import caches

    caches["shared"].delete_pattern("*")
    client = get_redis_connection("shared")
    keys = list(client.scan_iter(match=f"{prefix}:*"))
    if keys:
        client.delete(*keys)
    reset_counter_store()


@pytest.fixture
def demo_site(db: Any) -> None:
    call_command("seed_demo", stdout=io.StringIO())


def _consenting_client() -> Any:
    import time

    from django.test import Client

    from personalize.signals.consent import dump_consent_cookie
    from personalize.visitors.identity import dump_visitor_id

    client = Client()
    client.cookies["pz_consent"] = dump_consent_cookie(
        ["personalization", "analytics"], time.time()
    )
    client.cookies["pz_vid"] = dump_visitor_id(uuid.uuid4().hex)
    return client


@pytest.mark.redis
@pytest.mark.django_db
def test_a_page_costs_one_read_and_one_write(redis_settings: Any, demo_site: None) -> None:
    from django.test import Client

    anonymous = Client()
    # Warm: compiled segments, configuration (the journal page, whose visit panel is a fragment
    # now, reads no segment: the home page's personalized block does).
    anonymous.get("/")
    with counting() as counts:
        assert anonymous.get("/").status_code == 200
    assert counts == {"round trips": 2, "commands": 2}  # MGET of the versions, the counting script

    consenting = _consenting_client()
    for _ in range(3):
        consenting.get("/journal/")  # a returning visitor: profile row and its cached copy
    with counting() as counts:
        assert consenting.get("/journal/").status_code == 200
    # MGET of versions and profile copy; the profile write's cache update; the counting script.
    assert counts["round trips"] <= 3


@pytest.mark.redis
@pytest.mark.django_db
def test_the_request_reads_versions_and_profile_in_one_mget(redis_settings: Any) -> None:
    from personalize.profiles.store import ProfileKey, profile_store

    key = ProfileKey(visitor_id=VISITOR)
    with cache.request_reads(lambda: [key.cache_key]), counting() as counts:
        for store_name in ("segments", "config", "goals", "experiments"):
            CacheVersionStore(store_name).current()  # missing at first: created once each
        assert profile_store().load(key) is None
        first = dict(counts)
        for store_name in ("segments", "config", "goals", "experiments"):
            CacheVersionStore(store_name).current()
        profile_store().load(key)
    assert counts == first  # the second round costs nothing
    with cache.request_reads(lambda: [key.cache_key]), counting() as counts:
        for store_name in ("segments", "config", "goals", "experiments"):
            CacheVersionStore(store_name).current()
        assert profile_store().load(key) is None
    assert counts == {"round trips": 1, "commands": 1}


# --- counting in one script ----------------------------------------------------------------------


@pytest.mark.redis
@pytest.mark.django_db
def test_record_counts_exposures_and_uniques_once(redis_settings: Any) -> None:
    store = counter_store()
    assert isinstance(store, RedisCounterStore)
    visit = VisitRecord(
        visitor_id=VISITOR,
        now="1764059400",
        exposures=("12|b|v|-|3",),
        marker="segs|2026-11-25|abc",
        segment_ids=(3, 4),
    )
    with counting() as counts:
        store.record(DAY, {"imp|12|b|v|-|3": 1}, visit)
    assert counts == {"round trips": 1, "commands": 1}
    store.record(DAY, {"imp|12|b|v|-|3": 1}, visit)
    assert store.live_counts([DAY])[DAY] == {"imp|12|b|v|-|3": 2, "exp|12|b|v|-|3": 1}
    assert store.unique_visitors(3, [DAY]) == store.unique_visitors(4, [DAY]) == 1
    assert store.visitor_fields(VISITOR) == {
        "seen|12|b|v|-|3": "1764059400",
        "segs|2026-11-25|abc": "1",
    }
    assert store.epoch() is not None
    assert store.live_days() == [DAY]


def test_the_local_store_records_the_same(redis_settings: Any = None) -> None:
    store = LocalCounterStore()
    visit = VisitRecord(VISITOR, "1", ("p|b|v|-|3",), "segs|x", (3,))
    store.record(DAY, {"imp|p|b|v|-|3": 1}, visit)
    store.record(DAY, {"imp|p|b|v|-|3": 1}, visit)
    assert store.live_counts([DAY])[DAY] == {"imp|p|b|v|-|3": 2, "exp|p|b|v|-|3": 1}
    assert store.unique_visitors(3, [DAY]) == 1
    assert store.epoch() is None


# --- counts kept through an outage ---------------------------------------------------------------


class SwitchableStore(LocalCounterStore):
    """A local store that can be taken down."""

    down = False

    def record(self, day: date, counts: Any, visit: Any) -> None:
        if self.down:
            raise AnalyticsUnavailable("down")
        super().record(day, counts, visit)

    def add(self, day: date, counts: Any) -> None:
        if self.down:
            raise AnalyticsUnavailable("down")
        super().add(day, counts)


def test_counts_made_during_an_outage_reach_the_store_after_it(
    caplog: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(pending_module, "pending", PendingCounts())
    store = SwitchableStore()
    store.down = True
    visit = VisitRecord(VISITOR, "1", ("p|b|v|-|3",))
    assert count(DAY, {"imp|p|b|v|-|3": 1}, visit, store=store) is False
    assert count(DAY, {"imp|p|b|v|-|3": 2, "goal|1|-": 1}, store=store) is False
    store.down = False
    caplog.set_level(logging.WARNING, logger="personalize.analytics.pending")
    assert count(DAY, {"imp|p|b|v|-|3": 1}, store=store) is True
    assert store.live_counts([DAY])[DAY] == {"imp|p|b|v|-|3": 4, "goal|1|-": 1}
    assert [r.getMessage() for r in caplog.records] == [
        "analytics store reachable again: 4 counts kept during the outage were added, "
        "0 dropped (buffer full), 1 consenting visits without exposure bookkeeping"
    ]
    assert not pending_module.pending


def test_the_buffer_is_bounded_and_counts_what_it_drops() -> None:
    held = PendingCounts(limit=2)
    held.keep(DAY, {"a": 1, "b": 1, "c": 5}, None)
    held.keep(DAY, {"a": 1, "d": 2}, None)
    counts, dropped, skipped = held.take()
    assert counts == {DAY: {"a": 2, "b": 1}}
    assert (dropped, skipped) == (7, 0)
    assert not held


def test_counts_stay_held_when_the_store_fails_again_while_sending(monkeypatch: Any) -> None:
    monkeypatch.setattr(pending_module, "pending", PendingCounts())
    store = SwitchableStore()
    store.down = True
    count(DAY, {"x": 3}, store=store)
    store.down = False

    calls = {"n": 0}
    original_add = store.add

    def add_then_fail(day: date, counts: Any) -> None:
        if counts == {"x": 3}:  # sending the held counts: the store fails again
            calls["n"] += 1
            raise AnalyticsUnavailable("down again")
        original_add(day, counts)

    monkeypatch.setattr(store, "add", add_then_fail)
    assert count(DAY, {"y": 1}, store=store) is True
    assert calls["n"] == 1
    monkeypatch.setattr(store, "add", original_add)
    assert count(DAY, {"y": 1}, store=store) is True
    assert store.live_counts([DAY])[DAY] == {"x": 3, "y": 2}


# --- the flush reports a store that lost its data ------------------------------------------------


@pytest.mark.redis
@pytest.mark.django_db
def test_flush_reports_a_store_that_lost_its_data(redis_settings: Any) -> None:
    from django_redis import get_redis_connection

    store = counter_store()
    today = datetime.now(UTC).date()
    store.record(today, {"seg|1": 5}, None)
    assert flush().lost_since is None  # first flush: the epoch is recorded
    first = StoreEpoch.objects.get(name="analytics")
    store.record(today, {"seg|1": 7}, None)
    # Redis restarts without persistence: every key is gone, then counting goes on.
    client = get_redis_connection("shared")
    prefix = redis_settings.PERSONALIZE["CACHE_KEY_PREFIX"]
    client.delete(*client.scan_iter(match=f"{prefix}:*"))
    store.record(today, {"seg|1": 2}, None)
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError, match=r"DATA LOST: the analytics store lost its data after"):
        call_command("personalize_flush_analytics", stdout=out, stderr=err)
    assert StoreEpoch.objects.get(name="analytics").epoch != first.epoch
    from personalize.models import DailyCount

    assert DailyCount.objects.get(field="seg|1").count == 7  # 5 flushed + 2 after the loss
    # Reported once: the next run is clean.
    call_command("personalize_flush_analytics", stdout=out)
    assert out.getvalue().strip().endswith("Flushed 0 batches, 0 counters.")


@pytest.mark.django_db
def test_flush_with_a_process_local_store_checks_no_epoch() -> None:
    store = counter_store()
    store.record(datetime.now(UTC).date(), {"seg|1": 1}, None)
    assert flush().lost_since is None
    assert not StoreEpoch.objects.exists()


# --- system checks on the package's Redis -------------------------------------------------------


def test_check_warns_without_socket_timeouts(settings: Any) -> None:
    settings.CACHES = {
        **settings.CACHES,
        "shared": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"},
    }
    settings.PERSONALIZE = {**settings.PERSONALIZE, "CACHE_ALIAS": "shared"}
    ids = [m.id for m in check_redis()]
    assert ids == ["personalize.W004"]


@pytest.mark.redis
def test_check_reads_persistence_and_eviction_from_redis(
    redis_settings: Any, monkeypatch: Any
) -> None:
    from personalize import checks

    monkeypatch.setattr(
        checks, "redis_config", lambda: {"appendonly": "no", "maxmemory-policy": "allkeys-lru"}
    )
    messages = check_redis()
    assert [m.id for m in messages] == ["personalize.W005", "personalize.W006"]
    assert "a restart loses them" in messages[0].msg
    assert "eviction drops them" in messages[1].msg
    monkeypatch.undo()
    # The real server answers too (CONFIG GET, or INFO where CONFIG is disabled).
    config = checks.redis_config()
    assert config["appendonly"] in ("yes", "no")
    assert config["maxmemory-policy"]


# --- the site's own caches behind a breaker ------------------------------------------------------


def _breaker_cache(location: str, **options: Any) -> Any:
    from personalize.cache_backend import CircuitBreakerRedisCache

    return CircuitBreakerRedisCache(
        location,
        {
            "OPTIONS": {
                "SOCKET_CONNECT_TIMEOUT": 0.2,
                "SOCKET_TIMEOUT": 0.2,
                "CIRCUIT_BREAKER_SECONDS": 3.0,
                **options,
            }
        },
    )


def test_breaker_cache_turns_an_outage_into_misses_without_calling_again(caplog: Any) -> None:
    site_cache = _breaker_cache("redis://127.0.0.1:1/0", IGNORE_EXCEPTIONS=True)
    caplog.set_level(logging.WARNING, logger="personalize.cache")
    assert site_cache.get("wagtail_site_root_paths") is None
    assert site_cache.get("wagtail_site_root_paths", "fallback") == "fallback"
    site_cache.set("k", 1)
    assert site_cache.get_many(["a", "b"]) == {}
    assert site_cache.breaker.skipped == 3
    assert [r.getMessage().split(" (")[0] for r in caplog.records] == [
        "cache 'redis://127.0.0.1:1/0' unreachable"
    ]


def test_breaker_cache_without_ignore_exceptions_raises_a_connection_error() -> None:
    from redis.exceptions import ConnectionError as RedisConnectionError

    site_cache = _breaker_cache("redis://127.0.0.1:1/0")
    with pytest.raises(RedisConnectionError, match="refused"):
        site_cache.get("k")
    with pytest.raises(RedisConnectionError, match="circuit open"):
        site_cache.get("k")


def test_breaker_cache_waits_for_a_hung_redis_once_per_window(hung_redis: dict[str, int]) -> None:
    from django.conf import settings

    location = settings.CACHES["shared"]["LOCATION"]
    site_cache = _breaker_cache(location, IGNORE_EXCEPTIONS=True)
    for _ in range(20):
        assert site_cache.get("wagtail_site_root_paths") is None
    assert hung_redis["connections"] == 1
    assert site_cache.breaker.skipped == 19


@pytest.mark.redis
def test_breaker_cache_works_as_django_redis(redis_url: str) -> None:
    from django_redis import get_redis_connection  # noqa: F401  (the raw client stays reachable)

    site_cache = _breaker_cache(redis_url, IGNORE_EXCEPTIONS=True)
    site_cache.key_prefix = f"test-bc-{uuid.uuid4().hex[:8]}"
    site_cache.set("a", {"x": 1}, 30)
    assert site_cache.get("a") == {"x": 1}
    assert site_cache.get_many(["a", "missing"]) == {"a": {"x": 1}}
    assert site_cache.incr("n", 1) if site_cache.add("n", 1) else True
    assert site_cache.client.get_client(write=False).ping() is True
    site_cache.delete_many(["a", "n"])
    assert site_cache.get("a") is None


def test_checks_know_the_breaker_backend_is_redis(settings: Any) -> None:
    settings.CACHES = {
        **settings.CACHES,
        "shared": {
            "BACKEND": "personalize.cache_backend.CircuitBreakerRedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        },
    }
    settings.PERSONALIZE = {**settings.PERSONALIZE, "CACHE_ALIAS": "shared"}
    assert [m.id for m in check_redis()] == ["personalize.W004"]
    assert isinstance(counter_store(), RedisCounterStore)


# --- a database that fails after the page was rendered ------------------------------------------


@pytest.mark.django_db
def test_a_database_error_while_tracking_costs_the_view_not_the_page(
    demo_site: None, monkeypatch: Any, caplog: Any
) -> None:
    from django.db import OperationalError

    from personalize import middleware

    def terminated(*args: Any, **kwargs: Any) -> bool:
        raise OperationalError("terminating connection due to administrator command")

    monkeypatch.setattr(middleware, "track", terminated)
    client = _consenting_client()
    caplog.set_level(logging.WARNING, logger="personalize.middleware")
    response = client.get("/journal/")
    assert response.status_code == 200
    assert [r.getMessage() for r in caplog.records] == [
        "page view not tracked, the database failed: OperationalError"
    ]
