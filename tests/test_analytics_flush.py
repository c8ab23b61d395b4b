"""The flush: counters into DailyCount exactly once, however and wherever it is interrupted."""

from __future__ import annotations

import io
import logging
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from personalize.analytics import flush as flush_module
from personalize.analytics.counters import BaseCounterStore
from personalize.analytics.file_store import FileCounterStore
from personalize.analytics.flush import (
    BATCH_RETENTION,
    FlushResult,
    MalformedField,
    flush,
    parse_field,
)
from personalize.analytics.local_store import LocalCounterStore
from personalize.analytics.redis_store import RedisCounterStore
from personalize.analytics.store import counter_store, reset_counter_store
from personalize.models import DailyCount, FlushBatch
from tests.conftest import redis_cache

DAY = date(2026, 11, 25)
NEXT_DAY = DAY + timedelta(days=1)
BLOCK = "b" * 32
VARIANT = "c" * 32
IMP = f"imp|12|{BLOCK}|{VARIANT}|0|3"
CONV = f"conv|4|12|{BLOCK}|{VARIANT}|h|-"


@pytest.fixture
def redis_store(settings: Any, redis_url: str) -> Iterator[RedisCounterStore]:
    """The process's store on a real Redis, under a key prefix of its own."""
    from django_redis import get_redis_connection

    prefix = f"test-flush-{uuid.uuid4().hex[:8]}"
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
    client = get_redis_connection("shared")
    keys = list(client.scan_iter(match=f"{prefix}:*"))
    if keys:
        client.delete(*keys)
    reset_counter_store()


@pytest.fixture
def local_store() -> Iterator[BaseCounterStore]:
    """The process's store without django-redis: process memory."""
    reset_counter_store()
    store = counter_store()
    assert isinstance(store, LocalCounterStore)
    yield store
    reset_counter_store()


@pytest.fixture
def file_store(settings: Any, tmp_path: Any) -> Iterator[BaseCounterStore]:
    """The process's store with ``ANALYTICS_FILE`` set: process memory saved to a file."""
    settings.PERSONALIZE = {**settings.PERSONALIZE, "ANALYTICS_FILE": tmp_path / "an.json"}
    reset_counter_store()
    store = counter_store()
    assert isinstance(store, FileCounterStore)
    yield store
    reset_counter_store()


@pytest.fixture(params=["local", "file", pytest.param("redis", marks=pytest.mark.redis)])
def store(request: Any) -> BaseCounterStore:
    """Each test runs against every store (and is the process's store, for the command)."""
    name = {"redis": "redis_store", "file": "file_store"}.get(request.param, "local_store")
    chosen: BaseCounterStore = request.getfixturevalue(name)
    return chosen


def _totals() -> dict[tuple[date, str], int]:
    return {(row.date, row.field): row.count for row in DailyCount.objects.all()}


# -- parsing -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        (
            IMP,
            {
                "metric": "imp",
                "page_id": 12,
                "block_key": BLOCK,
                "variant": VARIANT,
                "alternative": "0",
                "segment_id": 3,
            },
        ),
        (
            f"exp|-|{BLOCK}|default|-|-",
            {
                "metric": "exp",
                "page_id": None,
                "block_key": BLOCK,
                "variant": "default",
                "alternative": "",
                "segment_id": None,
            },
        ),
        (
            CONV,
            {
                "metric": "conv",
                "goal_id": 4,
                "page_id": 12,
                "block_key": BLOCK,
                "variant": VARIANT,
                "alternative": "h",
                "segment_id": None,
            },
        ),
        ("goal|4|7", {"metric": "goal", "goal_id": 4, "segment_id": 7}),
        ("funnel|2|1|-", {"metric": "funnel", "funnel_id": 2, "step": 1, "segment_id": None}),
        ("seg|3", {"metric": "seg", "segment_id": 3}),
    ],
)
def test_parse_field(field: str, expected: dict[str, Any]) -> None:
    assert parse_field(field) == expected


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("", "unknown metric ''"),
        ("clicks|3", "unknown metric 'clicks'"),
        ("seg|3|4", "seg has 1 parts, not 2"),
        ("goal|4", "goal has 2 parts, not 1"),
        ("seg|abc", "segment_id is no id: 'abc'"),
        ("seg|-3", "segment_id is no id: '-3'"),
        ("seg|²", "segment_id is no id"),
        ("seg|99999999999", "segment_id is no id"),
        (f"imp|12|{'x' * 33}|default|0|3", "block_key is empty or longer than 32"),
        ("imp|12||default|0|3", "block_key is empty"),
        (f"imp|12|{BLOCK}|default|12345|3", "alternative is empty or longer than 4"),
    ],
)
def test_parse_field_rejects_malformed_fields(field: str, message: str) -> None:
    with pytest.raises(MalformedField, match=message.replace("|", r"\|")):
        parse_field(field)


