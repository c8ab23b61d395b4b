"""Interaction scoring: points with exponential decay, journey stages, identity merge.

Pure functions over plain data: no Django, no clock, no storage. Every timestamp is a float Unix
time passed in by the caller, and every update returns a new :class:`ProfileState`.

A visitor's profile gains points when an :class:`Event` matches a :class:`ScoringRule`; the score
and the interests then fade with a half-life, so that what a visitor did long ago counts for less
than what they did today. :func:`stage_for` maps a score onto the journey :class:`Stage` it
reached, and :func:`merge` joins an anonymous profile into a known one at login.

This module is the entry point: the profile itself (:class:`ProfileState`, :func:`decay`,
:func:`decayed` and the ``MAX_*`` bounds) lives in :mod:`personalize.rules.profile` and
:func:`merge` in :mod:`personalize.rules.merge`; both are re-exported here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from .merge import merge
from .profile import (
    _SECONDS_PER_DAY,
    DEFAULT_HALF_LIFE_DAYS,
    MAX_CONSENT,
    MAX_INTERESTS,
    MAX_KEY_LENGTH,
    MAX_MERGES,
    MAX_PREFS,
    MAX_RULE_KEYS,
    MAX_VALUE_LENGTH,
    ProfileState,
    _strongest,
    decay,
    decayed,
)

__all__ = [
    "DEFAULT_HALF_LIFE_DAYS",
    "DEFAULT_STAGES",
    "INTEREST_POINTS",
    "MAX_CONSENT",
    "MAX_INTERESTS",
    "MAX_KEY_LENGTH",
    "MAX_MERGES",
    "MAX_PREFS",
    "MAX_RULE_KEYS",
    "MAX_VALUE_LENGTH",
    "TOUCH_INTERVAL",
    "TRIGGERS",
    "VISIT_TIMEOUT",
    "Event",
    "ProfileState",
    "ScoringRule",
    "Stage",
    "apply_event",
    "decay",
    "decayed",
    "empty_visitor_attributes",
    "merge",
    "needs_write",
    "profile_attributes",
    "stage_for",
]


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

#: Seconds of inactivity after which the next event starts a new visit.
VISIT_TIMEOUT = 30 * 60
#: Interest points a page view adds to each of the page's tags.
INTEREST_POINTS = 1.0
#: Seconds by which ``last_seen`` may lag before a page view that changes nothing is written.
TOUCH_INTERVAL = 60
#: What a scoring rule reacts to.
TRIGGERS = ("page", "page_type", "tag", "form", "download", "event", "attribute")


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
