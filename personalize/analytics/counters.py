"""The counter store's interface: where live counters wait until the flush moves them.

Counting happens while pages are served, so it has to be cheap and must never break a page:

* the counters of one UTC day live in one hash, ``"<prefix>:an:<YYYY-MM-DD>"`` (``<prefix>`` is
  ``PERSONALIZE["CACHE_KEY_PREFIX"]``); a request adds all of its counters in one round trip;
* a consenting visitor's analytics state (first exposures, conversions, assignments) lives in
  the hash ``"<prefix>:an:v:<visitor_id>"``, which expires after the attribution window (for a
  visitor id minted in the current request, in the visitor cookie until the browser returns it:
  :mod:`personalize.analytics.visitor_state`);
* unique visitors per segment and day are HyperLogLogs, ``"<prefix>:an:hll:<segment>:<day>"``;
* small shared values (optimizer weights) live under ``"<prefix>:an:s:<key>"``;
* the day's anonymous sample of consenting page views, for the segment form's audience estimate,
  is the hash ``"<prefix>:an:smp:<YYYY-MM-DD>"`` (field ``n`` counts the page views offered,
  fields ``1`` … ``size`` hold snapshots; see :mod:`personalize.analytics.samples`).

The flush (:mod:`personalize.analytics.flush`) renames a day's hash to a batch,
``"<prefix>:an:batch:<batch_id>"``, in one atomic step, so counting goes on in a fresh hash while
the batch is written to the database. The sets ``"<prefix>:an:days"`` and
``"<prefix>:an:batches"`` index the live days and the batches, so the flush never scans the
keyspace.

The Redis store (:mod:`personalize.analytics.redis_store`) keeps all of this in Redis, the
django-redis cache named by ``PERSONALIZE["CACHE_ALIAS"]``, shared by every process. The local
store (:mod:`personalize.analytics.local_store`) keeps it in process memory: for tests and a demo
without Redis, where the counters are visible only to the process that counted them.
:func:`personalize.analytics.store.counter_store` picks one.

An unreachable Redis raises :class:`AnalyticsUnavailable` from every store method; callers wrap
their calls in :func:`personalize.analytics.store.safely`, which logs one warning a minute and
skips the counting.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

logger = logging.getLogger(__name__)


#: How long a day's counters survive when no flush runs (a safety net, not a retention).
DAY_TTL = 40 * 24 * 60 * 60
#: How long a unique-visitor HyperLogLog lives: long enough for a 7-day count.
UNIQUE_TTL = 8 * 24 * 60 * 60
#: How long a day's sample of page views lives: the audience estimate reads the last 7 days.
SAMPLE_TTL = 8 * 24 * 60 * 60
#: Seconds a visitor's analytics state (exposures, goals, test assignments) lives after their
#: last counted action. Longer than the attribution window, so that a test assignment sticks;
#: exposures older than the window are ignored when a goal is reached.
VISITOR_STATE_TTL = 90 * 24 * 60 * 60
#: At most one "unreachable" warning per this many seconds.
WARNING_INTERVAL = 60.0


class AnalyticsUnavailable(Exception):
    """The counter store (Redis) is unreachable; callers skip the counting (see :func:`safely`)."""


class BaseCounterStore:
    """The interface every counter store implements.

    Days are UTC dates. Counter fields are the ``"|"``-joined names described in
    :mod:`personalize.analytics.flush`; the store treats them as opaque strings.
    """

    def add(self, day: date, counts: Mapping[str, int]) -> None:
        """Add ``counts`` to the day's counters, all in one round trip."""
        raise NotImplementedError

    def first_time(self, visitor_id: str, field: str, value: str, ttl: int) -> bool:
        """Set ``field`` of the visitor's hash to ``value`` unless it is set; refresh the TTL.

        Returns:
            True when the field was not set before (the first time).
        """
        raise NotImplementedError

    def first_times(self, visitor_id: str, fields: Sequence[str], value: str, ttl: int) -> set[str]:
        """:meth:`first_time` for several fields (one round trip where the store allows).

        Returns:
            The fields that were not set before.
        """
        return {field for field in fields if self.first_time(visitor_id, field, value, ttl)}

    def visitor_fields(self, visitor_id: str) -> dict[str, str]:
        """All fields of the visitor's analytics hash (empty when there is none)."""
        raise NotImplementedError

    def remember_fields(self, visitor_id: str, fields: Mapping[str, str], ttl: int) -> None:
        """Set each of ``fields`` that is not set yet (nothing is counted); refresh the TTL."""
        for field, value in fields.items():
            self.first_time(visitor_id, field, value, ttl)

    def set_visitor_field(self, visitor_id: str, field: str, value: str, ttl: int) -> None:
        """Set ``field`` of the visitor's hash to ``value`` and refresh the TTL."""
        raise NotImplementedError

    def forget_visitor(self, visitor_id: str) -> None:
        """Delete the visitor's analytics hash (erasure)."""
        raise NotImplementedError

    def add_unique(self, segment_id: int, day: date, visitor_id: str) -> None:
        """Count ``visitor_id`` as a unique visitor of the segment on ``day``."""
        raise NotImplementedError

    def add_unique_many(self, segment_ids: Sequence[int], day: date, visitor_id: str) -> None:
        """:meth:`add_unique` for several segments (one round trip where the store allows)."""
        for segment_id in segment_ids:
            self.add_unique(segment_id, day, visitor_id)

    def unique_visitors(self, segment_id: int, days: Sequence[date]) -> int:
        """How many distinct visitors the segment had over ``days`` (approximate above ~100)."""
        raise NotImplementedError

    def live_counts(self, days: Sequence[date]) -> dict[date, dict[str, int]]:
        """The counters of ``days`` not yet moved into a batch (each day present, maybe empty)."""
        raise NotImplementedError

    def shared_get(self, key: str) -> str | None:
        """A shared value, or None when it is missing or expired."""
        raise NotImplementedError

    def shared_set(self, key: str, value: str, ttl: int) -> None:
        """Store a shared value for ``ttl`` seconds."""
        raise NotImplementedError

    def live_days(self) -> list[date]:
        """The days with live counters (oldest first): what the next flush moves."""
        raise NotImplementedError

    def pending_batches(self) -> list[str]:
        """Ids of the batches started but not dropped (oldest day first)."""
        raise NotImplementedError

    def start_batch(self, day: date) -> str | None:
        """Atomically move the day's counters into a new batch.

        Counting goes on in a fresh hash for the day.

        Returns:
            The batch id, or None when the day has no counters.
        """
        raise NotImplementedError

    def batch_counts(self, batch_id: str) -> tuple[date, dict[str, int]]:
        """The day and counters of a batch (empty when the batch is gone)."""
        raise NotImplementedError

    def drop_batch(self, batch_id: str) -> None:
        """Delete a batch (after its counters are committed to the database)."""
        raise NotImplementedError

    def add_sample(self, day: date, sample: VisitSample) -> None:
        """Offer a page view to the day's sample (reservoir sampling, :func:`reservoir_slot`)."""
        raise NotImplementedError

    def samples(self, days: Sequence[date]) -> dict[date, tuple[int, list[str]]]:
        """Per day: the page views offered to the sample, and the snapshots it holds."""
        raise NotImplementedError

    def record(
        self,
        day: date,
        counts: Mapping[str, int],
        visit: VisitRecord | None,
        *,
        sample: VisitSample | None = None,
    ) -> None:
        """Everything one request counts, in one round trip where the store allows.

        Adds ``counts`` to the day's counters. For a consenting visitor (``visit``), each
        exposure seen for the first time is remembered and counted as ``"exp|<dims>"``, and the
        visitor is counted once a day as a unique visitor of the matched segments. A consenting
        page view's ``sample`` is offered to the day's sample.
        """
        if sample is not None:
            self.add_sample(day, sample)
        counts = dict(counts)
        if visit is not None:
            seen = [f"seen|{dims}" for dims in visit.exposures]
            first = self.first_times(visit.visitor_id, seen, visit.now, VISITOR_STATE_TTL)
            for field in first:
                exposure = "exp|" + field.removeprefix("seen|")
                counts[exposure] = counts.get(exposure, 0) + 1
        self.add(day, counts)
        if (
            visit is not None
            and visit.marker
            and visit.segment_ids
            and self.first_times(visit.visitor_id, [visit.marker], "1", VISITOR_STATE_TTL)
        ):
            self.add_unique_many(visit.segment_ids, day, visit.visitor_id)

    def epoch(self) -> str | None:
        """The store's epoch: a random id written with the first counter, gone when the store
        lost its data (restart without persistence, eviction). None when the store has none
        (nothing counted since it was emptied) or keeps no shared epoch (process memory)."""
        return None

    def ensure_epoch(self) -> str | None:
        """The epoch, created when missing (None for a store without a shared epoch)."""
        return None


