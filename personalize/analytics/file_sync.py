"""The machinery behind :class:`~personalize.analytics.file_store.FileCounterStore`.

A :class:`LocalCounterStore` whose state follows a file: read at start and whenever another
process wrote it, changed in memory with a journal of the operations since the last save, saved
by a timer thread, at interpreter exit and at once for the flush's own steps. The module
docstring of :mod:`personalize.analytics.file_store` explains the design.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Iterator
from os import PathLike
from pathlib import Path
from typing import Any

from personalize.analytics.counters import AnalyticsUnavailable
from personalize.analytics.file_format import (
    Signature,
    Snapshot,
    file_lock,
    file_signature,
    read_file,
    write_file,
)
from personalize.analytics.local_store import LocalCounterStore

logger = logging.getLogger(__name__)


#: Seconds between a change and the save that writes it (at least).
SAVE_DELAY = 1.0
#: Seconds between two checks whether another process wrote the file.
CHECK_INTERVAL = 1.0
#: Operations kept for replay while saves fail; beyond this a concurrent writer's change would
#: cost this process's newest counts (logged).
MAX_JOURNAL = 100_000
#: At most one "cannot write" warning per this many seconds.
WARNING_INTERVAL = 60.0

#: The sections of :class:`LocalCounterStore` (its ``_<name>`` attributes) kept in the file, each
#: with how a value is copied for writing. A section the local store gains must be added here
#: and to :class:`~personalize.analytics.file_format.Snapshot`.
SECTIONS: dict[str, Callable[[Any], Any]] = {
    "days": dict,
    "batches": dict,
    "visitors": dict,
    "uniques": set,
    "shared": str,
    "samples": lambda value: (value[0], dict(value[1])),
}

#: An operation to replay on a state read again: the unbound method and its arguments.
_Operation = tuple[Callable[..., Any], tuple[Any, ...]]


class FileSyncedStore(LocalCounterStore):
    """Process-memory counters whose state is read from and saved to ``path``.

    Args:
        path: the analytics file (created with its directory on the first save).
        save_delay: seconds from a change to the save.
        check_interval: seconds between checks for another process's write.
        clock: the wall clock (Unix seconds); entries expire at absolute times, across restarts.
    """

    def __init__(
        self,
        path: str | PathLike[str],
        *,
        save_delay: float = SAVE_DELAY,
        check_interval: float = CHECK_INTERVAL,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(clock)
        self.path = Path(path)
        self.save_delay = save_delay
        self.check_interval = check_interval
        # Re-entrant: the overrides hold it around LocalCounterStore's methods, which take it too.
        self._lock: Any = threading.RLock()
        #: One save at a time in this process (the file lock orders processes).
        self._save_lock = threading.Lock()
        self._journal: list[_Operation] = []
        self._journal_full = False
        self._dirty = False
        self._epoch: str | None = None
        #: The version of the file this state was read from or written as.
        self._signature: Signature | None = None
        self._next_check = 0.0
        self._delay = save_delay
        self._timer: threading.Timer | None = None
        self._closed = False
        self._warned_at: float | None = None
        with self._lock:
            self._sync_locked()
        _open_stores.add(self)

    # Reading the file ------------------------------------------------------------------------

    def _refresh(self) -> None:
        """Pick up another process's write, checking at most every ``check_interval``."""
        now = time.monotonic()
        if now < self._next_check:
            return
        self._next_check = now + self.check_interval
        with self._lock:
            self._sync_locked()

    def _sync_locked(self) -> None:
        """Read the file again if it changed since this state was read or written."""
        try:
            signature = file_signature(self.path)
        except OSError as exc:
            self._warn("cannot be read", exc)
            return
        if signature == self._signature:
            return
        try:
            snapshot, signature = read_file(self.path)
        except (OSError, ValueError) as exc:
            snapshot = Snapshot()
            signature = self._set_aside(exc, signature)
        self._restore_locked(snapshot)
        self._signature = signature
        journal, self._journal = self._journal, []
        if self._journal_full:
            self._journal_full = False
            logger.warning(
                "analytics file %s was changed by another process while this one could not "
                "write it: counts beyond the last %d changes of this process are lost",
                self.path,
                MAX_JOURNAL,
            )
        for method, args in journal:
            self._apply_locked(method, args)

    def _set_aside(self, exc: Exception, signature: Signature | None) -> Signature | None:
        """Move an unreadable file to ``<file>.corrupt``, with one warning.

        Returns:
            The signature the state now corresponds to: None (no file), or the unreadable
            file's when it cannot be moved (it is not read again; the next save replaces it).
        """
        aside = self.path.with_name(self.path.name + ".corrupt")
        try:
            self.path.replace(aside)
        except OSError:
            where = "left in place"
        else:
            signature = None
            where = f"moved to {aside}"
        logger.warning(
            "analytics file %s cannot be read (%s); it was %s and counting starts empty",
            self.path,
            exc,
            where,
        )
        return signature

    def _restore_locked(self, snapshot: Snapshot) -> None:
        self._epoch = snapshot.epoch
        for name in SECTIONS:
            expiring = getattr(self, f"_{name}", None)
            if expiring is not None:
                expiring.items = getattr(snapshot, name)

    def _snapshot_locked(self) -> Snapshot:
        """A copy of the live entries (written outside the lock while counting goes on)."""
        now = self.clock()
        sections: dict[str, Any] = {}
        for name, copy in SECTIONS.items():
            expiring = getattr(self, f"_{name}", None)
            items = {} if expiring is None else expiring.items
            sections[name] = {
                key: (copy(value), deadline)
                for key, (value, deadline) in items.items()
                if deadline is None or deadline > now
            }
        return Snapshot(epoch=self._epoch, **sections)

    # Changing the state ----------------------------------------------------------------------

    def _apply_locked(self, method: Callable[..., Any], args: tuple[Any, ...]) -> Any:
        """Run an operation on the state, remember it for replay, and schedule a save."""
        result = method(self, *args)
        if method in _ADDS_DATA and self._epoch is None:
            self._epoch = uuid.uuid4().hex
        if len(self._journal) < MAX_JOURNAL:
            self._journal.append((method, args))
        else:
            self._journal_full = True
        self._dirty = True
        self._schedule_locked()
        return result

    def _change(self, method: Callable[..., Any], *args: Any) -> Any:
        self._refresh()
        with self._lock:
            return self._apply_locked(method, args)

    def _schedule_locked(self) -> None:
        timer = self._timer
        if self._closed or (timer is not None and timer.is_alive()):
            return
        timer = threading.Timer(self._delay, self._save_soon)
        timer.daemon = True
        try:
            timer.start()
        except RuntimeError:  # interpreter shutting down: the atexit save writes it
            return
        self._timer = timer

    def _save_soon(self) -> None:
        with self._lock:
            self._timer = None
        self.save()

    # Writing the file ------------------------------------------------------------------------

    @contextlib.contextmanager
    def _exclusive(self) -> Iterator[None]:
        """This process's save lock and the file lock; OSError → AnalyticsUnavailable."""
        try:
            with self._save_lock, file_lock(self.path):
                yield
        except OSError as exc:
            raise AnalyticsUnavailable(f"analytics file {self.path}: {exc}") from exc

    def _save_held(self) -> None:
        """Write the state (merged with another process's write), holding both locks.

        Raises:
            OSError: the file cannot be written; the changes stay pending.
        """
        with self._lock:
            self._sync_locked()
            if not self._dirty:
                return
            snapshot = self._snapshot_locked()
            saving, self._journal = self._journal, []
            self._dirty = False
        started = time.monotonic()
        try:
            signature = write_file(self.path, snapshot)
        except BaseException:
            with self._lock:
                self._journal = saving + self._journal
                self._dirty = True
                self._schedule_locked()
            raise
        with self._lock:
            self._signature = signature
        self._delay = max(self.save_delay, 10 * (time.monotonic() - started))

    def save(self) -> bool:
        """Write pending changes now (the timer and interpreter exit call this).

        Returns:
            False when the file could not be written (logged at most once a minute; the changes
            stay in memory and the save is tried again).
        """
        # A save in flight (the timer's) has already taken the changes: it must land before
        # "nothing to save" is true (close() and exit rely on it).
        with self._save_lock, self._lock:
            if not self._dirty:
                return True
        try:
            with self._exclusive():
                self._save_held()
        except AnalyticsUnavailable as exc:
            self._warn("cannot be written", exc.__cause__ or exc)
            return False
        return True

    def close(self) -> None:
        """Save and stop saving (the store is replaced: settings changed)."""
        with self._lock:
            self._closed = True
            timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()
        self.save()
        _open_stores.discard(self)

    def _warn(self, what: str, exc: BaseException) -> None:
        now = time.monotonic()
        if self._warned_at is not None and now - self._warned_at < WARNING_INTERVAL:
            return
        self._warned_at = now
        logger.warning("analytics file %s %s, counts wait in memory: %s", self.path, what, exc)


#: Operations that add data: the first one gives the store an epoch.
_ADDS_DATA = frozenset(
    {
        LocalCounterStore.add,
        LocalCounterStore.first_time,
        LocalCounterStore.set_visitor_field,
        LocalCounterStore.add_unique,
        LocalCounterStore.shared_set,
    }
)

#: Stores whose pending changes are written at interpreter exit.
_open_stores: weakref.WeakSet[FileSyncedStore] = weakref.WeakSet()


@atexit.register
def _save_open_stores() -> None:
    for store in list(_open_stores):
        store.save()
