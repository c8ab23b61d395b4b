"""The visitor profile: its state, how it fades, and how it is read back from storage.

Pure data and functions: no Django, no clock, no storage. :class:`ProfileState` is what is known
about one visitor; :meth:`ProfileState.to_json` and :meth:`ProfileState.from_json` turn it into
plain JSON-able data and back, and reading never raises: whatever the stored data holds, each
malformed field takes its default and every key, value and collection is bounded by the
``MAX_*`` constants. :func:`decayed` fades a profile's score and interests with a half-life.

Events that change a profile live in :mod:`personalize.rules.scoring`, and joining two profiles
in :mod:`personalize.rules.merge`; both re-use the bounds here, so that a profile built by any of
them reads back unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

#: Days after which a score or an interest has lost half its weight.
DEFAULT_HALF_LIFE_DAYS = 30.0

#: Longest tag, preference key or rule key kept in a profile.
MAX_KEY_LENGTH = 100
#: Longest preference value kept in a profile.
MAX_VALUE_LENGTH = 500
#: Most interests kept (the strongest win).
MAX_INTERESTS = 200
#: Most preferences kept (the newest win).
MAX_PREFS = 50
#: Most merge audit entries kept (the newest win).
MAX_MERGES = 100
#: Most consent purposes and rule keys read from stored data.
MAX_CONSENT = 20
MAX_RULE_KEYS = 500

# Interests that decay below this are forgotten.
_MIN_INTEREST = 0.01
_SECONDS_PER_DAY = 86400.0


@dataclass(frozen=True, slots=True)
class ProfileState:
    """What is known about one visitor. Update it with :func:`dataclasses.replace`."""

    #: Visits counted so far.
    visits: int = 0
    #: Time of the first event.
    first_seen: float | None = None
    #: Time of the latest event.
    last_seen: float | None = None
    #: Points, decayed up to ``decayed_at``; never negative.
    score: float = 0
    #: Highest score ever reached; never decays.
    peak_score: float = 0
    #: Time up to which ``score`` and ``interests`` are decayed.
    decayed_at: float | None = None
    #: Interest points per lower-case tag, decayed like the score.
    interests: dict[str, float] = field(default_factory=dict)
    #: Preferences the visitor chose.
    prefs: dict[str, str] = field(default_factory=dict)
    #: When each preference was set.
    prefs_at: dict[str, float] = field(default_factory=dict)
    #: Purposes the visitor consented to.
    consent: tuple[str, ...] = ()
    #: When the consent was given.
    consent_at: float | None = None
    #: Points per rule key within the current visit.
    visit_points: dict[str, float] = field(default_factory=dict)
    #: Points per rule key over the visitor's life.
    total_points: dict[str, float] = field(default_factory=dict)
    #: Audit entries of the merges that built this profile, oldest first.
    merges: tuple[dict[str, Any], ...] = ()

    def to_json(self) -> dict[str, Any]:
        """Return the profile as plain JSON-able data (merge entries must be JSON-able).

        Returns:
            A dict that :meth:`from_json` turns back into an equal profile.
        """
        return {
            "visits": self.visits,
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "score": self.score,
            "peak_score": self.peak_score,
            "decayed_at": self.decayed_at,
            "interests": dict(self.interests),
            "prefs": dict(self.prefs),
            "prefs_at": dict(self.prefs_at),
            "consent": list(self.consent),
            "consent_at": self.consent_at,
            "visit_points": dict(self.visit_points),
            "total_points": dict(self.total_points),
            "merges": [dict(entry) for entry in self.merges],
        }

    @classmethod
    def from_json(cls, data: Any) -> ProfileState:
        """Read a profile from stored data, whatever shape it has.

        Args:
            data: Usually what :meth:`to_json` returned; anything else is tolerated.

        Returns:
            The profile; each field that is missing or malformed takes its default, and keys,
            values and collections are bounded (see the ``MAX_*`` constants).
        """
        if not isinstance(data, Mapping):
            return cls()
        prefs_at = _number_map(data.get("prefs_at"), MAX_PREFS * 4)
        prefs = _bounded_prefs(_text_map(data.get("prefs")), prefs_at)
        return cls(
            visits=_count(data.get("visits")),
            first_seen=_number(data.get("first_seen")),
            last_seen=_number(data.get("last_seen")),
            score=max(0.0, _number(data.get("score")) or 0.0),
            peak_score=max(0.0, _number(data.get("peak_score")) or 0.0),
            decayed_at=_number(data.get("decayed_at")),
            interests=_strongest(
                {k: v for k, v in _number_map(data.get("interests")).items() if v > 0}
            ),
            prefs=prefs,
            prefs_at={key: at for key, at in prefs_at.items() if key in prefs},
            consent=_consent(data.get("consent")),
            consent_at=_number(data.get("consent_at")),
            visit_points=_number_map(data.get("visit_points"), MAX_RULE_KEYS),
            total_points=_number_map(data.get("total_points"), MAX_RULE_KEYS),
            merges=_merges(data.get("merges")),
        )


def decay(value: float, elapsed_seconds: float, half_life_days: float) -> float:
    """Fade a value exponentially.

    Args:
        value: The value at the start.
        elapsed_seconds: Time since the start; zero, negative or NaN leaves the value as is.
        half_life_days: Days after which the value is halved; zero or less means no decay.

    Returns:
        ``value * 0.5 ** (elapsed / half_life)``.
    """
    if not elapsed_seconds > 0 or not half_life_days > 0:
        return value
    return value * math.pow(0.5, elapsed_seconds / (half_life_days * _SECONDS_PER_DAY))


def decayed(state: ProfileState, now: float, half_life_days: float) -> ProfileState:
    """Decay the score and interests of a profile up to ``now``.

    Args:
        state: The profile.
        now: The current time.
        half_life_days: See :func:`decay`.

    Returns:
        The profile with ``decayed_at`` at ``now`` (it never moves backwards), interests below
        0.01 dropped and ``peak_score`` untouched.
    """
    if state.decayed_at is None:
        return replace(state, decayed_at=now)
    elapsed = now - state.decayed_at
    interests = {
        tag: faded
        for tag, points in state.interests.items()
        if (faded := decay(points, elapsed, half_life_days)) >= _MIN_INTEREST
    }
    return replace(
        state,
        score=decay(state.score, elapsed, half_life_days),
        interests=interests,
        decayed_at=max(state.decayed_at, now),
    )


# Bounding collections: shared by reading, applying events and merging.


def _strongest(interests: dict[str, float]) -> dict[str, float]:
    if len(interests) <= MAX_INTERESTS:
        return interests
    ranked = sorted(interests.items(), key=lambda item: (-item[1], item[0]))
    return dict(ranked[:MAX_INTERESTS])


def _bounded_prefs(prefs: dict[str, str], prefs_at: Mapping[str, float]) -> dict[str, str]:
    if len(prefs) <= MAX_PREFS:
        return prefs
    newest = sorted(prefs, key=lambda key: prefs_at.get(key, -math.inf), reverse=True)
    return {key: prefs[key] for key in newest[:MAX_PREFS]}


# Reading stored data: every reader returns a default instead of raising.


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        return 0
    return max(0, value)


def _key(value: Any) -> str | None:
    if isinstance(value, str) and 0 < len(value) <= MAX_KEY_LENGTH:
        return value
    return None


def _items(value: Any, limit: int) -> list[tuple[str, Any]]:
    if not isinstance(value, Mapping):
        return []
    items: list[tuple[str, Any]] = []
    for raw_key, raw_value in value.items():
        key = _key(raw_key)
        if key is not None:
            items.append((key, raw_value))
            if len(items) >= limit:
                break
    return items


def _number_map(value: Any, limit: int = MAX_INTERESTS * 4) -> dict[str, float]:
    numbers = {key: _number(raw) for key, raw in _items(value, limit)}
    return {key: number for key, number in numbers.items() if number is not None}


def _text_map(value: Any) -> dict[str, str]:
    return {
        key: raw[:MAX_VALUE_LENGTH]
        for key, raw in _items(value, MAX_PREFS * 4)
        if isinstance(raw, str)
    }


def _consent(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list | tuple):
        return ()
    purposes = [key for item in value[: MAX_CONSENT * 4] if (key := _key(item)) is not None]
    return tuple(dict.fromkeys(purposes))[:MAX_CONSENT]


def _merges(value: Any) -> tuple[dict[str, Any], ...]:
    if not isinstance(value, list | tuple):
        return ()
    entries = [
        {key: item for key, item in entry.items() if _storable(item)}
        for entry in value[-MAX_MERGES:]
        if isinstance(entry, Mapping) and all(isinstance(key, str) for key in entry)
    ]
    return tuple(entries)


def _storable(value: Any, depth: int = 0) -> bool:
    """Whether an audit value can be written back as strict JSON (no NaN or infinity)."""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list | tuple) and depth < 4:
        return all(_storable(item, depth + 1) for item in value)
    if isinstance(value, Mapping) and depth < 4:
        return all(isinstance(k, str) and _storable(v, depth + 1) for k, v in value.items())
    return value is None or isinstance(value, str | int | bool)