# -- flushing ------------------------------------------------------------------------------------

pytestmark_db = pytest.mark.django_db(transaction=True)


@pytestmark_db
def test_flush_moves_counts_into_daily_counts(store: BaseCounterStore) -> None:
    store.add(DAY, {IMP: 3, CONV: 1, "goal|4|7": 2})
    store.add(DAY, {IMP: 2, "funnel|2|1|-": 1, "seg|3": 5})
    assert flush() == FlushResult(batches=1, fields=5, counts=14)
    assert _totals() == {
        (DAY, IMP): 5,
        (DAY, CONV): 1,
        (DAY, "goal|4|7"): 2,
        (DAY, "funnel|2|1|-"): 1,
        (DAY, "seg|3"): 5,
    }
    impressions = DailyCount.objects.get(field=IMP)
    assert (
        impressions.metric,
        impressions.page_id,
        impressions.block_key,
        impressions.variant,
        impressions.alternative,
        impressions.segment_id,
        impressions.goal_id,
        impressions.funnel_id,
        impressions.step,
    ) == ("imp", 12, BLOCK, VARIANT, "0", 3, None, None, None)
    funnel = DailyCount.objects.get(metric="funnel")
    assert (funnel.funnel_id, funnel.step, funnel.segment_id, funnel.block_key) == (2, 1, None, "")
    conversion = DailyCount.objects.get(metric="conv")
    assert (conversion.goal_id, conversion.alternative, conversion.segment_id) == (4, "h", None)
    assert store.live_counts([DAY]) == {DAY: {}}
    assert store.live_days() == []
    assert store.pending_batches() == []
    assert FlushBatch.objects.get().fields == 5


@pytestmark_db
def test_flushing_twice_keeps_the_totals(store: BaseCounterStore) -> None:
    store.add(DAY, {IMP: 3})
    flush()
    assert flush() == FlushResult(0, 0, 0)
    assert _totals() == {(DAY, IMP): 3}


@pytestmark_db
def test_later_flushes_add_to_the_same_rows(store: BaseCounterStore) -> None:
    store.add(DAY, {IMP: 3, "seg|3": 1})
    flush()
    store.add(DAY, {IMP: 2, "seg|4": 1})
    store.add(NEXT_DAY, {IMP: 1})
    assert flush() == FlushResult(batches=2, fields=3, counts=4)
    assert _totals() == {
        (DAY, IMP): 5,
        (DAY, "seg|3"): 1,
        (DAY, "seg|4"): 1,
        (NEXT_DAY, IMP): 1,
    }
    assert DailyCount.objects.filter(field=IMP).count() == 2


@pytestmark_db
def test_many_counters_with_different_increments(store: BaseCounterStore) -> None:
    counts = {f"seg|{n}": n % 7 + 1 for n in range(1, 1201)}
    store.add(DAY, counts)
    flush()
    store.add(DAY, counts)
    assert flush() == FlushResult(batches=1, fields=1200, counts=sum(counts.values()))
    assert _totals() == {(DAY, field): 2 * n for field, n in counts.items()}


