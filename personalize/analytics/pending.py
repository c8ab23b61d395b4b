"""Counting that survives a short store outage: counts wait in process memory, then go out.

While the counter store (Redis) is unreachable, or its circuit is open after a failure, the
aggregate counters a request adds (impressions, exposures already known, goals) are kept in this
process, summed per day and field, and added to the store together with the first request that
reaches it again. Nothing a visitor sees waits for it.

What cannot wait is dropped and counted: a consenting visitor's first-exposure and
unique-visitor bookkeeping needs the visitor's state in the store, a page view's sample snapshot
is simply not taken (the audience estimate says it is not available), and the buffer is bounded
(:data:`MAX_PENDING_FIELDS` distinct counters per process). Counts still waiting when a worker
process exits are lost with it; the line logged at recovery says how many were kept and dropped.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from datetime import date

from personalize.analytics.counters import (
    AnalyticsUnavailable,
    BaseCounterStore,
    VisitRecord,
    VisitSample,
)
from personalize.analytics.store import counter_store

logger = logging.getLogger(__name__)

#: Distinct (day, counter) pairs one process keeps while the store is unreachable.
MAX_PENDING_FIELDS = 10_000


class PendingCounts:
    """Counts waiting for the store, with what had to be dropped."""

    def __init__(self, limit: int = MAX_PENDING_FIELDS) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._counts: dict[date, dict[str, int]] = {}
        self._size = 0
        #: Counts that did not fit, since the store was last reached.
        self.dropped = 0
        #: Consenting visitors' exposure and unique-visitor updates skipped.
        self.visits_skipped = 0

    def keep(self, day: date, counts: Mapping[str, int], visit: VisitRecord | None) -> None:
        """Hold ``counts`` until the store is back (the visit's own bookkeeping is skipped)."""
        with self._lock:
            if visit is not None:
                self.visits_skipped += 1
            held = self._counts.setdefault(day, {})
            for field, n in counts.items():
                if not n:
                    continue
                if field not in held:
                    if self._size >= self.limit:
                        self.dropped += n
                        continue
                    self._size += 1
                held[field] = held.get(field, 0) + n

    def take(self) -> tuple[dict[date, dict[str, int]], int, int]:
        """Everything held, and the drop counts; the buffer starts empty again."""
        with self._lock:
            held, self._counts, self._size = self._counts, {}, 0
            dropped, skipped = self.dropped, self.visits_skipped
            self.dropped = self.visits_skipped = 0
        return held, dropped, skipped

    def put_back(self, held: dict[date, dict[str, int]], dropped: int, skipped: int) -> None:
        """Return counts (and drop counts) that could not be written after all."""
        for day, counts in held.items():
            self.keep(day, counts, None)
        with self._lock:
            self.dropped += dropped
            self.visits_skipped += skipped

    def __bool__(self) -> bool:
        return bool(self._counts) or bool(self.dropped) or bool(self.visits_skipped)


#: The process's waiting counts.
pending = PendingCounts()


def count(
    day: date,
    counts: Mapping[str, int],
    visit: VisitRecord | None = None,
    store: BaseCounterStore | None = None,
    sample: VisitSample | None = None,
) -> bool:
    """Record a request's counts; keep them in memory while the store is unreachable.

    Args:
        day: the UTC day counted.
        counts: counter fields and increments.
        visit: a consenting visitor's bookkeeping (skipped while the store is unreachable).
        store: the counter store (default: the process's).
        sample: a consenting page view for the day's sample (dropped while unreachable).

    Returns:
        True when the counts reached the store.
    """
    store = store or counter_store()
    try:
        if sample is None:
            store.record(day, counts, visit)
        else:
            store.record(day, counts, visit, sample=sample)
    except AnalyticsUnavailable as exc:
        logger.debug("analytics store unreachable, counts kept in memory: %s", exc)
        pending.keep(day, counts, visit)
        return False
    if pending:
        _send_pending(store)
    return True


def _send_pending(store: BaseCounterStore) -> None:
    held, dropped, skipped = pending.take()
    written = 0
    items = list(held.items())
    for index, (day, counts) in enumerate(items):
        try:
            store.add(day, counts)
        except AnalyticsUnavailable:
            pending.put_back(dict(items[index:]), dropped, skipped)
            return
        written += sum(counts.values())
    logger.warning(
        "analytics store reachable again: %d counts kept during the outage were added, "
        "%d dropped (buffer full), %d consenting visits without exposure bookkeeping",
        written,
        dropped,
        skipped,
    )