@dataclass(frozen=True, slots=True)
class VisitRecord:
    """What a consenting visitor's request adds to their analytics state.

    Attributes:
        visitor_id: the visitor.
        now: the time, as the text stored with a first exposure.
        exposures: the ``"|"``-joined dimensions of the exposures delivered.
        marker: the visitor-hash field that marks today's set of matched segments as counted
            (empty: no segments matched).
        segment_ids: the matched segments, for unique visitors.
    """

    visitor_id: str
    now: str
    exposures: tuple[str, ...] = ()
    marker: str = ""
    segment_ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class VisitSample:
    """A consenting page view offered to the day's sample (:mod:`personalize.analytics.samples`).

    Attributes:
        snapshot: the visit's non-identifying attributes, as compact JSON.
        draw: a uniform random number in [0, 1) that picks the reservoir slot.
        size: how many snapshots the day's sample holds at most.
    """

    snapshot: str
    draw: float
    size: int


def reservoir_slot(seen: int, draw: float, size: int) -> int | None:
    """The slot (1 … ``size``) the ``seen``-th page view of the day takes, or None (Algorithm R).

    The first ``size`` page views fill the slots; each later one replaces a random slot with
    probability ``size / seen``, so every page view of the day is equally likely to be kept.
    """
    if seen <= size:
        return seen
    slot = int(draw * seen) + 1
    return slot if slot <= size else None


def new_batch_id(day: date) -> str:
    """A unique batch id for ``day``: ``"<YYYY-MM-DD>:<32 hex>"`` (43 characters)."""
    return f"{day.isoformat()}:{uuid.uuid4().hex}"


def batch_day(batch_id: str) -> date | None:
    """The day of a batch id, or None when it is not one."""
    day, _, suffix = batch_id.partition(":")
    if len(suffix) != 32:
        return None
    try:
        return date.fromisoformat(day)
    except ValueError:
        return None



def text_of(value: Any) -> str:
    """A Redis reply (bytes) or a local value as text."""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def counts_of(raw: Mapping[Any, Any]) -> dict[str, int]:
    """A hash of counters as text → int (a value that is no integer is logged and dropped)."""
    counts: dict[str, int] = {}
    for field, value in raw.items():
        try:
            counts[text_of(field)] = int(value)
        except ValueError:
            logger.warning("analytics counter %r is no integer: %r", text_of(field), value)
    return counts


def day_of(text: str) -> date | None:
    """The date of an ISO day string, or None when it is none."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None
