"""Moving live counters from the counter store into ``DailyCount`` rows.

Counter fields are ``"|"``-joined, ids as decimal text, absent parts ``"-"``:

==========  ====================================================================
``imp``     ``imp|<page_id>|<block_key>|<variant>|<alt>|<segment_id>``: impressions
``exp``     ``exp|<page_id>|<block_key>|<variant>|<alt>|<segment_id>``: exposed visitors
``conv``    ``conv|<goal_id>|<page_id>|<block_key>|<variant>|<alt>|<segment_id>``: conversions
``goal``    ``goal|<goal_id>|<segment_id>``: goal completions
``funnel``  ``funnel|<funnel_id>|<step>|<segment_id>``: visitors reaching a funnel step
``seg``     ``seg|<segment_id>``: requests that matched the segment
==========  ====================================================================

A field that fits none of these is stored with the metric ``"other"`` (and logged), so a
flush never stops on a stray counter.

:func:`flush` is safe to interrupt anywhere and to run concurrently:

1. batches left by an interrupted run come first: one whose ``FlushBatch`` row exists was
   committed already and is only dropped; any other is written, then dropped;
2. each live day's hash is renamed to a new batch in one atomic step (counting goes on in a
   fresh hash), then written and dropped.

Writing a batch is one database transaction: the batch's ``FlushBatch`` row (its id is unique,
so a batch commits at most once) and ``count = count + n`` for every counter. A batch is dropped
from the store only after that commit, so a crash before it leaves the batch for the next run
and a crash after it leaves a batch the next run recognises and drops. Called inside a
transaction (a view under ``ATOMIC_REQUESTS``), batches are dropped only once it commits.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from personalize.analytics.counters import DAY_TTL, BaseCounterStore
from personalize.analytics.store import counter_store

logger = logging.getLogger(__name__)

#: Which column each part of a field fills, by metric.
LAYOUTS: dict[str, tuple[str, ...]] = {
    "imp": ("page_id", "block_key", "variant", "alternative", "segment_id"),
    "exp": ("page_id", "block_key", "variant", "alternative", "segment_id"),
    "conv": ("goal_id", "page_id", "block_key", "variant", "alternative", "segment_id"),
    "goal": ("goal_id", "segment_id"),
    "funnel": ("funnel_id", "step", "segment_id"),
    "seg": ("segment_id",),
}
#: The metric of a field that fits no layout.
OTHER = "other"

_INTEGER_COLUMNS = frozenset({"page_id", "segment_id", "goal_id", "funnel_id", "step"})
#: Text columns and their lengths in ``DailyCount``.
_TEXT_COLUMNS = {"block_key": 32, "variant": 32, "alternative": 4}
_FIELD_LENGTH = 255
_MAX_ID = 2**31 - 1  # an IntegerField on every database
_CHUNK = 500
#: ``FlushBatch`` rows older than this can match no batch: a batch expires with its day's hash.
BATCH_RETENTION = timedelta(seconds=DAY_TTL) + timedelta(days=5)


@dataclass(frozen=True)
class FlushResult:
    """What one :func:`flush` wrote."""

    #: Batches written to the database in this run.
    batches: int = 0
    #: Counters (``DailyCount`` rows) created or incremented.
    fields: int = 0
    #: The sum of the counts written.
    counts: int = 0
    #: When the store lost its data (epoch changed), the time of the last flush before the
    #: loss: what was counted after it and before the loss is gone. None: nothing was lost.
    lost_since: datetime | None = None

    def __add__(self, other: FlushResult) -> FlushResult:
        return FlushResult(
            self.batches + other.batches,
            self.fields + other.fields,
            self.counts + other.counts,
            self.lost_since or other.lost_since,
        )


class MalformedField(ValueError):
    """A counter field that fits no layout (stored with the metric ``"other"``)."""


def _column(name: str, part: str) -> Any:
    if name in _INTEGER_COLUMNS:
        if part == "-":
            return None
        if not (part.isascii() and part.isdigit()) or int(part) > _MAX_ID:
            raise MalformedField(f"{name} is no id: {part!r}")
        return int(part)
    if part == "-":
        return ""
    if not part or len(part) > _TEXT_COLUMNS[name]:
        raise MalformedField(f"{name} is empty or longer than {_TEXT_COLUMNS[name]}: {part!r}")
    return part


def parse_field(field: str) -> dict[str, Any]:
    """The ``DailyCount`` columns of a counter field.

    Example::

        >>> parse_field("goal|4|-")
        {'metric': 'goal', 'goal_id': 4, 'segment_id': None}

    Raises:
        MalformedField: the field fits no layout.
    """
    metric, *parts = field.split("|")
    layout = LAYOUTS.get(metric)
    if layout is None:
        raise MalformedField(f"unknown metric {metric!r}")
    if len(parts) != len(layout):
        raise MalformedField(f"{metric} has {len(layout)} parts, not {len(parts)}")
    if len(field) > _FIELD_LENGTH:
        raise MalformedField(f"longer than {_FIELD_LENGTH} characters")
    columns: dict[str, Any] = {"metric": metric}
    for name, part in zip(layout, parts, strict=True):
        columns[name] = _column(name, part)
    return columns


def _rows(counts: Mapping[str, int]) -> dict[str, tuple[dict[str, Any], int]]:
    """The batch as ``{stored field: (columns, count)}``; malformed fields are logged."""
    rows: dict[str, tuple[dict[str, Any], int]] = {}
    for field, n in counts.items():
        if not n:
            continue
        try:
            stored, columns = field, parse_field(field)
        except MalformedField as exc:
            logger.warning("analytics counter %r stored as %r: %s", field, OTHER, exc)
            stored, columns = field[:_FIELD_LENGTH], {"metric": OTHER}
        if stored in rows:  # two over-long fields cut to the same text
            n += rows[stored][1]
        rows[stored] = (columns, n)
    return rows


def _chunks(items: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _create(day: date, rows: Mapping[str, tuple[dict[str, Any], int]]) -> set[str]:
    """Create rows that did not exist; returns the fields created.

    A concurrent flush may create some first: those are left to the increment.
    """
    from personalize.models import DailyCount

    objects = [
        DailyCount(date=day, field=field, count=n, **columns)
        for field, (columns, n) in rows.items()
    ]
    if not objects:
        return set()
    try:
        with transaction.atomic():
            DailyCount.objects.bulk_create(objects, batch_size=_CHUNK)
        return set(rows)
    except IntegrityError:
        pass
    created = set()
    for obj in objects:
        try:
            with transaction.atomic():
                obj.save(force_insert=True)
            created.add(obj.field)
        except IntegrityError:
            continue
    return created


def _existing(day: date, fields: list[str]) -> set[str]:
    """Which of ``fields`` have a row for ``day``."""
    from personalize.models import DailyCount

    existing: set[str] = set()
    for chunk in _chunks(fields):
        found = DailyCount.objects.filter(date=day, field__in=chunk)
        existing.update(found.values_list("field", flat=True))
    return existing


def _upsert(day: date, rows: Mapping[str, tuple[dict[str, Any], int]]) -> None:
    """``count = count + n`` for every row, creating the missing ones."""
    from personalize.models import DailyCount

    existing = _existing(day, list(rows))
    created = _create(day, {f: row for f, row in rows.items() if f not in existing})
    # One UPDATE per distinct increment (most are small numbers), not one per counter.
    by_increment: dict[int, list[str]] = defaultdict(list)
    for field, (_, n) in rows.items():
        if field not in created:
            by_increment[n].append(field)
    for n, fields in by_increment.items():
        for chunk in _chunks(fields):
            DailyCount.objects.filter(date=day, field__in=chunk).update(count=F("count") + n)


def _drop_after_commit(store: BaseCounterStore, batch_id: str) -> None:
    """Drop the batch now or, inside an outer transaction, once that commits.

    If the outer transaction rolls back, the batch stays for the next run.
    """
    transaction.on_commit(lambda: store.drop_batch(batch_id))


def write_batch(store: BaseCounterStore, batch_id: str) -> FlushResult:
    """Commit a batch to ``DailyCount`` once, then drop it from the store.

    Returns:
        What was written (nothing when the batch was empty or committed before).
    """
    from personalize.models import FlushBatch

    day, counts = store.batch_counts(batch_id)
    rows = _rows(counts)
    if not rows:
        _drop_after_commit(store, batch_id)
        return FlushResult()
    try:
        with transaction.atomic():
            # First, so a concurrent flush of the same batch waits here, then fails.
            FlushBatch.objects.create(batch_id=batch_id, fields=len(rows))
            _upsert(day, rows)
    except IntegrityError:
        if not FlushBatch.objects.filter(batch_id=batch_id).exists():
            raise
        logger.info("analytics batch %s was flushed by another run", batch_id)
        _drop_after_commit(store, batch_id)
        return FlushResult()
    _drop_after_commit(store, batch_id)
    return FlushResult(1, len(rows), sum(n for _, n in rows.values()))


def _leftovers(store: BaseCounterStore) -> Iterable[str]:
    """Batches an earlier run started but did not drop; committed ones are dropped here."""
    from personalize.models import FlushBatch

    pending = store.pending_batches()
    done = set(FlushBatch.objects.filter(batch_id__in=pending).values_list("batch_id", flat=True))
    for batch_id in pending:
        if batch_id in done:
            logger.info("dropping analytics batch %s, committed by an earlier run", batch_id)
            _drop_after_commit(store, batch_id)
        else:
            yield batch_id


#: The ``StoreEpoch`` row of the counter store.
EPOCH_NAME = "analytics"


def check_epoch(store: BaseCounterStore) -> datetime | None:
    """Compare the store's epoch with the one the last flush saw, and record the current one.

    Returns:
        The time of the last flush before the store lost its data, or None when the epoch is
        unchanged, seen for the first time, or the store keeps no shared epoch.
    """
    from personalize.models import StoreEpoch

    current = store.epoch()
    if current is None:
        current = store.ensure_epoch()
    if current is None:
        return None
    previous = StoreEpoch.objects.filter(name=EPOCH_NAME).first()
    now = timezone.now()
    if previous is None:
        StoreEpoch.objects.create(name=EPOCH_NAME, epoch=current, seen_at=now)
        return None
    if previous.epoch == current:
        StoreEpoch.objects.filter(pk=previous.pk).update(seen_at=now)
        return None
    logger.error(
        "the analytics store lost its data after the flush of %s (epoch %s, now %s)",
        previous.seen_at.isoformat(),
        previous.epoch,
        current,
    )
    StoreEpoch.objects.filter(pk=previous.pk).update(epoch=current, seen_at=now)
    return previous.seen_at


def flush(store: BaseCounterStore | None = None) -> FlushResult:
    """Move every counter of the store into ``DailyCount`` (see the module docstring).

    Args:
        store: default :func:`~personalize.analytics.store.counter_store`.

    Returns:
        What was written.

    Raises:
        AnalyticsUnavailable: the store is unreachable (whatever was committed stays committed;
            the next run picks up the rest).
    """
    from personalize.models import FlushBatch

    store = store or counter_store()
    result = FlushResult(lost_since=check_epoch(store))
    for batch_id in list(_leftovers(store)):
        result += write_batch(store, batch_id)
    for day in store.live_days():
        started = store.start_batch(day)
        if started is not None:
            result += write_batch(store, started)
    FlushBatch.objects.filter(flushed_at__lt=timezone.now() - BATCH_RETENTION).delete()
    return result
