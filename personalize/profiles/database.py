"""The database profile store: one row per profile, a short-lived copy in the shared cache.

Every write locks the row (``SELECT … FOR UPDATE``), so concurrent events for one visitor are
never lost; a warm read costs no query.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q

from personalize import cache
from personalize.conf import personalize_settings
from personalize.profiles.store import (
    BaseProfileStore,
    Change,
    ProfileKey,
    ProfileStoreError,
    audit_entry,
    with_audit,
)
from personalize.rules.scoring import ProfileState, merge

logger = logging.getLogger(__name__)


class DatabaseProfileStore(BaseProfileStore):
    """Profiles in the ``Profile`` table, read through the shared cache."""

    def _cache_get(self, key: ProfileKey) -> dict[str, Any] | None:
        """The cached entry ``{"d": data or None, "pk", "rev"}``, or None on a miss.

        Read from the request's prefetch when the middleware hinted the key. An unreachable
        cache is a miss (the breaker in :mod:`personalize.cache` has logged it).
        """
        try:
            hit = cache.read(key.cache_key)
        except cache.CacheUnavailable:
            return None
        return hit if isinstance(hit, dict) and "d" in hit else None

    def _cache_set(self, key: ProfileKey, entry: dict[str, Any]) -> None:
        shared = cache.shared_cache()
        timeout = personalize_settings.PROFILE_CACHE_TIMEOUT
        try:
            cache.guarded(lambda: shared.set(key.cache_key, entry, timeout=timeout))
        except cache.CacheUnavailable:
            cache.remember(key.cache_key, None)
            return
        cache.remember(key.cache_key, entry)

    def forget(self, *keys: ProfileKey) -> None:
        """Drop the cached copies of these profiles."""
        names = [key.cache_key for key in keys]
        for name in names:
            cache.remember(name, None)
        shared = cache.shared_cache()
        try:
            cache.guarded(lambda: shared.delete_many(names))
        except cache.CacheUnavailable:
            logger.debug("profile cache unreachable, %d copies expire on their own", len(names))

    @staticmethod
    def _lookup(key: ProfileKey) -> dict[str, Any]:
        if key.user_id is not None:
            return {"user_id": key.user_id}
        # A visitor id that was linked to an account at login no longer opens that profile:
        # the next person on the browser must not read it.
        return {"visitor_id": key.visitor_id, "user__isnull": True}

    def load(self, key: ProfileKey) -> ProfileState | None:
        """The profile: from the cache when warm, else one query (then cached)."""
        entry = self._entry(key)
        return None if entry["d"] is None else ProfileState.from_json(entry["d"])

    def _entry(self, key: ProfileKey) -> dict[str, Any]:
        from personalize.models import Profile

        entry = self._cache_get(key)
        if entry is None:
            rows = Profile.objects.filter(**self._lookup(key)).values_list("pk", "rev", "data")
            found = rows.first()
            entry = (
                {"d": None} if found is None else {"pk": found[0], "rev": found[1], "d": found[2]}
            )
            self._cache_set(key, entry)
        return entry

    def update(self, key: ProfileKey, change: Change) -> ProfileState:
        """Apply ``change`` atomically.

        With a warm cached copy this is one conditional ``UPDATE … WHERE rev = <cached rev>``:
        the row still holds exactly the cached data, so the change applies to it. When another
        write came first (or nothing is cached), the row is locked, read, changed and written.
        """
        written = self._update_cached(key, change)
        if written is not None:
            return written
        with transaction.atomic():
            row = self._locked(key)
            state = change(ProfileState.from_json(row.data))
            self._write(row, state)
        self._forget_after_write(key)
        return state

    def _update_cached(self, key: ProfileKey, change: Change) -> ProfileState | None:
        from personalize.models import Profile

        entry = self._cache_get(key)
        if entry is None or entry.get("pk") is None or not isinstance(entry.get("rev"), int):
            return None
        state = change(ProfileState.from_json(entry["d"]))
        data = state.to_json()
        fields: dict[str, Any] = {"data": data, "rev": F("rev") + 1}
        if state.last_seen is not None:
            fields["last_seen"] = datetime.fromtimestamp(state.last_seen, UTC)
        rows = Profile.objects.filter(pk=entry["pk"], rev=entry["rev"], **self._lookup(key))
        if rows.update(**fields) != 1:
            return None
        if transaction.get_connection().in_atomic_block:
            # Not committed yet: the next reader takes the row from the database.
            self._forget_after_write(key)
        else:
            self._cache_set(key, {"pk": entry["pk"], "rev": entry["rev"] + 1, "d": data})
        return state

    def _forget_after_write(self, *keys: ProfileKey) -> None:
        """Drop cached copies now and, inside an outer transaction, again once it commits
        (another request may cache the old row until then)."""
        self.forget(*keys)
        if transaction.get_connection().in_atomic_block:
            transaction.on_commit(lambda: self.forget(*keys))

    def _locked(self, key: ProfileKey) -> Any:
        from personalize.models import Profile

        lookup = self._lookup(key)
        row = Profile.objects.select_for_update().filter(**lookup).first()
        if row is None:
            fields = {k: v for k, v in lookup.items() if k != "user__isnull"}
            try:
                with transaction.atomic():
                    row = Profile.objects.create(**fields)
            except IntegrityError:
                # Another request created it first: wait for its lock. Or the visitor id belongs
                # to an account's profile now, which an anonymous request may not write.
                row = Profile.objects.select_for_update().filter(**lookup).first()
                if row is None:
                    raise ProfileStoreError(
                        "this visitor id belongs to a user's profile now"
                    ) from None
        return row

    @staticmethod
    def _write(row: Any, state: ProfileState, *fields: str) -> None:
        row.data = state.to_json()
        row.rev += 1
        if state.last_seen is not None:
            row.last_seen = datetime.fromtimestamp(state.last_seen, UTC)
        row.save(update_fields=["data", "last_seen", "rev", *fields])

    def merge_into_user(
        self, visitor_id: str, user_id: int, now: float, half_life_days: float
    ) -> ProfileState | None:
        """Merge under row locks taken in primary-key order (no deadlock between merges)."""
        from personalize.models import Profile

        anonymous_key = ProfileKey(visitor_id=visitor_id)
        user_key = ProfileKey(user_id=user_id)
        with transaction.atomic():
            query = Q(visitor_id=visitor_id, user__isnull=True) | Q(user_id=user_id)
            rows = list(Profile.objects.select_for_update().filter(query).order_by("pk"))
            anonymous = next((r for r in rows if r.user_id is None), None)
            known = next((r for r in rows if r.user_id == user_id), None)
            if anonymous is None:
                state = None if known is None else ProfileState.from_json(known.data)
            elif known is None:
                anonymous.user_id = user_id
                state = ProfileState.from_json(anonymous.data)
                state = with_audit(state, now, "linked", anonymous.visitor_id.hex)
                self._write(anonymous, state, "user")
            else:
                state = merge(
                    ProfileState.from_json(anonymous.data),
                    ProfileState.from_json(known.data),
                    now,
                    half_life_days=half_life_days,
                    audit=audit_entry(now, "merged", anonymous.visitor_id.hex, anonymous.data),
                )
                anonymous.delete()
                self._write(known, state)
        self._forget_after_write(anonymous_key, user_key)
        return state

    def visitor_id_of(self, key: ProfileKey) -> str | None:
        """The profile's visitor id (one query)."""
        from personalize.models import Profile

        value = Profile.objects.filter(**self._lookup(key)).values_list("visitor_id", flat=True)
        found = value.first()
        return None if found is None else found.hex

    def erase(self, key: ProfileKey) -> int:
        """Delete the row (and the cached copies of both of its keys)."""
        from personalize.models import Profile

        rows = Profile.objects.filter(**self._lookup(key))
        keys = [key, *_keys_of(rows.values_list("visitor_id", "user_id"))]
        deleted, _ = rows.delete()
        self._forget_after_write(*keys)
        return int(deleted)

    def purge(self, before: datetime) -> int:
        """Delete profiles not seen since ``before`` (their cached copies expire on their own)."""
        from personalize.models import Profile

        stale = Profile.objects.filter(last_seen__lt=before)
        keys = _keys_of(stale.values_list("visitor_id", "user_id"))
        deleted, _ = stale.delete()
        self.forget(*keys)
        return int(deleted)


def _keys_of(rows: Any) -> list[ProfileKey]:
    """Both cache keys of each ``(visitor_id, user_id)`` row."""
    keys = []
    for visitor_id, user_id in rows:
        keys.append(ProfileKey(visitor_id=visitor_id.hex))
        if user_id is not None:
            keys.append(ProfileKey(user_id=user_id))
    return keys
