"""Where live analytics counters are kept until the flush moves them into the database.

Counting happens while pages are served, so it has to be cheap and must never break a page:

* the counters of one UTC day live in one hash, ``"<prefix>:an:<YYYY-MM-DD>"`` (``<prefix>`` is
  ``PERSONALIZE["CACHE_KEY_PREFIX"]``); a request adds all of its counters in one round trip;
* a consenting visitor's analytics state (first exposures, conversions, assignments) lives in
  the hash ``"<prefix>:an:v:<visitor_id>"``, which expires after the attribution window (for a
  visitor id minted in the current request, in the visitor cookie until the browser returns it:
  :mod:`personalize.analytics.visitor_state`);
* unique visitors per segment and day are HyperLogLogs, ``"<prefix>:an:hll:<segment>:<day>"``;
* small shared values (optimizer weights) live under ``"<prefix>:an:s:<key>"``.

The flush (:mod:`personalize.analytics.flush`) renames a day's hash to a batch,
``"<prefix>:an:batch:<batch_id>"``, in one atomic step, so counting goes on in a fresh hash while
the batch is written to the database. The sets ``"<prefix>:an:days"`` and
``"<prefix>:an:batches"`` index the live days and the batches, so the flush never scans the
keyspace.

:class:`RedisCounterStore` keeps all of this in Redis (the django-redis cache named by
``PERSONALIZE["CACHE_ALIAS"]``), shared by every process. :class:`LocalCounterStore` keeps it in
process memory: for tests and a demo without Redis, where the counters are visible only to the
process that counted them. :func:`counter_store` picks one.

An unreachable Redis raises :class:`AnalyticsUnavailable` from every store method; callers wrap
their calls in :func:`safely`, which logs one warning a minute and skips the counting.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any, Generic, TypeVar

from django.core.cache import caches

from personalize.cache import CacheUnavailable, breaker
from personalize.conf import personalize_settings, register_reset

logger = logging.getLogger(__name__)

T = TypeVar("T")
D = TypeVar("D")
K = TypeVar("K")
V = TypeVar("V")

#: How long a day's counters survive when no flush runs (a safety net, not a retention).
DAY_TTL = 40 * 24 * 60 * 60
#: How long a unique-visitor HyperLogLog lives: long enough for a 7-day count.
UNIQUE_TTL = 8 * 24 * 60 * 60
#: Seconds a visitor's analytics state (exposures, goals, test assignments) lives after their
#: last counted action. Longer than the attribution window, so that a test assignment sticks;
#: exposures older than the window are ignored when a goal is reached.
VISITOR_STATE_TTL = 90 * 24 * 60 * 60
#: At most one "unreachable" warning per this many seconds.
WARNING_INTERVAL = 60.0
#: How often the local store drops expired entries nobody reads again.
_SWEEP_INTERVAL = 60.0


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

    def record(self, day: date, counts: Mapping[str, int], visit: VisitRecord | None) -> None:
        """Everything one request counts, in one round trip where the store allows.

        Adds ``counts`` to the day's counters. For a consenting visitor (``visit``), each
        exposure seen for the first time is remembered and counted as ``"exp|<dims>"``, and the
        visitor is counted once a day as a unique visitor of the matched segments.
        """
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


class _Keys:
    """The key names, under ``PERSONALIZE["CACHE_KEY_PREFIX"]`` as configured right now."""

    def __init__(self) -> None:
        self.base = f"{personalize_settings.CACHE_KEY_PREFIX}:an:"
        self.days = f"{self.base}days"
        self.batches = f"{self.base}batches"
        self.epoch = f"{self.base}epoch"

    def day(self, day: date) -> str:
        return f"{self.base}{day.isoformat()}"

    def batch(self, batch_id: str) -> str:
        return f"{self.base}batch:{batch_id}"

    def visitor(self, visitor_id: str) -> str:
        return f"{self.base}v:{visitor_id}"

    def unique(self, segment_id: int, day: date) -> str:
        return f"{self.base}hll:{segment_id}:{day.isoformat()}"

    def shared(self, key: str) -> str:
        return f"{self.base}s:{key}"


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _counts(raw: Mapping[Any, Any]) -> dict[str, int]:
    """A hash of counters as text → int (a value that is no integer is logged and dropped)."""
    counts: dict[str, int] = {}
    for field, value in raw.items():
        try:
            counts[_text(field)] = int(value)
        except ValueError:
            logger.warning("analytics counter %r is no integer: %r", _text(field), value)
    return counts


def _day_of(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


@contextmanager
def _unavailable_on_errors() -> Iterator[None]:
    """Run under the shared cache's circuit breaker; failures become
    :class:`AnalyticsUnavailable`."""
    try:
        with breaker.guarding():
            yield
    except CacheUnavailable as exc:
        raise AnalyticsUnavailable(str(exc)) from exc


#: Rename a day's hash to a batch and index the batch, atomically (KEYS: day hash, batch hash,
#: days set, batches set; ARGV: day, batch id, TTL of the batches set).
_START_BATCH = """
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('SREM', KEYS[3], ARGV[1])
  return 0
