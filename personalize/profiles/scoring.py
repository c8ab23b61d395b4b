"""The scoring configuration every request reads: rules, journey stages, decay, banner texts.

Loaded from the database once per process and rebuilt when any process announces a change
(a version in the shared cache, as for segments), so tracking an event costs no query for it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from personalize.cache import CacheVersionStore
from personalize.conf import register_reset
from personalize.rule_blocks.visitor import set_stage_source
from personalize.rules import ConditionError
from personalize.rules.scoring import DEFAULT_HALF_LIFE_DAYS, DEFAULT_STAGES, ScoringRule, Stage
from personalize.segments import VersionedRegistry

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ScoringConfig:
    """Everything scoring and the consent banner need, as plain data.

    Attributes:
        rules: the enabled scoring rules.
        stages: the journey stages in threshold order.
        half_life_days: the score half-life.
        banner: the consent banner's texts.
        version: the store version it was loaded at.
    """

    rules: tuple[ScoringRule, ...] = ()
    stages: tuple[Stage, ...] = DEFAULT_STAGES
    half_life_days: float = DEFAULT_HALF_LIFE_DAYS
    banner: dict[str, str] = field(default_factory=dict)
    version: int | None = None

    @property
    def attribute_rules(self) -> bool:
        """Whether any rule awards points for matching attributes."""
        return any(rule.trigger == "attribute" for rule in self.rules)


def _load(version: int | None) -> ScoringConfig:
    from personalize.models import PersonalizationSettings
    from personalize.models import ScoringRule as RuleModel
    from personalize.models.settings import BANNER_DEFAULTS

    rules = []
    for rule in RuleModel.objects.filter(enabled=True).select_related("page").order_by("pk"):
        try:
            rules.append(rule.to_record())
        except (ConditionError, ValueError) as exc:
            logger.error("scoring rule %r skipped: invalid condition: %s", rule.name, exc)
    settings = PersonalizationSettings.objects.first()
    if settings is None:
        return ScoringConfig(tuple(rules), banner=dict(BANNER_DEFAULTS), version=version)
    return ScoringConfig(
        rules=tuple(rules),
        stages=settings.stage_list(),
        half_life_days=float(settings.half_life_days),
        banner=settings.banner(),
        version=version,
    )


#: The registry every request reads; :func:`current_config` is the public way in.
config_registry: VersionedRegistry[ScoringConfig] = VersionedRegistry(
    _load, CacheVersionStore("config"), label="scoring configuration"
)
register_reset(config_registry.reset)


def current_config() -> ScoringConfig:
    """The scoring configuration for this request (no query when warm)."""
    return config_registry.current()


def config_changed(**kwargs: Any) -> None:
    """Announce a change of scoring rules or settings to every process."""
    config_registry.invalidate()


def _current_stages() -> tuple[Stage, ...]:
    return current_config().stages


# The rule builder offers the configured stages to editors.
set_stage_source(_current_stages)
