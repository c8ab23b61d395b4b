"""The package's models: segments, visitor profiles, scoring rules and the admin settings."""

from personalize.models.analytics import (
    DailyCount,
    Experiment,
    FlushBatch,
    Funnel,
    Goal,
    StoreEpoch,
)
from personalize.models.profiles import Profile
from personalize.models.scoring import ScoringRule
from personalize.models.segments import Segment, SegmentQuerySet
from personalize.models.settings import PersonalizationSettings

__all__ = [
    "DailyCount",
    "Experiment",
    "FlushBatch",
    "Funnel",
    "Goal",
    "PersonalizationSettings",
    "Profile",
    "ScoringRule",
    "Segment",
    "SegmentQuerySet",
    "StoreEpoch",
]
