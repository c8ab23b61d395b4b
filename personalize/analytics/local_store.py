"""The local counter store: counters in process memory, with the Redis store's behaviour.

For tests and a demo without Redis: only the process that counted sees the counters.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Generic, TypeVar

from personalize.analytics.counters import (
    DAY_TTL,
    SAMPLE_TTL,
    UNIQUE_TTL,
    BaseCounterStore,
    VisitSample,
    batch_day,
    new_batch_id,
    reservoir_slot,
)

K = TypeVar("K")
V = TypeVar("V")

#: How often the local store drops expired entries nobody reads again.
_SWEEP_INTERVAL = 60.0


class _Expiring(Generic[K, V]):
    """A dict whose entries expire, as Redis keys do (not thread-safe: the store locks)."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.items: dict[K, tuple[V, float | None]] = {}
        self.next_sweep = clock() + _SWEEP_INTERVAL

    def get(self, key: K) -> V | None:
        entry = self.items.get(key)
        if entry is None:
            return None
        if entry[1] is not None and entry[1] <= self.clock():
            del self.items[key]
            return None
        return entry[0]

    def deadline(self, key: K) -> float | None:
        entry = self.items.get(key)
        return None if entry is None else entry[1]

    def put(self, key: K, value: V, deadline: float | None) -> None:
        self.items[key] = (value, deadline)
        now = self.clock()
        if now >= self.next_sweep:
            # Entries nobody reads again would otherwise stay in memory for good.
            self.next_sweep = now + _SWEEP_INTERVAL
            expired = [k for k, (_, d) in self.items.items() if d is not None and d <= now]
            for k in expired:
                del self.items[k]

    def pop(self, key: K) -> V | None:
        value = self.get(key)
        self.items.pop(key, None)
        return value

    def keys(self) -> list[K]:
        return [key for key in list(self.items) if self.get(key) is not None]


class LocalCounterStore(BaseCounterStore):
    """Counters in process memory, with the Redis store's behaviour (TTLs included).

    Only the process that counted sees the counters: for tests and single-process demos.

    Args:
        clock: seconds on a monotonic clock; tests inject one to let TTLs run out.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._days: _Expiring[date, dict[str, int]] = _Expiring(clock)
        self._batches: _Expiring[str, dict[str, int]] = _Expiring(clock)
        self._visitors: _Expiring[str, dict[str, str]] = _Expiring(clock)
        self._uniques: _Expiring[tuple[int, date], set[str]] = _Expiring(clock)
        self._shared: _Expiring[str, str] = _Expiring(clock)
        self._samples: _Expiring[date, tuple[int, dict[int, str]]] = _Expiring(clock)

    def _deadline(self, ttl: float) -> float:
        return self.clock() + ttl

    def add(self, day: date, counts: Mapping[str, int]) -> None:
        """Add the counts under the lock."""
        counts = {field: n for field, n in counts.items() if n}
        if not counts:
            return
        with self._lock:
            hash_ = self._days.get(day) or {}
            for field, n in counts.items():
                hash_[field] = hash_.get(field, 0) + n
            self._days.put(day, hash_, self._deadline(DAY_TTL))

    def first_time(self, visitor_id: str, field: str, value: str, ttl: int) -> bool:
        """Set the field unless set; refresh the TTL."""
        with self._lock:
            hash_ = self._visitors.get(visitor_id) or {}
            created = field not in hash_
            hash_.setdefault(field, value)
            self._visitors.put(visitor_id, hash_, self._deadline(ttl))
            return created

    def visitor_fields(self, visitor_id: str) -> dict[str, str]:
        """A copy of the visitor's hash."""
        with self._lock:
            return dict(self._visitors.get(visitor_id) or {})

    def set_visitor_field(self, visitor_id: str, field: str, value: str, ttl: int) -> None:
        """Set the field; refresh the TTL."""
        with self._lock:
            hash_ = self._visitors.get(visitor_id) or {}
            hash_[field] = value
            self._visitors.put(visitor_id, hash_, self._deadline(ttl))

    def forget_visitor(self, visitor_id: str) -> None:
        """Delete the visitor's hash."""
        with self._lock:
            self._visitors.pop(visitor_id)

    def add_unique(self, segment_id: int, day: date, visitor_id: str) -> None:
        """Add the visitor to the day's set (exact, where Redis estimates)."""
        with self._lock:
            members = self._uniques.get((segment_id, day)) or set()
            members.add(visitor_id)
            self._uniques.put((segment_id, day), members, self._deadline(UNIQUE_TTL))

    def unique_visitors(self, segment_id: int, days: Sequence[date]) -> int:
        """The size of the union of the days' sets."""
        with self._lock:
            union: set[str] = set()
            for day in days:
                union |= self._uniques.get((segment_id, day)) or set()
            return len(union)

    def live_counts(self, days: Sequence[date]) -> dict[date, dict[str, int]]:
        """Copies of the days' counters."""
        with self._lock:
            return {day: dict(self._days.get(day) or {}) for day in days}

    def add_sample(self, day: date, sample: VisitSample) -> None:
        """Count the page view and keep its snapshot in the slot the reservoir gives it."""
        with self._lock:
            seen, slots = self._samples.get(day) or (0, {})
            seen += 1
            slot = reservoir_slot(seen, sample.draw, sample.size)
            if slot is not None:
                slots[slot] = sample.snapshot
            self._samples.put(day, (seen, slots), self._deadline(SAMPLE_TTL))

    def samples(self, days: Sequence[date]) -> dict[date, tuple[int, list[str]]]:
        """Copies of the days' samples."""
        with self._lock:
            found = {}
            for day in days:
                seen, slots = self._samples.get(day) or (0, {})
                found[day] = (seen, list(slots.values()))
            return found

    def shared_get(self, key: str) -> str | None:
        """The value unless expired."""
        with self._lock:
            return self._shared.get(key)

    def shared_set(self, key: str, value: str, ttl: int) -> None:
        """Store the value for ``ttl`` seconds."""
        with self._lock:
            self._shared.put(key, value, self._deadline(ttl))

    def live_days(self) -> list[date]:
        """The days with counters."""
        with self._lock:
            return sorted(self._days.keys())

    def pending_batches(self) -> list[str]:
        """The batches not dropped."""
        with self._lock:
            return sorted(self._batches.keys())

    def start_batch(self, day: date) -> str | None:
        """Move the day's counters to a new batch (which keeps the day's TTL)."""
        with self._lock:
            deadline = self._days.deadline(day)
            counts = self._days.pop(day)
            if counts is None:
                return None
            batch_id = new_batch_id(day)
            self._batches.put(batch_id, counts, deadline)
            return batch_id

    def batch_counts(self, batch_id: str) -> tuple[date, dict[str, int]]:
        """The batch's day and a copy of its counters.

        Raises:
            ValueError: ``batch_id`` is no batch id.
        """
        day = batch_day(batch_id)
        if day is None:
            raise ValueError(f"not an analytics batch id: {batch_id!r}")
        with self._lock:
            return day, dict(self._batches.get(batch_id) or {})

    def drop_batch(self, batch_id: str) -> None:
        """Delete the batch."""
        with self._lock:
            self._batches.pop(batch_id)
