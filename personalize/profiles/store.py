"""The profile store's interface, its keys, and the configured store of the process.

A profile is found by the logged-in user or, for anonymous visitors, by the visitor id of their
signed cookie (:class:`ProfileKey`). The store is chosen by ``PERSONALIZE["PROFILE_STORE"]``:
:class:`~personalize.profiles.database.DatabaseProfileStore` (the default) or
:class:`~personalize.profiles.memory.MemoryProfileStore` for tests and single-process set-ups.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from personalize.conf import personalize_settings, register_reset
from personalize.rules.scoring import ProfileState

logger = logging.getLogger(__name__)

Change = Callable[[ProfileState], ProfileState]


@dataclass(frozen=True, slots=True)
class ProfileKey:
    """How a profile is found: by user when logged in, else by visitor id."""

    visitor_id: str | None = None
    user_id: int | None = None

    def __post_init__(self) -> None:
        if self.visitor_id is None and self.user_id is None:
            raise ValueError("a profile key needs a visitor id or a user id")

    @property
    def cache_key(self) -> str:
        """The shared-cache key of this profile's copy."""
        prefix = personalize_settings.CACHE_KEY_PREFIX
        if self.user_id is not None:
            return f"{prefix}:profile:u:{self.user_id}"
        return f"{prefix}:profile:v:{self.visitor_id}"


def new_visitor_id() -> str:
    """A random visitor id (UUID4, 122 random bits)."""
    return uuid.uuid4().hex


def valid_visitor_id(value: object) -> str | None:
    """``value`` as a canonical visitor id, or None when it is not one."""
    if not isinstance(value, str) or len(value) != 32:
        return None
    try:
        return uuid.UUID(hex=value).hex
    except ValueError:
        return None


class ProfileStoreError(Exception):
    """A profile could not be written (the caller records nothing and logs)."""


class BaseProfileStore:
    """The interface every profile store implements."""

    def load(self, key: ProfileKey) -> ProfileState | None:
        """The profile, or None when there is none."""
        raise NotImplementedError

    def update(self, key: ProfileKey, change: Change) -> ProfileState:
        """Apply ``change`` atomically to the profile (created empty when missing).

        Returns:
            The profile as written.
        """
        raise NotImplementedError

    def merge_into_user(
        self, visitor_id: str, user_id: int, now: float, half_life_days: float
    ) -> ProfileState | None:
        """Fold the anonymous profile ``visitor_id`` into the user's profile.

        Idempotent: once merged, the anonymous profile is gone and a second call changes
        nothing. A user without a profile takes the anonymous one over.

        Returns:
            The user's profile after the merge, or None when there was nothing to merge.
        """
        raise NotImplementedError

    def visitor_id_of(self, key: ProfileKey) -> str | None:
        """The visitor id of the profile (a user's profile has one too), or None."""
        raise NotImplementedError

    def erase(self, key: ProfileKey) -> int:
        """Delete the profile and every cached copy. Returns how many profiles were deleted."""
        raise NotImplementedError

    def purge(self, before: datetime) -> int:
        """Delete profiles last seen before ``before``. Returns how many were deleted."""
        raise NotImplementedError


def audit_entry(now: float, action: str, visitor_id: str, data: Any) -> dict[str, Any]:
    """The merge audit entry of a profile: when, what happened, and a summary of its data."""
    state = ProfileState.from_json(data)
    return {
        "at": now,
        "action": action,
        "visitor_id": visitor_id,
        "visits": state.visits,
        "score": round(state.score, 2),
        "interests": len(state.interests),
        "prefs": sorted(state.prefs),
    }


def with_audit(state: ProfileState, now: float, action: str, visitor_id: str) -> ProfileState:
    """``state`` with an audit entry of itself appended to its merge history."""
    entry = audit_entry(now, action, visitor_id, state.to_json())
    return replace(state, merges=(*state.merges, entry))


_store: BaseProfileStore | None = None


def profile_store_class() -> type[BaseProfileStore]:
    """The class named by ``PERSONALIZE["PROFILE_STORE"]``.

    Raises:
        ImproperlyConfigured: it cannot be imported or is no ``BaseProfileStore``.
    """
    path = personalize_settings.PROFILE_STORE
    try:
        store_class = import_string(path)
    except ImportError as exc:
        raise ImproperlyConfigured(
            f"PERSONALIZE['PROFILE_STORE'] = {path!r} cannot be imported: {exc}"
        ) from exc
    if not (isinstance(store_class, type) and issubclass(store_class, BaseProfileStore)):
        raise ImproperlyConfigured(
            f"PERSONALIZE['PROFILE_STORE'] = {path!r} is not a BaseProfileStore subclass, e.g. "
            "'personalize.profiles.database.DatabaseProfileStore'."
        )
    return store_class


def profile_store() -> BaseProfileStore:
    """The configured store (``PERSONALIZE["PROFILE_STORE"]``), one per process."""
    global _store
    if _store is None:
        _store = profile_store_class()()
    return _store


def reset_profile_store() -> None:
    """Forget the store instance (settings changed)."""
    global _store
    _store = None


register_reset(reset_profile_store)
