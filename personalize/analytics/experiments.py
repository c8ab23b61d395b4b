"""Experiments inside a variant: which alternative a visitor sees, sticky and consistent.

A variant of a personalized block may hold alternatives (A/B/n) with traffic weights and a
holdout. While its :class:`~personalize.models.Experiment` runs, a visitor with a visitor id is
assigned by hashing their id with the variant's key (GrowthBook's bucketing), so server-side
rendering and GraphQL agree and the visitor never flips. With "optimize automatically" the weights
come from Thompson sampling over the experiment's results, refreshed at most every
``OPTIMIZE_REFRESH_SECONDS`` and shared through the counter store; the first assignment is then
remembered for the visitor. Visitors without an id get the control and are not counted.
"""

from __future__ import annotations

import json
import logging
import random
from dataclasses import dataclass
from typing import Any

from personalize.cache import CacheVersionStore
from personalize.conf import personalize_settings, register_reset
from personalize.rules.bucketing import bucket, choose, thompson_weights
from personalize.segments import VersionedRegistry
from personalize.signals.consent import ANALYTICS

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ExperimentState:
    """What editors decided about one experiment, as plain data."""

    key: str
    pk: int
    status: str
    winner: int | None
    auto_optimize: bool
    floor: float
    goal_id: int | None


@dataclass(frozen=True, slots=True)
class ExperimentSet:
    """Every experiment by variant key, loaded once per process and versioned."""

    by_key: dict[str, ExperimentState]
    version: int | None = None


def _load(version: int | None) -> ExperimentSet:
    from personalize.models import Experiment

    rows = Experiment.objects.values_list(
        "key", "pk", "status", "winner", "auto_optimize", "exploration_floor", "goal_id"
    )
    return ExperimentSet(
        {row[0]: ExperimentState(*row) for row in rows},
        version=version,
    )


#: The registry every request reads.
experiment_registry: VersionedRegistry[ExperimentSet] = VersionedRegistry(
    _load, CacheVersionStore("experiments"), label="experiment"
)
register_reset(experiment_registry.reset)


def current_experiments() -> ExperimentSet:
    """The experiments for this request (no query when warm)."""
    return experiment_registry.current()


def experiments_changed(**kwargs: Any) -> None:
    """Announce an experiment change to every process."""
    experiment_registry.invalidate()


@dataclass(frozen=True, slots=True)
class Assignment:
    """The content a visitor gets inside a variant.

    Attributes:
        alternative: 0 for the variant's own content, n for its n-th alternative.
        holdout: the visitor is held out and gets the block's default content.
        counted: the visitor takes part in the statistics.
    """

    alternative: int
    holdout: bool = False
    counted: bool = False


CONTROL = Assignment(0)


def assign(visitor: Any, variant: Any) -> Assignment | None:
    """The alternative ``visitor`` sees in ``variant`` (a VariantBlock value).

    Returns:
        None when the variant holds no alternatives or has no key (no experiment at all).
    """
    alternatives = list(variant.get("alternatives") or [])
    key = variant.get("key") or ""
    if not alternatives or not key:
        return None
    state = current_experiments().by_key.get(key)
    if state is None or state.status in ("draft", "paused"):
        return CONTROL
    if state.status == "ended":
        winner = state.winner if state.winner is not None else 0
        return Assignment(winner if winner <= len(alternatives) else 0)
    if visitor is None or not visitor.is_real:
        return CONTROL
    # A consenting visitor without an id yet gets one now (the middleware sets its cookie), so
    # their very first page already shows the alternative they will keep.
    visitor_id = visitor.ensure_visitor_id()
    if not visitor_id:
        return CONTROL
    if not visitor.consent.allows(ANALYTICS):
        # Assigned like everyone, so the page a visitor sees does not depend on consent, but
        # not counted.
        return _assigned(visitor_id, key, variant, alternatives, state, counted=False)
    return _assigned(visitor_id, key, variant, alternatives, state, counted=True, visitor=visitor)


def _weights(variant: Any, alternatives: list[Any]) -> list[float]:
    return [float(variant.get("weight") or 0), *(float(a.get("weight") or 0) for a in alternatives)]


def _assigned(
    visitor_id: str,
    key: str,
    variant: Any,
    alternatives: list[Any],
    state: ExperimentState,
    *,
    counted: bool,
    visitor: Any = None,
) -> Assignment:
    holdout = min(max(int(variant.get("holdout") or 0), 0), 50) / 100
    arms = len(alternatives) + 1
    if state.auto_optimize and counted:
        return _sticky(visitor, visitor_id, key, state, arms, holdout)
    chosen = choose(bucket(visitor_id, key), _weights(variant, alternatives), holdout)
    if chosen is None:
        return Assignment(0, holdout=True, counted=counted)
    return Assignment(chosen, counted=counted)


def _sticky(
    visitor: Any, visitor_id: str, key: str, state: ExperimentState, arms: int, holdout: float
) -> Assignment:
    """Thompson-sampled weights; the visitor's first assignment is kept (in the store, or in
    the cookie of a visitor id minted in this request)."""
    from personalize.analytics.store import safely
    from personalize.analytics.visitor_state import visitor_state

    kept = visitor_state(visitor)
    field = f"a|{key}"
    known = None if kept is None else safely(lambda: kept.fields().get(field), None)
    if known is not None:
        if known == "h":
            return Assignment(0, holdout=True, counted=True)
        if known.isdigit() and int(known) < arms:
            return Assignment(int(known), counted=True)
    weights = optimized_weights(state, arms)
    chosen = choose(bucket(visitor_id, key), weights, holdout)
    value = "h" if chosen is None else str(chosen)
    if kept is not None:
        safely(lambda: kept.set(field, value), None)
    if chosen is None:
        return Assignment(0, holdout=True, counted=True)
    return Assignment(chosen, counted=True)


def optimized_weights(state: ExperimentState, arms: int) -> list[float]:
    """Thompson-sampling weights for an experiment, shared through the store for a while."""
    from personalize.analytics.results import experiment_arms
    from personalize.analytics.store import counter_store, safely

    store = counter_store()
    shared_key = f"ts:{state.key}"
    cached = safely(lambda: store.shared_get(shared_key), None)
    if cached:
        try:
            weights = json.loads(cached)
        except ValueError:
            weights = None
        if isinstance(weights, list) and len(weights) == arms:
            return [float(w) for w in weights]
    results = experiment_arms(state.key, state.goal_id, arms)
    weights = thompson_weights(
        results,
        floor=state.floor,
        draws=4000,
        rng=random.Random(state.key),  # noqa: S311
    )
    refresh = personalize_settings.OPTIMIZE_REFRESH_SECONDS
    safely(lambda: store.shared_set(shared_key, json.dumps(weights), refresh), None)
    return weights
