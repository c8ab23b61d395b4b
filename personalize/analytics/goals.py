"""Goals, conversions and funnels: what a consenting visitor's events achieve.

:func:`on_event` is called by :func:`personalize.tracking.events.track` for every event of a
visitor who allowed analytics (never for bots or previews). It finds the enabled goals the
event reaches and writes, in one round trip to the counter store
(:mod:`personalize.analytics.store`):

* ``goal|<goal>|<segment>``: one completion per matched segment (``-`` when none);
* with a visitor id, ``conv|<goal>|<page>|<block>|<variant>|<alt>|<segment>``: one conversion
  per exposure the visitor had within ``ATTRIBUTION_WINDOW_DAYS`` (the ``seen|…`` fields that
  :mod:`personalize.analytics.recording` keeps), once per visitor, goal and exposure;
* with a visitor id, ``funnel|<funnel>|<step>|<segment>``: the visitor reached a funnel's step,
  once per visitor and step, and only after having been counted at the step before.

The visitor's hash remembers the first completion of each goal (``goal|<goal>`` → Unix time),
the conversions counted (``conv|<goal>|<dims>`` → 1) and the funnel steps counted
(``funnel|<funnel>|<step>`` → Unix time); for a visitor id minted in this request, their cookie
does (:mod:`personalize.analytics.visitor_state`). An unreachable store only logs (see
:func:`~personalize.analytics.store.safely`).

The enabled goals and the funnels are loaded once per process into a :class:`GoalSet` and
reloaded when any process announces a change (:func:`goals_changed`), so matching an event costs
no query.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from personalize.cache import CacheVersionStore
from personalize.conf import personalize_settings, register_reset
from personalize.rules.scoring import Event
from personalize.segments import VersionedRegistry

logger = logging.getLogger(__name__)

#: Goal kinds (``Goal.kind``).
PAGE = "page"
FORM = "form"
EVENT = "event"
REGISTRATION = "registration"
#: The event name tracked when a visitor creates an account (:func:`track_registration`).
REGISTRATION_EVENT = "registration"


@dataclass(frozen=True, slots=True)
class GoalRecord:
    """An enabled goal, as plain data.

    Attributes:
        id: the goal's primary key.
        kind: ``"page"``, ``"form"``, ``"event"`` or ``"registration"``.
        page_id: the page of a page goal, the form page of a form goal (None: any form).
        event: the event name of an event goal.
    """

    id: int
    kind: str
    page_id: int | None = None
    event: str = ""

    def matches(self, event: Event) -> bool:
        """Whether ``event`` completes this goal."""
        if self.kind == PAGE:
            return (
                event.name == "page_view"
                and self.page_id is not None
                and event.page_id == self.page_id
            )
        if self.kind == FORM:
            return event.name == "form_submit" and (
                self.page_id is None or event.target == str(self.page_id)
            )
        if self.kind == EVENT:
            return bool(self.event) and event.name == self.event
        if self.kind == REGISTRATION:
            return event.name == REGISTRATION_EVENT
        return False


@dataclass(frozen=True, slots=True)
class FunnelStep:
    """One place of a goal in a funnel.

    Attributes:
        funnel_id: the funnel's primary key.
        index: the step's index (0 is the first step).
    """

    funnel_id: int
    index: int


@dataclass(frozen=True, slots=True)
class GoalSet:
    """The enabled goals and every funnel, loaded once per process and versioned.

    Attributes:
        goals: the enabled goals, by primary key.
        funnels: funnel id → the goal ids of its steps, in order.
        version: the store version it was loaded at.
    """

    goals: tuple[GoalRecord, ...] = ()
    funnels: Mapping[int, tuple[int, ...]] = field(default_factory=dict)
    version: int | None = None

    def reached(self, event: Event) -> list[GoalRecord]:
        """The goals ``event`` completes, by primary key."""
        return [goal for goal in self.goals if goal.matches(event)]

    def steps(self, goal_ids: Iterable[int]) -> list[FunnelStep]:
        """Every funnel step held by one of ``goal_ids``, by funnel and step index."""
        wanted = set(goal_ids)
        return [
            FunnelStep(funnel_id, index)
            for funnel_id, steps in sorted(self.funnels.items())
            for index, goal_id in enumerate(steps)
            if goal_id in wanted
        ]


def _load(version: int | None) -> GoalSet:
    from personalize.models import Funnel, Goal

    rows = Goal.objects.filter(enabled=True).order_by("pk")
    goals = tuple(
        GoalRecord(pk, kind, page_id, event)
        for pk, kind, page_id, event in rows.values_list("pk", "kind", "page_id", "event")
    )
    # goal_ids() is what the funnel report reads too, so the step indexes agree.
    funnels = {funnel.pk: tuple(funnel.goal_ids()) for funnel in Funnel.objects.order_by("pk")}
    return GoalSet(goals, funnels, version=version)


#: The registry every tracked event reads; :func:`current_goals` is the public way in.
goal_registry: VersionedRegistry[GoalSet] = VersionedRegistry(
    _load, CacheVersionStore("goals"), label="goal"
)
register_reset(goal_registry.reset)


def current_goals() -> GoalSet:
    """The goals and funnels for this request (no query when warm)."""
    return goal_registry.current()


def goals_changed(**kwargs: Any) -> None:
    """Announce a change of goals or funnels to every process (a signal receiver)."""
    goal_registry.invalidate()


def on_event(visitor: Any, event: Event, *, now: float | None = None) -> list[int]:
    """Count the goals, conversions and funnel steps an event reaches.

    The caller has checked that the visitor allowed analytics and is no bot or preview.

    Args:
        visitor: the :class:`~personalize.visitors.visitor.Visitor` (its ``segment_ids`` and
            ``visitor_id`` are read).
        event: what the visitor did.
        now: the Unix time of the event (default: now).

    Returns:
        The ids of the goals reached, whether or not the store could count them.
    """
    if not personalize_settings.ANALYTICS_ENABLED:
        return []
    goals = current_goals()
    reached = goals.reached(event)
    if not reached:
        return []
    from personalize.analytics.pending import count
    from personalize.analytics.store import counter_store, safely
    from personalize.analytics.visitor_state import visitor_state

    store = counter_store()
    moment = time.time() if now is None else now
    segments = _segment_labels(visitor)
    counts: dict[str, int] = {}
    for goal in reached:
        for segment in segments:
            _bump(counts, f"goal|{goal.id}|{segment}")
    state = visitor_state(visitor, store)
    if state is not None:
        # Counters decided before an outage are still written below when the add gets through.
        safely(lambda: _count_visitor(state, goals, reached, segments, moment, counts), None)
    day = datetime.fromtimestamp(moment, UTC).date()
    count(day, counts, store=store)
    return [goal.id for goal in reached]


def _segment_labels(visitor: Any) -> list[str]:
    """The visitor's matched segment ids as counter parts (``["-"]`` when none)."""
    used = getattr(visitor, "used", False)
    ids = sorted(visitor.segment_ids)
    # Counting a goal does not make the response depend on the visitor.
    visitor.used = used
    return [str(segment_id) for segment_id in ids] or ["-"]