end
redis.call('RENAME', KEYS[1], KEYS[2])
redis.call('SREM', KEYS[3], ARGV[1])
redis.call('SADD', KEYS[4], ARGV[2])
redis.call('EXPIRE', KEYS[4], ARGV[3])
return 1
"""


#: Add a request's counters to the day's hash and index the day, atomically, as ONE command
#: (KEYS: day hash, days set; ARGV: TTL, day, then field, increment pairs). A request's counts
#: land in the same batch or none, and the client sends a single command.
_ADD = """
for i = 3, #ARGV, 2 do
  redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1])
end
redis.call('EXPIRE', KEYS[1], ARGV[1])
if redis.call('SADD', KEYS[2], ARGV[2]) == 1 then
  redis.call('EXPIRE', KEYS[2], ARGV[1])
end
return 1
"""


#: Everything one request counts, as ONE command. KEYS: day hash, days set, visitor hash, epoch,
#: then one HyperLogLog per matched segment. ARGV: day TTL, day, visitor TTL, time of first
#: exposure, unique TTL, number of counter pairs, number of exposures, marker field ('' none),
#: visitor id, new epoch, then the counter pairs, then the exposures' dimensions.
_RECORD = """
local pairs, exposures = tonumber(ARGV[6]), tonumber(ARGV[7])
local i = 11
for _ = 1, pairs do
  redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1])
  i = i + 2
end
for _ = 1, exposures do
  if redis.call('HSETNX', KEYS[3], 'seen|' .. ARGV[i], ARGV[4]) == 1 then
    redis.call('HINCRBY', KEYS[1], 'exp|' .. ARGV[i], 1)
  end
  i = i + 1
end
if ARGV[8] ~= '' and redis.call('HSETNX', KEYS[3], ARGV[8], '1') == 1 then
  for k = 5, #KEYS do
    redis.call('PFADD', KEYS[k], ARGV[9])
    redis.call('EXPIRE', KEYS[k], ARGV[5])
  end
end
if exposures > 0 or ARGV[8] ~= '' then
  redis.call('EXPIRE', KEYS[3], ARGV[3])
end
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
  if redis.call('SADD', KEYS[2], ARGV[2]) == 1 then
    redis.call('EXPIRE', KEYS[2], ARGV[1])
  end
