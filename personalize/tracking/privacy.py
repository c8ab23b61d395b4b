"""What the site knows about a visitor, gathered for the privacy page, the export and erasure.

Everything here only reads: it never mints a visitor id, never creates a profile and never sets a
cookie, so a visitor can look at their data without the look itself being stored. The export
document built from it is :mod:`personalize.tracking.export`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.http import HttpRequest

from personalize.conf import personalize_settings
from personalize.profiles.scoring import current_config
from personalize.profiles.store import ProfileKey, profile_store, valid_visitor_id
from personalize.rules.scoring import ProfileState, profile_attributes
from personalize.signals.consent import ConsentState, parse_consent_cookie
from personalize.visitors.identity import read_visitor_id

#: The attribute groups of a request shown on the privacy page and exported, in display order.
SIGNAL_GROUPS: tuple[str, ...] = ("geo", "device", "time", "referral")
#: Where a consent choice is kept: the browser's consent cookie, the choice recorded on the
#: user's account (the browser made none), the site's default (nobody chose), or not known (an
#: export by key of a profile that records no choice: it is kept in the visitor's browser).
CONSENT_SOURCES: tuple[str, ...] = ("cookie", "account", "default", "unknown")


@dataclass(frozen=True, slots=True)
class StoredProfile:
    """One stored profile of the visitor.

    Attributes:
        key: how the profile was found.
        visitor_id: the profile's visitor id (a user's profile has one too), when known.
        user_id: the user the profile belongs to, or None for an anonymous profile.
        state: the stored data.
    """

    key: ProfileKey
    visitor_id: str | None
    user_id: int | None
    state: ProfileState


def timestamp(value: float | None) -> datetime | None:
    """A stored Unix time as an aware UTC datetime (None stays None)."""
    if value is None:
        return None
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def isoformat(value: float | None) -> str | None:
    """A stored Unix time as an ISO 8601 string in UTC to the second, or None.

    Args:
        value: seconds since the epoch.

    Returns:
        ``"2026-12-07T09:41:21Z"``; None for None or a time no date can hold.
    """
    moment = timestamp(value)
    if moment is None:
        return None
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def consent_source(request: HttpRequest, consent: ConsentState) -> str:
    """Where the visitor's consent choice is kept (one of :data:`CONSENT_SOURCES`).

    Args:
        request: the current request (its consent cookie).
        consent: the visitor's consent, as ``request.visitor.consent`` resolved it.

    Returns:
        ``"cookie"`` when the browser's consent cookie holds a choice, ``"account"`` when the
        logged-in user's recorded choice applies, else ``"default"``.
    """
    if parse_consent_cookie(request.COOKIES.get(personalize_settings.CONSENT_COOKIE)):
        return "cookie"
    return "account" if consent.explicit else "default"


def stored_profiles(request: HttpRequest) -> list[StoredProfile]:
    """The profiles stored about the request's visitor, whatever their consent says now.

    The logged-in user's profile comes first, then the anonymous profile of this browser's
    visitor id cookie when it is a different one. Reading creates nothing.

    Args:
        request: the current request.

    Returns:
        The stored profiles (empty when nothing is stored).
    """
    from personalize.visitors.visitor import visitor_of

    store = profile_store()
    found: list[StoredProfile] = []
    user_key = visitor_of(request).user_key()
    user_visitor_id = None
    if user_key is not None:
        state = store.load(user_key)
        if state is not None:
            user_visitor_id = store.visitor_id_of(user_key)
            found.append(StoredProfile(user_key, user_visitor_id, user_key.user_id, state))
    browser_id = read_visitor_id(request.COOKIES.get(personalize_settings.VISITOR_COOKIE))
    if browser_id is not None and browser_id != user_visitor_id:
        browser_key = ProfileKey(visitor_id=browser_id)
        state = store.load(browser_key)
        if state is not None:
            found.append(StoredProfile(browser_key, browser_id, None, state))
    return found


def profile_summary(state: ProfileState, now: float | None = None) -> dict[str, Any]:
    """A stored profile in plain terms: counts, dates, the decayed score, stages, interests.

    Args:
        state: the stored profile.
        now: the time to decay the score and interests to (defaults to the current time).

    Returns:
        ``visits``, ``first_seen``, ``last_seen`` (aware datetimes or None), ``score``,
        ``peak_score``, ``stage``, ``peak_stage``, ``interests`` (``[(tag, points)]`` strongest
        first), ``prefs`` (``[(key, value, set_at)]`` by key), ``consent``, ``consent_at`` and
        ``merges`` (the audit entries, ``at`` as a datetime).
    """
    config = current_config()
    now = time.time() if now is None else now
    attributes = profile_attributes(state, now, config.stages, config.half_life_days)
    interests = sorted(attributes["interests"].items(), key=lambda item: (-item[1], item[0]))
    return {
        "visits": state.visits,
        "first_seen": timestamp(state.first_seen),
        "last_seen": timestamp(state.last_seen),
        "score": attributes["score"],
        "peak_score": round(state.peak_score, 2),
        "stage": attributes["stage"],
        "peak_stage": attributes["peak_stage"],
        "interests": interests,
        "prefs": [
            (key, value, timestamp(state.prefs_at.get(key)))
            for key, value in sorted(state.prefs.items())
        ],
        "consent": list(state.consent),
        "consent_at": timestamp(state.consent_at),
        "merges": [
            {**entry, "at": timestamp(entry.get("at")) if _is_number(entry.get("at")) else None}
            for entry in state.merges
        ],
    }


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def request_signals(attributes: Any) -> dict[str, dict[str, Any]]:
    """The signals of the request the visitor's attributes were built from (not stored)."""
    return {
        group: dict(attributes.get(group) or {})
        for group in SIGNAL_GROUPS
        if isinstance(attributes.get(group), dict)
    }


