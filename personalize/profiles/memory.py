"""The in-memory profile store, for tests and single-process set-ups."""

from __future__ import annotations

import threading
from datetime import datetime

from personalize.profiles.store import (
    BaseProfileStore,
    Change,
    ProfileKey,
    ProfileStoreError,
    audit_entry,
    new_visitor_id,
    with_audit,
)
from personalize.rules.scoring import ProfileState, merge


class MemoryProfileStore(BaseProfileStore):
    """Profiles in process memory (tests, single-process demos)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        #: visitor id → (user id or None, state)
        self.profiles: dict[str, tuple[int | None, ProfileState]] = {}

    def _find(self, key: ProfileKey) -> str | None:
        if key.user_id is not None:
            return next((v for v, (u, _) in self.profiles.items() if u == key.user_id), None)
        found = self.profiles.get(key.visitor_id or "")
        return key.visitor_id if found is not None and found[0] is None else None

    def load(self, key: ProfileKey) -> ProfileState | None:
        """The profile, or None."""
        with self._lock:
            found = self._find(key)
            return None if found is None else self.profiles[found][1]

    def update(self, key: ProfileKey, change: Change) -> ProfileState:
        """Apply ``change`` under the store's lock."""
        with self._lock:
            found = self._find(key)
            if found is None:
                found = key.visitor_id if key.user_id is None else new_visitor_id()
                assert found is not None  # noqa: S101 - a key has a visitor id or a user id
                if found in self.profiles:
                    raise ProfileStoreError("this visitor id belongs to a user's profile now")
                self.profiles[found] = (key.user_id, ProfileState())
            user_id, state = self.profiles[found]
            state = change(state)
            self.profiles[found] = (user_id, state)
            return state

    def merge_into_user(
        self, visitor_id: str, user_id: int, now: float, half_life_days: float
    ) -> ProfileState | None:
        """Merge as the database store does."""
        with self._lock:
            anonymous = self.profiles.get(visitor_id)
            if anonymous is not None and anonymous[0] is not None:
                anonymous = None
            known_id = self._find(ProfileKey(user_id=user_id))
            if anonymous is None:
                return None if known_id is None else self.profiles[known_id][1]
            if known_id is None:
                state = with_audit(anonymous[1], now, "linked", visitor_id)
                self.profiles[visitor_id] = (user_id, state)
                return state
            state = merge(
                anonymous[1],
                self.profiles[known_id][1],
                now,
                half_life_days=half_life_days,
                audit=audit_entry(now, "merged", visitor_id, anonymous[1].to_json()),
            )
            del self.profiles[visitor_id]
            self.profiles[known_id] = (user_id, state)
            return state

    def visitor_id_of(self, key: ProfileKey) -> str | None:
        """The profile's visitor id."""
        with self._lock:
            return self._find(key)

    def erase(self, key: ProfileKey) -> int:
        """Delete the profile."""
        with self._lock:
            found = self._find(key)
            if found is None:
                return 0
            del self.profiles[found]
            return 1

    def purge(self, before: datetime) -> int:
        """Delete profiles last seen before ``before``."""
        cutoff = before.timestamp()
        with self._lock:
            stale = [v for v, (_, s) in self.profiles.items() if (s.last_seen or 0) < cutoff]
            for visitor_id in stale:
                del self.profiles[visitor_id]
            return len(stale)
