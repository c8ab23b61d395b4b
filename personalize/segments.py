"""Resolving every live segment for a visitor, fast.

All enabled segments are compiled once per process into a :class:`SegmentSet`. A version number
in a shared store (the Django cache: Redis in production) is bumped whenever a segment is saved or
deleted; each request compares it with the version it compiled, so every process and host picks
up a change on its next request. A warm request resolves segments with no database query.

This module is Django-free: the loader and the version store are injected
(:mod:`personalize.visitors.registry` wires them to the ORM and the Django cache).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from personalize.rules import CompiledCondition, ConditionError, compile_condition
from personalize.rules.paths import Step, parse_path, read_path

logger = logging.getLogger(__name__)

#: How many distinct visitor fingerprints each SegmentSet remembers decisions for.
DECISION_MEMO_SIZE = 4096


def _freeze(value: Any) -> Any:
    """A hashable, type-exact stand-in for an attribute value (``1``, ``1.0`` and ``True``
    differ; lists become tuples). Raises TypeError for values that cannot be frozen."""
    if isinstance(value, list | tuple):
        return (list, tuple(_freeze(item) for item in value))
    if isinstance(value, Mapping):
        raise TypeError("objects are not memoized")
    return (type(value), value)


@dataclass(frozen=True, slots=True)
class SegmentRecord:
    """A segment as stored: plain data handed over by the loader.

    Attributes:
        id: primary key.
        slug: unique slug.
        name: display name.
        condition: the whole condition (JSON).
        rules: ``(summary, condition)`` per top-level rule, used by explanations.
        match: ``"all"`` or ``"any"`` (how the top-level rules combine).
        obj: the model instance handed back in ``Visitor.segments``.
    """

    id: int
    slug: str
    name: str
    condition: Mapping[str, Any]
    rules: tuple[tuple[str, Mapping[str, Any]], ...] = ()
    match: str = "all"
    obj: Any = None


@dataclass(frozen=True, slots=True)
class CompiledSegment:
    """A segment with its compiled condition and compiled top-level rules."""

    id: int
    slug: str
    name: str
    condition: CompiledCondition
    rules: tuple[tuple[str, CompiledCondition], ...]
    match: str
    obj: Any


def compile_segment(record: SegmentRecord) -> CompiledSegment:
    """Compile one record.

    Raises:
        ConditionError: when the stored condition is invalid.
    """
    return CompiledSegment(
        id=record.id,
        slug=record.slug,
        name=record.name,
        condition=compile_condition(record.condition),
        rules=tuple((summary, compile_condition(cond)) for summary, cond in record.rules),
        match=record.match,
        obj=record.obj,
    )


class SegmentSet:
    """An immutable, compiled set of live segments.

    Args:
        records: the enabled segments, in the order visitors' matches are reported.
        version: the store version these records were loaded at.
    """

    def __init__(self, records: Iterable[SegmentRecord], version: int | None = None) -> None:
        compiled: list[CompiledSegment] = []
        for record in records:
            try:
                compiled.append(compile_segment(record))
            except ConditionError as exc:
                # Conditions are validated on save; one written around that must not break pages.
                logger.error("segment %r skipped: invalid condition: %s", record.slug, exc)
        #: The compiled segments, in report order.
        self.segments: tuple[CompiledSegment, ...] = tuple(compiled)
        #: The store version the set was built at (None when the store was unreachable).
        self.version = version
        #: Every attribute path any live segment reads.
        self.paths: frozenset[str] = frozenset().union(*(s.condition.paths for s in compiled))
        #: Segment id → name, for explanations.
        self.names: dict[int, str] = {s.id: s.name for s in compiled}
        self._by_slug = {s.slug: s for s in compiled}
        self._by_id = {s.id: s for s in compiled}
        steps = [parse_path(path) for path in sorted(self.paths)]
        self._steps: tuple[tuple[Step, ...], ...] = tuple(s for s in steps if s is not None)
        self._memo: dict[tuple[Any, ...], tuple[CompiledSegment, ...]] = {}

    def __len__(self) -> int:
        return len(self.segments)

    def reads(self, path: str) -> bool:
        """Whether any live segment reads ``path`` or a path below it."""
        prefix = path + "."
        return any(p == path or p.startswith(prefix) for p in self.paths)

    def resolve(self, attributes: Mapping[str, Any]) -> tuple[CompiledSegment, ...]:
        """The segments whose condition the attributes satisfy, in report order.

        A condition depends only on the values at the paths it reads, so visitors with the same
        values there get the same answer: decisions are memoized per fingerprint of those values
        (bounded; dropped with the set when segments change).
        """
        key = self._fingerprint(attributes) if DECISION_MEMO_SIZE > 0 else None
        if key is not None:
            known = self._memo.get(key)
            if known is not None:
                return known
        result = tuple(s for s in self.segments if s.condition(attributes))
        if key is not None:
            self._remember(key, result)
        return result

    def _fingerprint(self, attributes: Mapping[str, Any]) -> tuple[Any, ...] | None:
        try:
            key = tuple(_freeze(read_path(attributes, steps)) for steps in self._steps)
            hash(key)
        except TypeError:
            return None
        return key

    def _remember(self, key: tuple[Any, ...], result: tuple[CompiledSegment, ...]) -> None:
        if len(self._memo) >= DECISION_MEMO_SIZE:
            # Another thread may change the memo meanwhile; losing one entry is harmless.
            with contextlib.suppress(KeyError, RuntimeError, StopIteration):
                del self._memo[next(iter(self._memo))]
        self._memo[key] = result

    def get(self, slug: str) -> CompiledSegment | None:
        """The live segment with this slug, or None."""
        return self._by_slug.get(slug)

    def get_by_id(self, segment_id: int) -> CompiledSegment | None:
        """The live segment with this primary key, or None."""
        return self._by_id.get(segment_id)

    def explain(self, attributes: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Per segment: whether it matched and which top-level rules matched.

        Returns:
            ``[{"slug", "name", "matched", "match", "rules": [{"summary", "matched",
            "attributes"}]}]``; ``attributes`` maps each path a rule reads to the visitor's value.
        """
        return [
            {
                "slug": s.slug,
                "name": s.name,
                "matched": s.condition(attributes),
                "match": s.match,
                "rules": self._rules(s, attributes),
            }
            for s in self.segments
        ]

    def reasons(self, segment_id: int, attributes: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Why the visitor is in a segment: its matched top-level rules and the values they read.

        Returns:
            ``[{"summary", "matched": True, "attributes": {path: value}}]``; empty when the
            segment is unknown or does not match.
        """
        segment = self._by_id.get(segment_id)
        if segment is None or not segment.condition(attributes):
            return []
        return [rule for rule in self._rules(segment, attributes) if rule["matched"]]

    @staticmethod
    def _rules(segment: CompiledSegment, attributes: Mapping[str, Any]) -> list[dict[str, Any]]:
        return [
            {
                "summary": text,
                "matched": rule(attributes),
                "attributes": {path: _value_at(attributes, path) for path in sorted(rule.paths)},
            }
            for text, rule in segment.rules
        ]


def _value_at(attributes: Mapping[str, Any], path: str) -> Any:
    steps = parse_path(path)
    return None if steps is None else read_path(attributes, steps)


class VersionStoreError(Exception):
    """The shared version store could not be reached.

    Args:
        message: what failed.
        reported: the store has logged the failure already (the registry logs at debug).
    """

    def __init__(self, message: str = "", *, reported: bool = False) -> None:
        super().__init__(message)
        self.reported = reported


class VersionStore(Protocol):
    """Where the segment version lives, shared by every process."""

    def current(self) -> int:
        """The current version. Raises VersionStoreError when unreachable."""
        ...

    def bump(self) -> None:
        """Move to a new version. Raises VersionStoreError when unreachable."""
        ...


class MemoryVersionStore:
    """A process-local version store, for tests and single-process set-ups."""

    def __init__(self) -> None:
        self.version = 1

    def current(self) -> int:
        """The current version."""
        return self.version

    def bump(self) -> None:
        """Move to a new version."""
        self.version += 1


class Versioned(Protocol):
    """Something built at a store version (None when the store was unreachable)."""

    @property
    def version(self) -> int | None:
        """The store version it was built at."""
        ...


V = TypeVar("V", bound=Versioned)


class VersionedRegistry(Generic[V]):
    """Hands out a process-wide object, rebuilding it when the shared version moves.

    Args:
        build: builds the object for a store version (runs database queries).
        store: the shared version store.
        warn_interval: seconds between two log lines about an unreachable store.
        label: what the object is, for log lines.
    """

    def __init__(
        self,
        build: Callable[[int | None], V],
        store: VersionStore,
        warn_interval: float = 60.0,
        label: str = "segment",
    ) -> None:
        self._build = build
        self._store = store
        self._lock = threading.Lock()
        self._set: V | None = None
        self._warn_interval = warn_interval
        self._last_warning = 0.0
        self._label = label
        #: A change this process could not announce; announced once the store answers again.
        self._unannounced = False

    def current(self) -> V:
        """The object for this request: one store read, a rebuild only after a change."""
        try:
            version: int | None = self._store.current()
        except VersionStoreError as exc:
            self._warn(exc)
            version = None
            if self._set is not None:
                return self._set
        else:
            if self._unannounced and self._announce():
                version = self._store.current()
        cached = self._set
        if cached is not None and cached.version == version:
            return cached
        with self._lock:
            if self._set is None or self._set.version != version:
                self._set = self._build(version)
            return self._set

    def invalidate(self) -> None:
        """Bump the shared version and drop this process's set.

        When the store is unreachable, the change is announced by this process's first read
        that reaches the store again.
        """
        with self._lock:
            self._set = None
        self._unannounced = True
        if not self._announce():
            logger.error(
                "%s change not announced to other processes yet: the shared store is "
                "unreachable; it is announced when the store answers again",
                self._label,
            )

    def _announce(self) -> bool:
        try:
            self._store.bump()
        except VersionStoreError as exc:
            logger.debug("%s change still not announced: %s", self._label, exc)
            return False
        self._unannounced = False
        return True

    def reset(self) -> None:
        """Drop this process's copy without touching the store (settings changed); the next
        unreachable store is reported again at once."""
        with self._lock:
            self._set = None
            self._last_warning = 0.0
            self._unannounced = False

    def _warn(self, exc: VersionStoreError) -> None:
        if exc.reported:
            logger.debug("%s version store unreachable, using the local copy: %s", self._label, exc)
            return
        now = time.monotonic()
        if now - self._last_warning >= self._warn_interval:
            self._last_warning = now
            logger.warning(
                "%s version store unreachable, using the local copy: %s", self._label, exc
            )


class SegmentRegistry(VersionedRegistry[SegmentSet]):
    """Hands out the current :class:`SegmentSet`, rebuilding it when the version moves.

    Args:
        loader: returns the enabled segments' records (runs a database query).
        store: the shared version store.
        warn_interval: seconds between two log lines about an unreachable store.
    """

    def __init__(
        self,
        loader: Callable[[], Sequence[SegmentRecord]],
        store: VersionStore,
        warn_interval: float = 60.0,
    ) -> None:
        super().__init__(lambda version: SegmentSet(loader(), version), store, warn_interval)
