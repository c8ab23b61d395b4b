"""The Redis counter store: every process's counters in the shared Redis.

The key layout is described in :mod:`personalize.analytics.counters`. A request's counting is one
Lua script (counters, first exposures, unique visitors, the store epoch and the page view's sample,
:mod:`personalize.analytics.redis_scripts`); the flush renames a day's hash to a batch atomically.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date
from typing import Any

from personalize.analytics import redis_scripts
from personalize.analytics.counters import (
    DAY_TTL,
    SAMPLE_TTL,
    UNIQUE_TTL,
    VISITOR_STATE_TTL,
    AnalyticsUnavailable,
    BaseCounterStore,
    VisitRecord,
    VisitSample,
    batch_day,
    counts_of,
    day_of,
    new_batch_id,
    text_of,
)
from personalize.cache import CacheUnavailable, breaker
from personalize.conf import personalize_settings

logger = logging.getLogger(__name__)


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

    def sample(self, day: date) -> str:
        return f"{self.base}smp:{day.isoformat()}"


@contextmanager
def _unavailable_on_errors() -> Iterator[None]:
    """Run under the shared cache's circuit breaker; failures become
    :class:`AnalyticsUnavailable`."""
    try:
        with breaker.guarding():
            yield
    except CacheUnavailable as exc:
        raise AnalyticsUnavailable(str(exc)) from exc


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
            self._script(client, redis_scripts.ADD)(
                keys=[keys.day(day), keys.days], args=[DAY_TTL, day.isoformat(), *pairs]
            )

    def record(
        self,
        day: date,
        counts: Mapping[str, int],
        visit: VisitRecord | None,
        *,
        sample: VisitSample | None = None,
    ) -> None:
        """Counters, first exposures, unique visitors, the epoch and the sample in one script."""
        counts = {field: n for field, n in counts.items() if n}
        if not counts and visit is None and sample is None:
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
            keys.sample(day),
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
            sample.snapshot if sample is not None else "",
            sample.draw if sample is not None else 0,
            sample.size if sample is not None else 0,
            SAMPLE_TTL,
            *pairs,
            *exposures,
        ]
        with _unavailable_on_errors():
            client = self._client()
            self._script(client, redis_scripts.RECORD)(keys=script_keys, args=args)

    def epoch(self) -> str | None:
        """GET of the epoch key."""
        with _unavailable_on_errors():
            value = self._client().get(_Keys().epoch)
        return None if value is None else text_of(value)

    def ensure_epoch(self) -> str | None:
        """SET NX of a new epoch, then GET (one round trip)."""
        key = _Keys().epoch
        with _unavailable_on_errors():
            pipe = self._client().pipeline(transaction=True)
            pipe.set(key, uuid.uuid4().hex, nx=True)
            pipe.get(key)
            _, value = pipe.execute()
        return None if value is None else text_of(value)

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
        return {text_of(field): text_of(value) for field, value in raw.items()}

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
        return {day: counts_of(raw) for day, raw in zip(days, hashes, strict=True)}

    def add_sample(self, day: date, sample: VisitSample) -> None:
        """The sample part of :meth:`record`'s script, alone."""
        self.record(day, {}, None, sample=sample)

    def samples(self, days: Sequence[date]) -> dict[date, tuple[int, list[str]]]:
        """HGETALL of each day's sample, in one round trip."""
        keys = _Keys()
        with _unavailable_on_errors():
            pipe = self._client().pipeline(transaction=False)
            for day in days:
                pipe.hgetall(keys.sample(day))
            hashes = pipe.execute()
        found = {}
        for day, raw in zip(days, hashes, strict=True):
            fields = {text_of(field): text_of(value) for field, value in raw.items()}
            seen = fields.pop("n", "0")
            found[day] = (int(seen) if seen.isdigit() else 0, list(fields.values()))
        return found

    def shared_get(self, key: str) -> str | None:
        """GET."""
        with _unavailable_on_errors():
            value = self._client().get(_Keys().shared(key))
        return None if value is None else text_of(value)

    def shared_set(self, key: str, value: str, ttl: int) -> None:
        """SET with EX."""
        with _unavailable_on_errors():
            self._client().set(_Keys().shared(key), value, ex=ttl)

    def live_days(self) -> list[date]:
        """SMEMBERS of the days set."""
        with _unavailable_on_errors():
            members = self._client().smembers(_Keys().days)
        return sorted(day for day in map(day_of, map(text_of, members)) if day is not None)

    def pending_batches(self) -> list[str]:
        """SMEMBERS of the batches set (an id that is no batch id is logged and skipped)."""
        with _unavailable_on_errors():
            members = self._client().smembers(_Keys().batches)
        ids = []
        for batch_id in sorted(map(text_of, members)):
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
                redis_scripts.START_BATCH,
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
        return day, counts_of(raw)

    def drop_batch(self, batch_id: str) -> None:
        """DEL the batch and remove it from the index, in one MULTI/EXEC."""
        keys = _Keys()
        with _unavailable_on_errors():
            pipe = self._client().pipeline(transaction=True)
            pipe.delete(keys.batch(batch_id))
            pipe.srem(keys.batches, batch_id)
            pipe.execute()
