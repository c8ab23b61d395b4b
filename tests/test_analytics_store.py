"""The counter store: the same behaviour in process memory, in a file and in a real Redis; Redis
down."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest

from personalize.analytics import store as store_module
from personalize.analytics.counters import (
    DAY_TTL,
    UNIQUE_TTL,
    AnalyticsUnavailable,
    BaseCounterStore,
    batch_day,
)
from personalize.analytics.file_store import FileCounterStore
from personalize.analytics.local_store import LocalCounterStore
from personalize.analytics.redis_store import RedisCounterStore
from personalize.analytics.store import counter_store, reset_counter_store, safely
from tests.conftest import redis_cache

DAY = date(2026, 11, 25)
NEXT_DAY = DAY + timedelta(days=1)
VISITOR = "0123456789abcdef0123456789abcdef"
IMP = "imp|12|b" + "0" * 31 + "|v" + "1" * 31 + "|0|3"


class FakeClock:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def redis_store(settings: Any, redis_url: str) -> Iterator[RedisCounterStore]:
    """The process's store on a real Redis, under a key prefix of its own."""
    from django_redis import get_redis_connection

    prefix = f"test-an-{uuid.uuid4().hex[:8]}"
    settings.CACHES = {**settings.CACHES, "shared": redis_cache(redis_url)}
    settings.PERSONALIZE = {
        **settings.PERSONALIZE,
        "CACHE_ALIAS": "shared",
        "CACHE_KEY_PREFIX": prefix,
    }
    reset_counter_store()
    store = counter_store()
    assert isinstance(store, RedisCounterStore)
    yield store
    # Only this test's keys: never FLUSHDB a Redis that may hold someone else's data.
    client = get_redis_connection("shared")
    keys = list(client.scan_iter(match=f"{prefix}:*"))
    if keys:
        client.delete(*keys)
    reset_counter_store()


@pytest.fixture
def redis_down(settings: Any) -> Iterator[RedisCounterStore]:
    # A closed port: connection refused at once, as when Redis has stopped.
    settings.CACHES = {**settings.CACHES, "shared": redis_cache("redis://127.0.0.1:1/0")}
    settings.PERSONALIZE = {**settings.PERSONALIZE, "CACHE_ALIAS": "shared"}
    reset_counter_store()
    store = counter_store()
    assert isinstance(store, RedisCounterStore)
    yield store
    reset_counter_store()


@pytest.fixture(params=["local", "file", pytest.param("redis", marks=pytest.mark.redis)])
def store(request: Any) -> BaseCounterStore:
    """Each test runs against every store."""
    if request.param == "redis":
        redis: RedisCounterStore = request.getfixturevalue("redis_store")
        return redis
    if request.param == "file":
        path = request.getfixturevalue("tmp_path") / "analytics.json"
        file_store = FileCounterStore(path, check_interval=0)
        request.addfinalizer(file_store.close)
        return file_store
    return LocalCounterStore()


def _raw(key_suffix: str) -> Any:
    """The raw Redis client and the full key for ``key_suffix`` under the current prefix."""
    from django_redis import get_redis_connection

    from personalize.conf import personalize_settings

    key = f"{personalize_settings.CACHE_KEY_PREFIX}:an:{key_suffix}"
    return get_redis_connection("shared"), key


def test_add_sums_counts_per_day(store: BaseCounterStore) -> None:
    store.add(DAY, {IMP: 1, "seg|3": 2})
    store.add(DAY, {IMP: 4, "seg|4": 1, "seg|5": 0})
    store.add(NEXT_DAY, {"seg|3": 7})
    store.add(NEXT_DAY, {})
    assert store.live_counts([DAY, NEXT_DAY, DAY - timedelta(days=1)]) == {
        DAY: {IMP: 5, "seg|3": 2, "seg|4": 1},
        NEXT_DAY: {"seg|3": 7},
        DAY - timedelta(days=1): {},
    }
    assert store.live_days() == [DAY, NEXT_DAY]