@pytestmark_db
def test_malformed_fields_are_stored_as_other_and_logged(
    store: BaseCounterStore, caplog: Any
) -> None:
    long_field = "x" * 300
    store.add(DAY, {"clicks|3": 2, "seg|abc": 1, long_field: 4, IMP: 1})
    caplog.set_level(logging.WARNING, logger="personalize.analytics.flush")
    assert flush() == FlushResult(batches=1, fields=4, counts=8)
    assert _totals() == {
        (DAY, "clicks|3"): 2,
        (DAY, "seg|abc"): 1,
        (DAY, "x" * 255): 4,
        (DAY, IMP): 1,
    }
    others = DailyCount.objects.filter(metric="other")
    assert sorted(others.values_list("field", flat=True)) == ["clicks|3", "seg|abc", "x" * 255]
    assert others.filter(segment_id__isnull=False).count() == 0
    assert "analytics counter 'clicks|3' stored as 'other': unknown metric 'clicks'" in caplog.text
    assert "analytics counter 'seg|abc' stored as 'other'" in caplog.text


# -- interruptions -------------------------------------------------------------------------------


class Crash(Exception):
    """The process died here."""


@pytestmark_db
def test_crash_after_commit_does_not_count_twice(store: BaseCounterStore, monkeypatch: Any) -> None:
    store.add(DAY, {IMP: 3, "seg|3": 1})

    def crash(batch_id: str) -> None:
        raise Crash(batch_id)

    monkeypatch.setattr(store, "drop_batch", crash)
    with pytest.raises(Crash):
        flush()
    monkeypatch.undo()
    assert _totals() == {(DAY, IMP): 3, (DAY, "seg|3"): 1}
    [pending] = store.pending_batches()
    assert FlushBatch.objects.filter(batch_id=pending).exists()
    store.add(DAY, {IMP: 1})
    assert flush() == FlushResult(batches=1, fields=1, counts=1)
    assert _totals() == {(DAY, IMP): 4, (DAY, "seg|3"): 1}
    assert store.pending_batches() == []


@pytestmark_db
def test_crash_inside_the_transaction_applies_nothing(
    store: BaseCounterStore, monkeypatch: Any
) -> None:
    store.add(DAY, {IMP: 3, "seg|3": 1})
    store.add(NEXT_DAY, {"seg|3": 2})
    flush()
    store.add(DAY, {IMP: 2, "seg|4": 1})
    upsert = flush_module._upsert

    def upsert_then_crash(day: date, rows: Any) -> None:
        upsert(day, rows)  # the counts are written, not committed
        raise Crash("after the UPDATEs")

    monkeypatch.setattr(flush_module, "_upsert", upsert_then_crash)
    with pytest.raises(Crash):
        flush()
    monkeypatch.undo()
    assert _totals() == {(DAY, IMP): 3, (DAY, "seg|3"): 1, (NEXT_DAY, "seg|3"): 2}
    [pending] = store.pending_batches()
    assert not FlushBatch.objects.filter(batch_id=pending).exists()
    assert store.batch_counts(pending) == (DAY, {IMP: 2, "seg|4": 1})
    assert flush() == FlushResult(batches=1, fields=2, counts=3)
    assert _totals() == {
        (DAY, IMP): 5,
        (DAY, "seg|3"): 1,
        (DAY, "seg|4"): 1,
        (NEXT_DAY, "seg|3"): 2,
    }
    assert flush() == FlushResult()
    assert _totals()[(DAY, IMP)] == 5


@pytestmark_db
def test_crash_between_rename_and_transaction_loses_nothing(
    store: BaseCounterStore, monkeypatch: Any
) -> None:
    store.add(DAY, {IMP: 3})

    def crash(batch_id: str) -> Any:
        raise Crash(batch_id)

    monkeypatch.setattr(store, "batch_counts", crash)
    with pytest.raises(Crash):
        flush()
    monkeypatch.undo()
    assert _totals() == {}
    store.add(DAY, {IMP: 1})  # counting went on in a fresh hash
    assert flush() == FlushResult(batches=2, fields=2, counts=4)
    assert _totals() == {(DAY, IMP): 4}


@pytestmark_db
def test_a_batch_committed_by_a_concurrent_flush_is_only_dropped(
    store: BaseCounterStore, monkeypatch: Any
) -> None:
    store.add(DAY, {IMP: 3})
    batch_counts = store.batch_counts

    def committed_meanwhile(batch_id: str) -> Any:
        # Another flush process writes this batch between our read and our transaction.
        day, counts = batch_counts(batch_id)
        FlushBatch.objects.create(batch_id=batch_id, fields=1)
        DailyCount.objects.create(date=day, field=IMP, metric="imp", count=counts[IMP])
        return day, counts

    monkeypatch.setattr(store, "batch_counts", committed_meanwhile)
    assert flush() == FlushResult()
    assert _totals() == {(DAY, IMP): 3}
    assert store.pending_batches() == []


