"""The file counter store: counters in process memory, kept in a file across restarts.

For a site or demo without Redis that serves from ONE process (``runserver``, one worker).
:class:`FileCounterStore` behaves like the local store, and its state (counters, batches,
visitors' analytics state, unique visitors, shared values, the epoch) lives in the JSON file
named by ``PERSONALIZE["ANALYTICS_FILE"]`` (:mod:`personalize.analytics.file_format`).

When the file is written
    Never while a request waits. A change schedules a save on a background timer thread,
    :data:`SAVE_DELAY` seconds later, so the file is rewritten at most about once a second
    however many requests count (a request only appends to memory). A save rewrites the whole
    file; when that takes long (a large file), the next one waits ten times as long, so saving
    never takes more than about a tenth of the process's time. Saves also run at interpreter
    exit (``atexit``): ``runserver``'s autoreloader ends its child with ``sys.exit`` and Ctrl-C
    raises ``KeyboardInterrupt``, both of which run it; so do gunicorn's graceful shutdowns.
    A process killed outright (``SIGKILL``, a power cut) loses at most the last second or so.
    A timer rather than "write on the request that comes a second later" because the last
    counts before a quiet period would otherwise wait for the next request. Encoding the state
    holds Python's GIL: with tens of thousands of consenting visitors in the file a save takes
    tens of milliseconds, during which other threads wait; a site that size uses Redis.

Other processes
    ``manage.py personalize_flush_analytics`` and ``personalize_erase`` run in processes of
    their own and change the same file. Every write happens under an exclusive ``flock`` on
    ``<file>.lock``: the writer reads the file again when another process changed it, replays
    what it changed since its last save (a journal of operations: additions, first exposures,
    batch moves) and writes the result. So a flush that moved a day's counters into a batch is
    never undone by the web process's next save, and counts made meanwhile are kept: nothing is
    lost or counted twice. Moving a day into a batch and dropping a batch are written at once,
    before the flush commits and after, as the flush's crash safety needs. Reads notice another
    process's write within :data:`CHECK_INTERVAL` seconds (one ``stat`` at most that often).
    Several web processes would each keep their own view of visitors between saves, so a
    first exposure could be counted once per process: production with several processes uses
    Redis.

Failures
    A file that cannot be read or is malformed is moved aside to ``<file>.corrupt`` and counting
    starts empty, with one warning; the store's epoch changes with it, so the next flush reports
    the loss. A file that cannot be written keeps the counts in memory, logs a warning at most
    once a minute and tries again; the flush's own writes raise :class:`AnalyticsUnavailable`.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from personalize.analytics.counters import new_batch_id
from personalize.analytics.file_sync import CHECK_INTERVAL, SAVE_DELAY, FileSyncedStore
from personalize.analytics.local_store import LocalCounterStore

__all__ = ["CHECK_INTERVAL", "SAVE_DELAY", "FileCounterStore", "visitor_key"]


def visitor_key(visitor_id: str) -> str:
    """What the file holds instead of a visitor id: a 32-hex digest of it."""
    return hashlib.blake2b(
        visitor_id.encode("utf-8", "replace"), digest_size=16, person=b"pz-analytics"
    ).hexdigest()


class FileCounterStore(FileSyncedStore):
    """Counters in process memory, saved to ``path`` soon after every change and at exit.

    Args:
        path: the analytics file (created with its directory on the first save).
        save_delay: seconds from a change to the save.
        check_interval: seconds between checks for another process's write.
        clock: the wall clock (Unix seconds); entries expire at absolute times, across restarts.
    """

    def add(self, day: date, counts: Mapping[str, int]) -> None:
        """Add the counts (saved within about a second)."""
        counts = {field: n for field, n in counts.items() if n}
        if counts:
            self._change(LocalCounterStore.add, day, counts)

    def first_time(self, visitor_id: str, field: str, value: str, ttl: int) -> bool:
        """Set the field unless set; refresh the TTL."""
        created: bool = self._change(
            LocalCounterStore.first_time, visitor_key(visitor_id), field, value, ttl
        )
        return created

    def visitor_fields(self, visitor_id: str) -> dict[str, str]:
        """A copy of the visitor's hash."""
        self._refresh()
        return super().visitor_fields(visitor_key(visitor_id))

    def set_visitor_field(self, visitor_id: str, field: str, value: str, ttl: int) -> None:
        """Set the field; refresh the TTL."""
        self._change(
            LocalCounterStore.set_visitor_field, visitor_key(visitor_id), field, value, ttl
        )

    def forget_visitor(self, visitor_id: str) -> None:
        """Delete the visitor's hash."""
        self._change(LocalCounterStore.forget_visitor, visitor_key(visitor_id))

    def add_unique(self, segment_id: int, day: date, visitor_id: str) -> None:
        """Add the visitor's key to the day's set."""
        self._change(LocalCounterStore.add_unique, segment_id, day, visitor_key(visitor_id))

    def unique_visitors(self, segment_id: int, days: Sequence[date]) -> int:
        """The size of the union of the days' sets."""
        self._refresh()
        return super().unique_visitors(segment_id, days)

    def live_counts(self, days: Sequence[date]) -> dict[date, dict[str, int]]:
        """Copies of the days' counters."""
        self._refresh()
        return super().live_counts(days)

    def shared_get(self, key: str) -> str | None:
        """The value unless expired."""
        self._refresh()
        return super().shared_get(key)

    def shared_set(self, key: str, value: str, ttl: int) -> None:
        """Store the value for ``ttl`` seconds."""
        self._change(LocalCounterStore.shared_set, key, value, ttl)

    def add_sample(self, day: date, sample: Any) -> None:
        """Offer the page view to the day's sample."""
        self._change(LocalCounterStore.add_sample, day, sample)

    def samples(self, days: Sequence[date]) -> dict[date, tuple[int, list[str]]]:
        """Copies of the days' samples."""
        self._refresh()
        found: dict[date, tuple[int, list[str]]] = super().samples(days)
        return found

    def live_days(self) -> list[date]:
        """The days with counters."""
        self._refresh()
        return super().live_days()

    def pending_batches(self) -> list[str]:
        """The batches not dropped."""
        self._refresh()
        return super().pending_batches()

    def batch_counts(self, batch_id: str) -> tuple[date, dict[str, int]]:
        """The batch's day and a copy of its counters.

        Raises:
            ValueError: ``batch_id`` is no batch id.
        """
        self._refresh()
        return super().batch_counts(batch_id)

    def start_batch(self, day: date) -> str | None:
        """Move the day's counters to a new batch, written to the file before returning.

        Raises:
            AnalyticsUnavailable: the file cannot be written (the flush stops before committing).
        """
        with self._exclusive():
            with self._lock:
                self._sync_locked()
                if self._days.get(day) is None:
                    return None
                batch_id = new_batch_id(day)
                self._apply_locked(FileCounterStore._move, (day, batch_id))
            self._save_held()
        return batch_id

    def _move(self, day: date, batch_id: str) -> None:
        deadline = self._days.deadline(day)
        counts = self._days.pop(day)
        if counts is not None:
            self._batches.put(batch_id, counts, deadline)

    def drop_batch(self, batch_id: str) -> None:
        """Delete the batch, written to the file before returning.

        Raises:
            AnalyticsUnavailable: the file cannot be written (the next flush drops the batch).
        """
        with self._exclusive():
            with self._lock:
                self._sync_locked()
                self._apply_locked(LocalCounterStore.drop_batch, (batch_id,))
            self._save_held()

    def epoch(self) -> str | None:
        """The epoch written with the first counter; a new one when the file was lost."""
        self._refresh()
        with self._lock:
            return self._epoch

    def ensure_epoch(self) -> str | None:
        """The epoch, created (and written) when missing.

        Raises:
            AnalyticsUnavailable: the file cannot be written.
        """
        with self._exclusive():
            with self._lock:
                self._sync_locked()
                if self._epoch is not None:
                    return self._epoch
                self._epoch = uuid.uuid4().hex
                self._dirty = True
                epoch = self._epoch
            self._save_held()
        return epoch