def test_first_time_is_true_once_and_keeps_the_first_value(store: BaseCounterStore) -> None:
    assert store.first_time(VISITOR, "seen|x", "100", 3600) is True
    assert store.first_time(VISITOR, "seen|x", "200", 3600) is False
    assert store.first_time(VISITOR, "goal|4", "150", 3600) is True
    assert store.visitor_fields(VISITOR) == {"seen|x": "100", "goal|4": "150"}
    assert store.visitor_fields("f" * 32) == {}


def test_set_visitor_field_overwrites_and_forget_deletes(store: BaseCounterStore) -> None:
    store.set_visitor_field(VISITOR, "a|key", "1", 3600)
    store.set_visitor_field(VISITOR, "a|key", "h", 3600)
    store.first_time(VISITOR, "seen|x", "100", 3600)
    assert store.visitor_fields(VISITOR) == {"a|key": "h", "seen|x": "100"}
    store.forget_visitor(VISITOR)
    assert store.visitor_fields(VISITOR) == {}
    assert store.first_time(VISITOR, "seen|x", "300", 3600) is True


def test_unique_visitors_counts_each_visitor_once_over_the_days(store: BaseCounterStore) -> None:
    for visitor in ("a" * 32, "b" * 32, "a" * 32):
        store.add_unique(3, DAY, visitor)
    store.add_unique(3, NEXT_DAY, "a" * 32)
    store.add_unique(3, NEXT_DAY, "c" * 32)
    store.add_unique(4, DAY, "d" * 32)
    assert store.unique_visitors(3, [DAY]) == 2
    assert store.unique_visitors(3, [DAY, NEXT_DAY]) == 3
    assert store.unique_visitors(4, [DAY, NEXT_DAY]) == 1
    assert store.unique_visitors(5, [DAY]) == 0
    assert store.unique_visitors(3, []) == 0


def test_shared_values(store: BaseCounterStore) -> None:
    assert store.shared_get("ts:abc") is None
    store.shared_set("ts:abc", "[0.5, 0.5]", 300)
    store.shared_set("ts:abc", "[0.7, 0.3]", 300)
    assert store.shared_get("ts:abc") == "[0.7, 0.3]"


def test_a_batch_takes_the_day_and_counting_goes_on(store: BaseCounterStore) -> None:
    store.add(DAY, {IMP: 3, "seg|3": 1})
    assert store.start_batch(NEXT_DAY) is None
    batch_id = store.start_batch(DAY)
    assert batch_id is not None and batch_day(batch_id) == DAY
    assert store.live_counts([DAY]) == {DAY: {}}
    assert store.live_days() == []
    store.add(DAY, {IMP: 1})
    assert store.live_counts([DAY]) == {DAY: {IMP: 1}}
    assert store.pending_batches() == [batch_id]
    assert store.batch_counts(batch_id) == (DAY, {IMP: 3, "seg|3": 1})
    store.drop_batch(batch_id)
    assert store.pending_batches() == []
    assert store.batch_counts(batch_id) == (DAY, {})
    assert store.live_days() == [DAY]


def test_batch_ids_are_unique_and_checked(store: BaseCounterStore) -> None:
    store.add(DAY, {"seg|1": 1})
    first = store.start_batch(DAY)
    store.add(DAY, {"seg|1": 1})
    second = store.start_batch(DAY)
    assert first is not None and second is not None and first != second
    assert store.pending_batches() == sorted([first, second])
    with pytest.raises(ValueError, match="not an analytics batch id"):
        store.batch_counts("2026-11-25")


@pytest.mark.redis
def test_redis_keys_follow_the_documented_layout(redis_store: RedisCounterStore) -> None:
    redis_store.add(DAY, {IMP: 2})
    redis_store.add_unique(3, DAY, VISITOR)
    redis_store.first_time(VISITOR, "goal|4", "150", 600)
    redis_store.shared_set("ts:abc", "x", 300)
    client, day_key = _raw("2026-11-25")
    assert client.hgetall(day_key) == {IMP.encode(): b"2"}
    assert DAY_TTL - 5 < client.ttl(day_key) <= DAY_TTL
    _, unique_key = _raw("hll:3:2026-11-25")
    assert client.pfcount(unique_key) == 1
    assert UNIQUE_TTL - 5 < client.ttl(unique_key) <= UNIQUE_TTL
    _, visitor_key = _raw(f"v:{VISITOR}")
    assert client.hgetall(visitor_key) == {b"goal|4": b"150"}
    assert 595 < client.ttl(visitor_key) <= 600
    _, shared_key = _raw("s:ts:abc")
    assert client.get(shared_key) == b"x"
    assert 295 < client.ttl(shared_key) <= 300