def matched_segments(explanation: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The matched segments of ``Visitor.explain()``, each with its rules and the values read."""
    return [
        {
            "slug": item["slug"],
            "name": item["name"],
            "match": item["match"],
            "rules": [
                {
                    "summary": rule["summary"],
                    "matched": rule["matched"],
                    "attributes": dict(rule["attributes"]),
                }
                for rule in item["rules"]
            ],
        }
        for item in explanation
        if item["matched"]
    ]


def analytics_state(
    visitor_id: str | None, carried: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """What analytics remembers about a visitor id: exposures, goals reached, test assignments.

    Args:
        visitor_id: the visitor id.
        carried: what the visitor cookie carries and the store does not hold yet (a new
            visitor's first request, see :mod:`personalize.analytics.visitor_state`).

    Returns:
        ``{"seen": [{"page", "block", "variant", "alternative", "segment", "at"}], "goals":
        [{"goal", "at"}], "assignments": [{"experiment", "alternative"}]}``; empty lists when
        nothing is stored or the store is unreachable.
    """
    from personalize.analytics.store import counter_store, safely

    state: dict[str, Any] = {"seen": [], "goals": [], "assignments": []}
    if not visitor_id:
        return state
    store = counter_store()
    fields = {**(carried or {}), **safely(lambda: store.visitor_fields(visitor_id), {})}
    for field, value in sorted(fields.items()):
        kind, _, rest = field.partition("|")
        parts = rest.split("|")
        at = isoformat(float(value)) if value.isdigit() else None
        if kind == "seen" and len(parts) == 5:
            names = ("page", "block", "variant", "alternative", "segment")
            state["seen"].append({**dict(zip(names, parts, strict=True)), "at": at})
        elif kind == "goal" and len(parts) == 1:
            state["goals"].append({"goal": parts[0], "at": at})
        elif kind == "a" and len(parts) == 1:
            state["assignments"].append({"experiment": parts[0], "alternative": value})
    return state


def browser_analytics(cookie: Any) -> dict[str, Any]:
    """:func:`analytics_state` of a visitor cookie, with what it carries.

    Args:
        cookie: a :class:`~personalize.visitors.identity.VisitorCookie`, or None.
    """
    if cookie is None:
        return analytics_state(None)
    return analytics_state(cookie.visitor_id, cookie.carried)


def key_for(*, user: str | None = None, visitor_id: str | None = None) -> ProfileKey:
    """The profile key for a user (username or primary key) or a visitor id.

    Raises:
        LookupError: no such user.
        ValueError: ``visitor_id`` is not a visitor id, or neither or both were given.
    """
    from django.contrib.auth import get_user_model

    if (user is None) == (visitor_id is None):
        raise ValueError("Give either a user or a visitor id.")
    if visitor_id is not None:
        canonical = valid_visitor_id(visitor_id.strip().replace("-", "").lower())
        if canonical is None:
            raise ValueError(
                f"{visitor_id!r} is not a visitor id: 32 hexadecimal digits, as in a profile's "
                "visitor id (dashes allowed)."
            )
        return ProfileKey(visitor_id=canonical)
    assert user is not None
    model = get_user_model()
    found = model._default_manager.filter(**{str(model.USERNAME_FIELD): user}).first()
    if found is None and user.isdigit():
        found = model._default_manager.filter(pk=int(user)).first()
    if found is None:
        raise LookupError(f"No user with the username or id {user!r}.")
    return ProfileKey(user_id=found.pk)