end
redis.call('SET', KEYS[4], ARGV[10], 'NX')
return 1
"""


class RedisCounterStore(BaseCounterStore):
    """Counters in Redis, through the raw client of a django-redis cache.

    Args:
        alias: the cache alias; default ``PERSONALIZE["CACHE_ALIAS"]``.
    """

    def __init__(self, alias: str | None = None) -> None:
        self.alias = alias
        #: The registered scripts per client and source (EVALSHA, loaded once).
        self._scripts: dict[tuple[int, str], Any] = {}

    def _client(self) -> Any:
        from django_redis import get_redis_connection

        return get_redis_connection(self.alias or personalize_settings.CACHE_ALIAS)

    def _script(self, client: Any, source: str) -> Any:
        """The registered script for this client (EVALSHA, loaded once)."""
        key = (id(client), source)
        script = self._scripts.get(key)
        if script is None:
            script = self._scripts[key] = client.register_script(source)
        return script

    def add(self, day: date, counts: Mapping[str, int]) -> None:
        """HINCRBY every counter in one atomic script (a batch gets all of them or none)."""
        counts = {field: n for field, n in counts.items() if n}
        if not counts:
            return
        keys = _Keys()
        pairs = [item for field, n in counts.items() for item in (field, n)]
        with _unavailable_on_errors():
            client = self._client()
            self._script(client, _ADD)(
                keys=[keys.day(day), keys.days], args=[DAY_TTL, day.isoformat(), *pairs]
            )

    def record(self, day: date, counts: Mapping[str, int], visit: VisitRecord | None) -> None:
        """Counters, first exposures, unique visitors and the epoch in one atomic script."""
        counts = {field: n for field, n in counts.items() if n}
        if not counts and visit is None:
            return
        keys = _Keys()
        pairs = [item for field, n in counts.items() for item in (field, n)]
        exposures = visit.exposures if visit is not None else ()
        marker = visit.marker if visit is not None and visit.segment_ids else ""
        visitor_id = visit.visitor_id if visit is not None else ""
        script_keys = [
            keys.day(day),
            keys.days,
            keys.visitor(visitor_id) if visitor_id else f"{keys.base}v:-",
            keys.epoch,
            *(keys.unique(s, day) for s in (visit.segment_ids if marker and visit else ())),
        ]
        args = [
            DAY_TTL,
            day.isoformat(),
            VISITOR_STATE_TTL,
            visit.now if visit is not None else "",
            UNIQUE_TTL,
            len(counts),
            len(exposures),
            marker,
            visitor_id,
            uuid.uuid4().hex,
            *pairs,
            *exposures,
        ]
        with _unavailable_on_errors():
            client = self._client()
            self._script(client, _RECORD)(keys=script_keys, args=args)

    def epoch(self) -> str | None:
        """GET of the epoch key."""
        with _unavailable_on_errors():
            value = self._client().get(_Keys().epoch)
        return None if value is None else _text(value)

    def ensure_epoch(self) -> str | None:
        """SET NX of a new epoch, then GET (one round trip)."""
        key = _Keys().epoch
        with _unavailable_on_errors():
            pipe = self._client().pipeline(transaction=True)
            pipe.set(key, uuid.uuid4().hex, nx=True)
            pipe.get(key)
            _, value = pipe.execute()
        return None if value is None else _text(value)

    def first_time(self, visitor_id: str, field: str, value: str, ttl: int) -> bool:
        """HSETNX and EXPIRE in one round trip."""
        key = _Keys().visitor(visitor_id)
        with _unavailable_on_errors():
            pipe = self._client().pipeline(transaction=True)
            pipe.hsetnx(key, field, value)
            pipe.expire(key, ttl)
            created, _ = pipe.execute()
        return bool(created)

    def first_times(self, visitor_id: str, fields: Sequence[str], value: str, ttl: int) -> set[str]:
        """HSETNX of every field and one EXPIRE, in one round trip."""
        if not fields:
            return set()
        key = _Keys().visitor(visitor_id)
        with _unavailable_on_errors():
            pipe = self._client().pipeline(transaction=True)
            for field in fields:
                pipe.hsetnx(key, field, value)
            pipe.expire(key, ttl)
            results = pipe.execute()
        return {field for field, created in zip(fields, results, strict=False) if created}

    def remember_fields(self, visitor_id: str, fields: Mapping[str, str], ttl: int) -> None:
        """HSETNX of every field and one EXPIRE, in one round trip."""
        if not fields:
            return
        key = _Keys().visitor(visitor_id)
        with _unavailable_on_errors():
            pipe = self._client().pipeline(transaction=True)
            for field, value in fields.items():
                pipe.hsetnx(key, field, value)
            pipe.expire(key, ttl)
            pipe.execute()

    def visitor_fields(self, visitor_id: str) -> dict[str, str]:
        """HGETALL of the visitor's hash."""
        with _unavailable_on_errors():
            raw = self._client().hgetall(_Keys().visitor(visitor_id))
        return {_text(field): _text(value) for field, value in raw.items()}

    def set_visitor_field(self, visitor_id: str, field: str, value: str, ttl: int) -> None:
        """HSET and EXPIRE in one round trip."""
        key = _Keys().visitor(visitor_id)
        with _unavailable_on_errors():
            pipe = self._client().pipeline(transaction=True)
            pipe.hset(key, field, value)
            pipe.expire(key, ttl)
            pipe.execute()

    def forget_visitor(self, visitor_id: str) -> None:
        """DEL the visitor's hash."""
        with _unavailable_on_errors():
            self._client().delete(_Keys().visitor(visitor_id))

    def add_unique(self, segment_id: int, day: date, visitor_id: str) -> None:
        """PFADD and EXPIRE in one round trip."""
        key = _Keys().unique(segment_id, day)
        with _unavailable_on_errors():
            pipe = self._client().pipeline(transaction=True)
            pipe.pfadd(key, visitor_id)
            pipe.expire(key, UNIQUE_TTL)
            pipe.execute()

    def add_unique_many(self, segment_ids: Sequence[int], day: date, visitor_id: str) -> None:
        """PFADD and EXPIRE per segment, in one round trip."""
        if not segment_ids:
            return
        keys = _Keys()
        with _unavailable_on_errors():
            pipe = self._client().pipeline(transaction=False)
            for segment_id in segment_ids:
                pipe.pfadd(keys.unique(segment_id, day), visitor_id)
                pipe.expire(keys.unique(segment_id, day), UNIQUE_TTL)
            pipe.execute()

    def unique_visitors(self, segment_id: int, days: Sequence[date]) -> int:
        """PFCOUNT over the days' HyperLogLogs (their union)."""
        if not days:
            return 0
        keys = _Keys()
        with _unavailable_on_errors():
            return int(self._client().pfcount(*(keys.unique(segment_id, day) for day in days)))

    def live_counts(self, days: Sequence[date]) -> dict[date, dict[str, int]]:
        """HGETALL of each day's hash, in one round trip."""
        keys = _Keys()
        with _unavailable_on_errors():
            pipe = self._client().pipeline(transaction=False)
            for day in days:
                pipe.hgetall(keys.day(day))
            hashes = pipe.execute()
        return {day: _counts(raw) for day, raw in zip(days, hashes, strict=True)}

    def shared_get(self, key: str) -> str | None:
        """GET."""
        with _unavailable_on_errors():
            value = self._client().get(_Keys().shared(key))
        return None if value is None else _text(value)

    def shared_set(self, key: str, value: str, ttl: int) -> None:
        """SET with EX."""
        with _unavailable_on_errors():
            self._client().set(_Keys().shared(key), value, ex=ttl)

    def live_days(self) -> list[date]:
        """SMEMBERS of the days set."""
        with _unavailable_on_errors():
            members = self._client().smembers(_Keys().days)
        return sorted(day for day in map(_day_of, map(_text, members)) if day is not None)

    def pending_batches(self) -> list[str]:
        """SMEMBERS of the batches set (an id that is no batch id is logged and skipped)."""
        with _unavailable_on_errors():
            members = self._client().smembers(_Keys().batches)
        ids = []
        for batch_id in sorted(map(_text, members)):
            if batch_day(batch_id) is None:
                logger.warning("ignoring analytics batch with a malformed id: %r", batch_id)
            else:
                ids.append(batch_id)
        return ids

    def start_batch(self, day: date) -> str | None:
        """RENAME the day's hash to a batch key, atomically with the index updates (Lua)."""
        keys = _Keys()
        batch_id = new_batch_id(day)
        with _unavailable_on_errors():
            moved = self._client().eval(
                _START_BATCH,
                4,
                keys.day(day),
                keys.batch(batch_id),
                keys.days,
                keys.batches,
                day.isoformat(),
                batch_id,
                DAY_TTL,
            )
        return batch_id if moved else None

    def batch_counts(self, batch_id: str) -> tuple[date, dict[str, int]]:
        """HGETALL of the batch.

        Raises:
            ValueError: ``batch_id`` is no batch id.
        """
        day = batch_day(batch_id)
        if day is None:
            raise ValueError(f"not an analytics batch id: {batch_id!r}")
        with _unavailable_on_errors():
            raw = self._client().hgetall(_Keys().batch(batch_id))
        return day, _counts(raw)

    def drop_batch(self, batch_id: str) -> None:
        """DEL the batch and remove it from the index, in one MULTI/EXEC."""
        keys = _Keys()
        with _unavailable_on_errors():
            pipe = self._client().pipeline(transaction=True)
            pipe.delete(keys.batch(batch_id))
            pipe.srem(keys.batches, batch_id)
            pipe.execute()


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


