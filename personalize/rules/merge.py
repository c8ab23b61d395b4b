"""Identity merge: joining the profile a visitor built anonymously into their known profile.

Pure functions over :class:`~personalize.rules.profile.ProfileState`: no Django, no clock, no
storage. :func:`merge` is called at login with the time passed in by the caller; it decays both
profiles to that time, adds what adds up (visits, score, interests, points), keeps the newest of
what does not (preferences, consent) and appends an audit entry, within the bounds of
:mod:`personalize.rules.profile`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .profile import (
    DEFAULT_HALF_LIFE_DAYS,
    MAX_MERGES,
    ProfileState,
    _bounded_prefs,
    _strongest,
    decayed,
)


def merge(
    anonymous: ProfileState,
    known: ProfileState,
    now: float,
    *,
    half_life_days: float = DEFAULT_HALF_LIFE_DAYS,
    audit: Mapping[str, Any],
) -> ProfileState:
    """Join the profile a visitor built anonymously into their known profile.

    Args:
        anonymous: The profile of the anonymous visitor.
        known: The profile of the identified visitor; it wins ties.
        now: The time of the merge.
        half_life_days: See :func:`~personalize.rules.profile.decay`.
        audit: A JSON-able record of the merge (who, when, from which profile), appended to
            ``merges`` so that the caller can tell a merge it already made.

    Returns:
        The merged profile, decayed to ``now``.
    """
    anonymous = decayed(anonymous, now, half_life_days)
    known = decayed(known, now, half_life_days)
    score = max(0.0, anonymous.score + known.score)
    prefs, prefs_at = _newest_prefs(anonymous, known)
    consent_from = known
    if anonymous.consent_at is not None and (
        known.consent_at is None or anonymous.consent_at > known.consent_at
    ):
        consent_from = anonymous
    return ProfileState(
        visits=anonymous.visits + known.visits,
        first_seen=_least(anonymous.first_seen, known.first_seen),
        last_seen=_greatest(anonymous.last_seen, known.last_seen),
        score=score,
        peak_score=max(anonymous.peak_score, known.peak_score, score),
        decayed_at=_greatest(anonymous.decayed_at, known.decayed_at),
        interests=_strongest(_summed(anonymous.interests, known.interests)),
        prefs=prefs,
        prefs_at=prefs_at,
        consent=consent_from.consent,
        consent_at=consent_from.consent_at,
        visit_points=_summed(anonymous.visit_points, known.visit_points),
        total_points=_summed(anonymous.total_points, known.total_points),
        merges=(*known.merges, *anonymous.merges, dict(audit))[-MAX_MERGES:],
    )


def _summed(first: Mapping[str, float], second: Mapping[str, float]) -> dict[str, float]:
    summed = dict(second)
    for key, value in first.items():
        summed[key] = summed.get(key, 0.0) + value
    return summed


def _least(first: float | None, second: float | None) -> float | None:
    present = [value for value in (first, second) if value is not None]
    return min(present) if present else None


def _greatest(first: float | None, second: float | None) -> float | None:
    present = [value for value in (first, second) if value is not None]
    return max(present) if present else None


def _newest_prefs(
    anonymous: ProfileState, known: ProfileState
) -> tuple[dict[str, str], dict[str, float]]:
    prefs = dict(known.prefs)
    prefs_at = {key: at for key, at in known.prefs_at.items() if key in prefs}
    for key, value in anonymous.prefs.items():
        at = anonymous.prefs_at.get(key)
        known_at = known.prefs_at.get(key)
        newer = at is not None and (known_at is None or at > known_at)
        if key not in prefs or newer:
            prefs[key] = value
            prefs_at.pop(key, None)
            if at is not None:
                prefs_at[key] = at
    kept = _bounded_prefs(prefs, prefs_at)
    return kept, {key: at for key, at in prefs_at.items() if key in kept}