@pytest.mark.redis
def test_redis_first_time_refreshes_the_ttl(redis_store: RedisCounterStore) -> None:
    client, visitor_key = _raw(f"v:{VISITOR}")
    redis_store.first_time(VISITOR, "seen|x", "1", 100)
    assert client.ttl(visitor_key) <= 100
    assert redis_store.first_time(VISITOR, "seen|x", "2", 5000) is False
    assert 4995 < client.ttl(visitor_key) <= 5000


@pytest.mark.redis
def test_redis_batch_keeps_the_days_ttl(redis_store: RedisCounterStore) -> None:
    redis_store.add(DAY, {IMP: 2})
    batch_id = redis_store.start_batch(DAY)
    client, batch_key = _raw(f"batch:{batch_id}")
    assert client.hgetall(batch_key) == {IMP.encode(): b"2"}
    assert DAY_TTL - 5 < client.ttl(batch_key) <= DAY_TTL


def test_local_ttls_run_out() -> None:
    clock = FakeClock()
    store = LocalCounterStore(clock=clock)
    store.add(DAY, {"seg|1": 1})
    store.add_unique(1, DAY, VISITOR)
    store.first_time(VISITOR, "seen|x", "1", 100)
    store.shared_set("k", "v", 10)
    clock.now += 60
    assert store.first_time(VISITOR, "seen|y", "1", 100) is True  # refreshes to 100 from now
    clock.now += 60
    assert store.shared_get("k") is None
    assert store.visitor_fields(VISITOR) == {"seen|x": "1", "seen|y": "1"}
    clock.now += 100
    assert store.visitor_fields(VISITOR) == {}
    clock.now += UNIQUE_TTL
    assert store.unique_visitors(1, [DAY]) == 0
    assert store.live_days() == [DAY]
    clock.now += DAY_TTL
    assert store.live_days() == []
    assert store.live_counts([DAY]) == {DAY: {}}


def test_local_batches_expire_with_their_day() -> None:
    clock = FakeClock()
    store = LocalCounterStore(clock=clock)
    store.add(DAY, {"seg|1": 1})
    clock.now += DAY_TTL - 10
    batch_id = store.start_batch(DAY)
    assert store.pending_batches() == [batch_id]
    clock.now += 10
    assert store.pending_batches() == []


def test_local_store_forgets_expired_entries_nobody_reads() -> None:
    clock = FakeClock()
    store = LocalCounterStore(clock=clock)
    for number in range(50):
        store.first_time(f"{number:032x}", "seen|x", "1", 10)
    clock.now += 120
    store.first_time(VISITOR, "seen|x", "1", 10)
    assert list(store._visitors.items) == [VISITOR]


def test_concurrent_adds_are_exact_locally() -> None:
    store = LocalCounterStore()
    _add_from_threads(store, threads=8, adds=500)
    assert store.live_counts([DAY]) == {DAY: {IMP: 4000, "seg|3": 8000}}


@pytest.mark.redis
def test_concurrent_adds_are_exact_in_redis(redis_store: RedisCounterStore) -> None:
    _add_from_threads(redis_store, threads=20, adds=500)
    assert redis_store.live_counts([DAY]) == {DAY: {IMP: 10_000, "seg|3": 20_000}}


def _add_from_threads(store: BaseCounterStore, *, threads: int, adds: int) -> None:
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def work() -> None:
        try:
            start.wait()
            for _ in range(adds):
                store.add(DAY, {IMP: 1, "seg|3": 2})
        except BaseException as exc:  # reported by the assert below
            errors.append(exc)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []


def test_counter_store_is_local_without_django_redis() -> None:
    reset_counter_store()
    store = counter_store()
    assert isinstance(store, LocalCounterStore)
    assert counter_store() is store
    reset_counter_store()
    assert counter_store() is not store


