"""Interaction scoring: points with exponential decay, journey stages, identity merge.

Pure functions over plain data: no Django, no clock, no storage. Every timestamp is a float Unix
time passed in by the caller, and every update returns a new :class:`ProfileState`.

A visitor's profile gains points when an :class:`Event` matches a :class:`ScoringRule`; the score
and the interests then fade with a half-life, so that what a visitor did long ago counts for less
than what they did today. :func:`stage_for` maps a score onto the journey :class:`Stage` it
reached, and :func:`merge` joins an anonymous profile into a known one at login.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any


@dataclass(frozen=True, slots=True)
class Stage:
    """A journey stage: visitors whose score reaches ``threshold`` are in it (until the next)."""

    name: str
    threshold: float


#: The default buyer-journey stages, in order.
DEFAULT_STAGES: tuple[Stage, ...] = (
    Stage("awareness", 0),
    Stage("interest", 20),
    Stage("consideration", 50),
    Stage("intent", 80),
)

#: Days after which a score or an interest has lost half its weight.
DEFAULT_HALF_LIFE_DAYS = 30.0
#: Seconds of inactivity after which the next event starts a new visit.
VISIT_TIMEOUT = 30 * 60
#: Interest points a page view adds to each of the page's tags.
INTEREST_POINTS = 1.0
#: Seconds by which ``last_seen`` may lag before a page view that changes nothing is written.
TOUCH_INTERVAL = 60
#: What a scoring rule reacts to.
TRIGGERS = ("page", "page_type", "tag", "form", "download", "event", "attribute")

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
class ScoringRule:
    """Points awarded when a visitor does something.

    Raises:
        ValueError: If ``trigger`` is not one of :data:`TRIGGERS`, ``points`` is not finite or a
            cap is negative or NaN.
    """

    #: A stable identifier such as ``"rule:12"``; caps are counted per key.
    key: str
    #: One of :data:`TRIGGERS`.
    trigger: str
    #: What the trigger must hit: a page id, ``"app_label.model"``, a tag (any case), a form key or
    #: document id (``""`` for any), an event name, or ``""`` for attribute rules.
    target: str
    #: Points per match; negative points lower the score.
    points: float
    #: Most absolute points the rule gives within one visit; ``None`` for no limit.
    cap_per_visit: float | None = None
    #: Most absolute points the rule gives over the visitor's life; ``None`` for no limit.
    cap_per_visitor: float | None = None
    #: For ``"attribute"`` rules: awarded once, at the first event where this holds.
    condition: Callable[[Mapping[str, Any]], bool] | None = None

    def __post_init__(self) -> None:
        if self.trigger not in TRIGGERS:
            raise ValueError(f"Unknown scoring trigger {self.trigger!r}: use one of {TRIGGERS}.")
        if not math.isfinite(self.points):
            raise ValueError(f"Scoring rule {self.key!r} needs finite points, not {self.points}.")
        for cap in (self.cap_per_visit, self.cap_per_visitor):
            if cap is not None and not cap >= 0:
                raise ValueError(f"Scoring rule {self.key!r} has a negative cap ({cap}).")


@dataclass(frozen=True, slots=True)
class Event:
    """Something a visitor did."""

    #: ``"page_view"``, ``"form_submit"``, ``"download"`` or a custom event name.
    name: str
    #: The page viewed (or the page the event happened on).
    page_id: int | None = None
    #: The page's ``"app_label.model"``.
    page_type: str | None = None
    #: The page's tags.
    tags: tuple[str, ...] = ()
    #: The form key of a ``"form_submit"``, the document id of a ``"download"``.
    target: str | None = None


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


def stage_for(score: float, stages: Iterable[Stage]) -> str:
    """Name the journey stage a score has reached.

    Args:
        score: A (decayed) score.
        stages: The stages, in any order.

    Returns:
        The name of the stage with the highest threshold at or below ``score``; the lowest
        stage's name if the score is below every threshold; ``""`` if there are no stages.
    """
    ordered = sorted(stages, key=lambda stage: stage.threshold)
    if not ordered:
        return ""
    reached = [stage for stage in ordered if stage.threshold <= score]
    return (reached[-1] if reached else ordered[0]).name


def apply_event(
    state: ProfileState,
    event: Event,
    rules: Iterable[ScoringRule],
    attributes: Mapping[str, Any],
    now: float,
    *,
    half_life_days: float = DEFAULT_HALF_LIFE_DAYS,
    visit_timeout: float = VISIT_TIMEOUT,
    interest_points: float = INTEREST_POINTS,
) -> ProfileState:
    """Record an event in a profile.

    Args:
        state: The profile before the event.
        event: What the visitor did.
        rules: The scoring rules; every matching rule awards its points within its caps.
        attributes: The visitor's attributes, read by ``"attribute"`` rules.
        now: The time of the event.
        half_life_days: See :func:`decay`.
        visit_timeout: Seconds of inactivity that end a visit.
        interest_points: Interest a page view adds to each of its tags.

    Returns:
        The profile after the event, decayed to ``now``, with a score of at least zero.
    """
    state = decayed(state, now, half_life_days)
    new_visit = _starts_visit(state, now, visit_timeout)
    visit_points = {} if new_visit else dict(state.visit_points)
    total_points = dict(state.total_points)
    score = state.score
    for rule in rules:
        if rule.trigger == "attribute":
            if not _attribute_rule_holds(rule, attributes, total_points):
                continue
        elif not _event_matches(rule, event):
            continue
        points = _award(rule, visit_points, total_points)
        # A zero award is kept only to mark an attribute rule as spent.
        if points or rule.trigger == "attribute":
            visit_points[rule.key] = visit_points.get(rule.key, 0.0) + points
            total_points[rule.key] = total_points.get(rule.key, 0.0) + points
            score += points
    score = max(0.0, score)
    return replace(
        state,
        visits=state.visits + 1 if new_visit else state.visits,
        first_seen=now if state.first_seen is None else state.first_seen,
        last_seen=now if state.last_seen is None else max(state.last_seen, now),
        score=score,
        peak_score=max(state.peak_score, score),
        interests=_with_tags(state.interests, event, interest_points),
        visit_points=visit_points,
        total_points=total_points,
    )


def needs_write(
    state: ProfileState,
    event: Event,
    rules: Iterable[ScoringRule],
    now: float,
    *,
    visit_timeout: float = VISIT_TIMEOUT,
    touch_interval: float = TOUCH_INTERVAL,
    attributes: Mapping[str, Any] | None = None,
) -> bool:
    """Tell whether :func:`apply_event` would change a profile enough to store it.

    Args:
        state: The stored profile.
        event: What the visitor did.
        rules: The scoring rules.
        now: The time of the event.
        visit_timeout: Seconds of inactivity that end a visit.
        touch_interval: Seconds by which ``last_seen`` may lag behind.
        attributes: The visitor's attributes; without them an ``"attribute"`` rule the visitor
            has not earned yet counts as a change.

    Returns:
        ``False`` only if the event starts no visit, adds no interest, earns no points and
        ``last_seen`` is less than ``touch_interval`` seconds old.
    """
    if state.last_seen is None or _starts_visit(state, now, visit_timeout):
        return True
    if now - state.last_seen >= touch_interval:
        return True
    if event.name == "page_view" and any(_tag_key(tag) for tag in event.tags):
        return True
    for rule in rules:
        if rule.trigger == "attribute":
            if attributes is None:
                # Unknown attributes: a rule not yet earned might be earned now.
                if rule.condition is not None and rule.key not in state.total_points:
                    return True
            elif _attribute_rule_holds(rule, attributes, state.total_points):
                return True
        elif _event_matches(rule, event) and _award(rule, state.visit_points, state.total_points):
            return True
    return False


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
        half_life_days: See :func:`decay`.
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


def profile_attributes(
    state: ProfileState,
    now: float,
    stages: Iterable[Stage] = DEFAULT_STAGES,
    half_life_days: float = DEFAULT_HALF_LIFE_DAYS,
) -> dict[str, Any]:
    """Describe a profile as the ``visitor.*`` attributes conditions read.

    Args:
        state: The profile (left unchanged).
        now: The current time, up to which the score and interests are decayed.
        stages: The journey stages.
        half_life_days: See :func:`decay`.

    Returns:
        The value of the ``visitor`` attribute: ``visits``, ``returning``,
        ``days_since_first_visit`` (whole days), ``score`` (2 decimals), ``stage``,
        ``peak_stage``, ``interests`` (tag to points, 2 decimals) and ``prefs``.
    """
    current = decayed(state, now, half_life_days)
    stages = tuple(stages)
    days = None
    if current.first_seen is not None:
        days = max(0, math.floor((now - current.first_seen) / _SECONDS_PER_DAY))
    return {
        "visits": current.visits,
        "returning": current.visits > 1,
        "days_since_first_visit": days,
        "score": round(current.score, 2),
        "stage": stage_for(current.score, stages),
        "peak_stage": stage_for(current.peak_score, stages),
        "interests": {tag: round(points, 2) for tag, points in current.interests.items()},
        "prefs": dict(current.prefs),
    }


def empty_visitor_attributes() -> dict[str, Any]:
    """Return the ``visitor`` attribute of a visitor without a profile (or without consent).

    Returns:
        A new dict with the keys of :func:`profile_attributes`: ``None`` values, and empty
        ``interests`` and ``prefs``.
    """
    return {
        "visits": None,
        "returning": None,
        "days_since_first_visit": None,
        "score": None,
        "stage": None,
        "peak_stage": None,
        "interests": {},
        "prefs": {},
    }


# Applying events.


def _starts_visit(state: ProfileState, now: float, visit_timeout: float) -> bool:
    return state.last_seen is None or now - state.last_seen > visit_timeout


def _event_matches(rule: ScoringRule, event: Event) -> bool:
    trigger = rule.trigger
    if trigger == "event":
        return event.name == rule.target
    if trigger in ("form", "download"):
        name = "form_submit" if trigger == "form" else "download"
        return event.name == name and (rule.target in ("", event.target))
    if event.name != "page_view":
        return False
    if trigger == "page":
        return event.page_id is not None and str(event.page_id) == rule.target
    if trigger == "page_type":
        return event.page_type is not None and event.page_type.lower() == rule.target.lower()
    if trigger == "tag":
        target = rule.target.casefold()
        return any(tag.casefold() == target for tag in event.tags)
    return False


def _attribute_rule_holds(
    rule: ScoringRule, attributes: Mapping[str, Any], total_points: Mapping[str, float]
) -> bool:
    return (
        rule.key not in total_points and rule.condition is not None and rule.condition(attributes)
    )


def _award(
    rule: ScoringRule, visit_points: Mapping[str, float], total_points: Mapping[str, float]
) -> float:
    """The points a rule gives now: its points, cut down to what its caps still allow."""
    magnitude = min(
        abs(rule.points),
        _remaining(rule.cap_per_visit, visit_points.get(rule.key, 0.0)),
        _remaining(rule.cap_per_visitor, total_points.get(rule.key, 0.0)),
    )
    return math.copysign(magnitude, rule.points) if magnitude else 0.0


def _remaining(cap: float | None, used: float) -> float:
    return math.inf if cap is None else max(0.0, cap - abs(used))


def _tag_key(tag: str) -> str:
    return tag.strip().lower()[:MAX_KEY_LENGTH]


def _with_tags(interests: dict[str, float], event: Event, points: float) -> dict[str, float]:
    if event.name != "page_view" or not event.tags:
        return interests
    updated = dict(interests)
    for key in dict.fromkeys(filter(None, map(_tag_key, event.tags))):
        updated[key] = updated.get(key, 0.0) + points
    return _strongest({key: value for key, value in updated.items() if value > 0})


def _strongest(interests: dict[str, float]) -> dict[str, float]:
    if len(interests) <= MAX_INTERESTS:
        return interests
    ranked = sorted(interests.items(), key=lambda item: (-item[1], item[0]))
    return dict(ranked[:MAX_INTERESTS])


# Merging.


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
        dict(entry)
        for entry in value[-MAX_MERGES:]
        if isinstance(entry, Mapping) and all(isinstance(key, str) for key in entry)
    ]
    return tuple(entries)