class _RateLimitedWarning:
    """Logs "analytics store unreachable" at most once per ``interval`` seconds."""

    def __init__(self, interval: float = WARNING_INTERVAL) -> None:
        self.interval = interval
        self.clock: Callable[[], float] = time.monotonic
        self.last: float | None = None
        self._lock = threading.Lock()

    def __call__(self, exc: BaseException) -> None:
        now = self.clock()
        with self._lock:
            if self.last is not None and now - self.last < self.interval:
                return
            self.last = now
        logger.warning("analytics store unreachable, counting skipped: %s", exc)

    def reset(self) -> None:
        with self._lock:
            self.last = None


_warn_unavailable = _RateLimitedWarning()


def safely(call: Callable[[], T], default: D) -> T | D:
    """Run a store call; when the store is unreachable, log (once a minute) and return default.

    Example::

        first = safely(lambda: store.first_time(visitor_id, field, now, ttl), False)

    Args:
        call: a function without arguments that uses the store.
        default: what to return when the store raised :class:`AnalyticsUnavailable`.
    """
    try:
        return call()
    except AnalyticsUnavailable as exc:
        if isinstance(exc.__cause__, CacheUnavailable):
            # The shared cache's circuit breaker has logged the outage.
            logger.debug("analytics store unreachable, counting skipped: %s", exc)
        else:
            _warn_unavailable(exc)
        return default


_store: BaseCounterStore | None = None
_store_lock = threading.Lock()


def _make_store() -> BaseCounterStore:
    from django_redis.cache import RedisCache

    alias = personalize_settings.CACHE_ALIAS
    if isinstance(caches[alias], RedisCache):
        return RedisCounterStore(alias)
    return LocalCounterStore()


def counter_store() -> BaseCounterStore:
    """The process's counter store.

    :class:`RedisCounterStore` when ``CACHES[PERSONALIZE["CACHE_ALIAS"]]`` is a django-redis
    cache, else :class:`LocalCounterStore`. Created once per process.
    """
    global _store
    store = _store
    if store is None:
        with _store_lock:
            if _store is None:
                _store = _make_store()
            store = _store
    return store


def reset_counter_store() -> None:
    """Forget the store (settings changed; every test starts empty) and the warning limit."""
    global _store
    with _store_lock:
        _store = None
    _warn_unavailable.reset()


register_reset(reset_counter_store, frozenset({"CACHES", "PERSONALIZE", "TIME_ZONE"}))