@pytest.mark.redis
def test_counter_store_is_shared_through_django_redis(redis_store: RedisCounterStore) -> None:
    assert counter_store() is redis_store
    other_process = RedisCounterStore()
    redis_store.add(DAY, {"seg|1": 2})
    assert other_process.live_counts([DAY]) == {DAY: {"seg|1": 2}}


STORE_CALLS = {
    "add": lambda s: s.add(DAY, {"seg|1": 1}),
    "first_time": lambda s: s.first_time(VISITOR, "seen|x", "1", 60),
    "visitor_fields": lambda s: s.visitor_fields(VISITOR),
    "set_visitor_field": lambda s: s.set_visitor_field(VISITOR, "a|k", "1", 60),
    "forget_visitor": lambda s: s.forget_visitor(VISITOR),
    "add_unique": lambda s: s.add_unique(1, DAY, VISITOR),
    "unique_visitors": lambda s: s.unique_visitors(1, [DAY]),
    "live_counts": lambda s: s.live_counts([DAY]),
    "shared_get": lambda s: s.shared_get("k"),
    "shared_set": lambda s: s.shared_set("k", "v", 60),
    "live_days": lambda s: s.live_days(),
    "pending_batches": lambda s: s.pending_batches(),
    "start_batch": lambda s: s.start_batch(DAY),
    "batch_counts": lambda s: s.batch_counts(f"2026-11-25:{VISITOR}"),
    "drop_batch": lambda s: s.drop_batch(f"2026-11-25:{VISITOR}"),
}


@pytest.mark.parametrize("method", sorted(STORE_CALLS))
def test_redis_down_raises_analytics_unavailable(
    redis_down: RedisCounterStore, method: str
) -> None:
    with pytest.raises(AnalyticsUnavailable, match="refused|Connection|connect"):
        STORE_CALLS[method](redis_down)


def test_safely_returns_the_default_and_the_breaker_warns_once_per_outage(
    redis_down: RedisCounterStore, caplog: Any, monkeypatch: Any
) -> None:
    from personalize.cache import breaker

    clock = FakeClock()
    monkeypatch.setattr(breaker, "clock", clock)
    caplog.set_level(logging.DEBUG, logger="personalize")
    assert safely(lambda: redis_down.first_time(VISITOR, "seen|x", "1", 60), False) is False
    assert safely(lambda: redis_down.visitor_fields(VISITOR), {}) == {}
    clock.now += 59
    assert safely(lambda: redis_down.add(DAY, {"seg|1": 1}), None) is None
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    assert warnings[0].startswith("shared cache unreachable (")
    assert breaker.skipped == 1  # the second call did not reach the closed port


def test_safely_warns_once_a_minute_for_a_store_outside_the_breaker(
    caplog: Any, monkeypatch: Any
) -> None:
    clock = FakeClock()
    monkeypatch.setattr(store_module._warn_unavailable, "clock", clock)
    caplog.set_level(logging.WARNING, logger="personalize.analytics.store")

    def down() -> None:
        raise AnalyticsUnavailable("connection refused")

    assert safely(down, False) is False
    clock.now += 59
    assert safely(down, None) is None
    messages = [r.getMessage() for r in caplog.records]
    assert messages == ["analytics store unreachable, counting skipped: connection refused"]
    clock.now += 1
    safely(down, None)
    assert len(caplog.records) == 2


def test_safely_passes_results_and_other_errors_through() -> None:
    store = LocalCounterStore()
    store.set_visitor_field(VISITOR, "a|k", "2", 60)
    assert safely(lambda: store.visitor_fields(VISITOR).get("a|k"), None) == "2"
    with pytest.raises(ValueError, match="not an analytics batch id"):
        safely(lambda: store.batch_counts("nonsense"), None)


@pytest.mark.parametrize(
    ("batch_id", "expected"),
    [
        (f"2026-11-25:{VISITOR}", DAY),
        ("2026-11-25:abc", None),
        (f"2026-13-25:{VISITOR}", None),
        ("", None),
    ],
)
def test_batch_day(batch_id: str, expected: date | None) -> None:
    assert batch_day(batch_id) == expected