def _bump(counts: dict[str, int], name: str) -> None:
    counts[name] = counts.get(name, 0) + 1


def _time(value: str | None) -> float | None:
    """A Unix time stored in the visitor's hash, or None when missing or garbled."""
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None


def _exposures(fields: Mapping[str, str], now: float, window: float) -> list[str]:
    """The ``<page>|<block>|<variant>|<alt>|<segment>`` exposures within the window before now."""
    dims = []
    for name, value in fields.items():
        kind, _, rest = name.partition("|")
        at = _time(value)
        if kind == "seen" and rest and at is not None and now - window <= at <= now:
            dims.append(rest)
    return sorted(dims)


def _count_visitor(
    state: Any,
    goals: GoalSet,
    reached: list[GoalRecord],
    segments: list[str],
    now: float,
    counts: dict[str, int],
) -> None:
    """Add the visitor's conversions and funnel steps to ``counts``, remembering them."""
    window = personalize_settings.ATTRIBUTION_WINDOW_DAYS * 86400
    stamp = str(int(now))
    # One read; fields already set need no write (a repeated goal costs one round trip).
    fields = state.fields()
    exposures = _exposures(fields, now, window)

    def first(name: str, value: str) -> bool:
        if name in fields:
            return False
        created = bool(state.first(name, value))
        if created:
            fields[name] = value
        return created

    for goal in reached:
        for dims in exposures:
            name = f"conv|{goal.id}|{dims}"
            if first(name, "1"):
                _bump(counts, name)
        first(f"goal|{goal.id}", stamp)
    for step in goals.steps(goal.id for goal in reached):
        if step.index > 0:
            # Counted at the step before (so each step counts at most its predecessor's
            # visitors): that marker is only set after the previous goal was reached.
            before = _time(fields.get(f"funnel|{step.funnel_id}|{step.index - 1}"))
            if before is None or before > now:
                continue
        if first(f"funnel|{step.funnel_id}|{step.index}", stamp):
            for segment in segments:
                _bump(counts, f"funnel|{step.funnel_id}|{step.index}|{segment}")