@pytestmark_db
def test_rows_created_by_a_concurrent_flush_are_incremented(
    store: BaseCounterStore, monkeypatch: Any
) -> None:
    DailyCount.objects.create(date=DAY, field="seg|1", metric="seg", segment_id=1, count=10)
    # The other flush's INSERT commits after our lookup: we see none of its rows.
    monkeypatch.setattr(flush_module, "_existing", lambda day, fields: set())
    store.add(DAY, {"seg|1": 2, "seg|2": 3})
    assert flush() == FlushResult(batches=1, fields=2, counts=5)
    assert _totals() == {(DAY, "seg|1"): 12, (DAY, "seg|2"): 3}


@pytestmark_db
def test_flush_inside_a_transaction_that_rolls_back_keeps_the_batch(
    store: BaseCounterStore,
) -> None:
    from django.db import transaction

    store.add(DAY, {IMP: 3})
    with pytest.raises(Crash), transaction.atomic():
        assert flush() == FlushResult(batches=1, fields=1, counts=3)
        assert len(store.pending_batches()) == 1  # not dropped before the commit
        raise Crash("the view failed after the flush")
    assert _totals() == {}
    assert flush() == FlushResult(batches=1, fields=1, counts=3)
    with transaction.atomic():
        store.add(DAY, {IMP: 1})
        flush()
    assert store.pending_batches() == []
    assert _totals() == {(DAY, IMP): 4}


@pytestmark_db
def test_old_flush_batch_rows_are_pruned(store: BaseCounterStore) -> None:
    from django.utils import timezone

    FlushBatch.objects.create(batch_id="old", fields=1)
    FlushBatch.objects.create(batch_id="recent", fields=1)
    FlushBatch.objects.filter(batch_id="old").update(
        flushed_at=timezone.now() - BATCH_RETENTION - timedelta(minutes=1)
    )
    flush()
    assert sorted(FlushBatch.objects.values_list("batch_id", flat=True)) == ["recent"]


# -- the command ---------------------------------------------------------------------------------


@pytestmark_db
def test_command_reports_what_it_flushed(store: BaseCounterStore) -> None:
    store.add(DAY, {IMP: 3, "seg|3": 1})
    out = io.StringIO()
    call_command("personalize_flush_analytics", stdout=out)
    assert out.getvalue() == "Flushed 1 batch, 2 counters.\n"
    store.add(DAY, {IMP: 1})
    store.add(NEXT_DAY, {IMP: 1})
    out = io.StringIO()
    call_command("personalize_flush_analytics", stdout=out)
    assert out.getvalue() == "Flushed 2 batches, 2 counters.\n"
    out = io.StringIO()
    call_command("personalize_flush_analytics", stdout=out)
    assert out.getvalue() == "Flushed 0 batches, 0 counters.\n"
    assert _totals() == {(DAY, IMP): 4, (DAY, "seg|3"): 1, (NEXT_DAY, IMP): 1}


@pytestmark_db
def test_command_quiet_prints_nothing(store: BaseCounterStore) -> None:
    store.add(DAY, {"seg|1": 1})
    out = io.StringIO()
    call_command("personalize_flush_analytics", "--quiet", stdout=out)
    assert out.getvalue() == ""
    assert _totals() == {(DAY, "seg|1"): 1}


@pytestmark_db
def test_command_fails_when_redis_is_down(settings: Any) -> None:
    settings.CACHES = {**settings.CACHES, "shared": redis_cache("redis://127.0.0.1:1/0")}
    settings.PERSONALIZE = {**settings.PERSONALIZE, "CACHE_ALIAS": "shared"}
    reset_counter_store()
    with pytest.raises(CommandError, match="The analytics store is unreachable"):
        call_command("personalize_flush_analytics", stdout=io.StringIO())
    reset_counter_store()
