"""The rows of the results and their statistics.

:mod:`personalize.analytics.results` reads and sums the counts; this module turns the sums
into :class:`Row` and :class:`FunnelRow` objects. Statistics (uplift, P(beat control),
P(best), sample ratio mismatch) come from :mod:`personalize.rules.stats`; they compare the
alternatives of one experiment among the visitors of one segment, and leave out the holdout.

A comparison is given only once there is enough data for it (:class:`Thresholds`): a visitor or
two per alternative would give an uplift such as −100 % that means nothing. Until then a row
says what it still lacks (:class:`Shortfall`) instead.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from personalize.rules.stats import Arm, compare, srm_p_value

#: Alternative of a block or variant without experiment (a "-" in the counter field).
NO_EXPERIMENT = ""
#: Alternative of the experiment's holdout (visitors who get the default content).
HOLDOUT = "h"
#: Monte Carlo draws per experiment comparison.
DRAWS = 20_000

Dimensions = tuple[int | None, str, str, str, int | None]


@dataclass(frozen=True, slots=True)
class Thresholds:
    """The least data before an alternative is compared with the control.

    Attributes:
        visitors: exposed visitors each alternative, the control included, needs.
        conversions: conversions an alternative and the control need between them.
    """

    visitors: int
    conversions: int


@dataclass(frozen=True, slots=True)
class Shortfall:
    """A count still below its threshold.

    Attributes:
        kind: ``"visitors"`` (the row's own exposed visitors), ``"control_visitors"`` (the
            control's) or ``"conversions"`` (the alternative's and the control's together).
        count: the count so far.
        needed: its threshold.
    """

    kind: str
    count: int
    needed: int


def shortfalls(control: Arm, arm: Arm | None, thresholds: Thresholds) -> tuple[Shortfall, ...]:
    """What comparing ``arm`` with ``control`` still lacks (nothing: enough data).

    Args:
        control: the control's counts.
        arm: an alternative's counts; None for the control's own row, which needs only its
            visitors.
        thresholds: the least data.

    Returns:
        The counts below their thresholds, the row's own visitors first.
    """
    lacking = []
    own = control if arm is None else arm
    if own.exposed < thresholds.visitors:
        lacking.append(Shortfall("visitors", own.exposed, thresholds.visitors))
    if arm is not None:
        if control.exposed < thresholds.visitors:
            lacking.append(Shortfall("control_visitors", control.exposed, thresholds.visitors))
        converted = arm.converted + control.converted
        if converted < thresholds.conversions:
            lacking.append(Shortfall("conversions", converted, thresholds.conversions))
    return tuple(lacking)


@dataclass(frozen=True, slots=True)
class Row:
    """What one page, block, variant, alternative and segment delivered and achieved.

    Attributes:
        page_id: the page the block is on (None when unknown).
        block_key: the personalized block's key.
        variant: the variant's key, or ``"default"`` for the block's default content.
        alternative: ``""`` without experiment, ``"0"`` the control (the variant's own content),
            ``"1"``… its alternatives, ``"h"`` the holdout.
        segment_id: the segment that selected the variant (None for the default content).
        impressions: deliveries.
        exposed: distinct visitors exposed (consenting visitors with a visitor id).
        conversions: exposed visitors who reached the goal within the attribution window.
        rate: ``conversions / exposed`` (None without exposures or without a goal).
        experiment_id: the variant's Experiment, if any.
        uplift: relative uplift over the control (None for the control and without data).
        uplift_low: lower bound of its 95% confidence interval.
        uplift_high: upper bound.
        p_beat_control: probability the alternative's true rate beats the control's.
        p_best: probability the alternative is the best of the experiment's.
        srm_p: the experiment's sample ratio mismatch p-value, on each of its rows (None when
            not testable: no experiment, automatic optimization, arms changed since).
        shortfalls: what the row lacks before its comparison is given (empty: enough data;
            None: no comparison, as without experiment or goal, and for the holdout). Until
            it has enough, ``uplift``, its interval and ``p_beat_control`` are None, and
            ``p_best`` is None on every row of the experiment until each alternative has
            enough (it compares them all).
    """

    page_id: int | None
    block_key: str
    variant: str
    alternative: str
    segment_id: int | None
    impressions: int = 0
    exposed: int = 0
    conversions: int = 0
    rate: float | None = None
    experiment_id: int | None = None
    uplift: float | None = None
    uplift_low: float | None = None
    uplift_high: float | None = None
    p_beat_control: float | None = None
    p_best: float | None = None
    srm_p: float | None = None
    shortfalls: tuple[Shortfall, ...] | None = None

    @property
    def enough_data(self) -> bool | None:
        """Whether the row's comparison is given (None: the row has no comparison)."""
        return None if self.shortfalls is None else not self.shortfalls

    @property
    def arm(self) -> int | None:
        """The alternative's index in its experiment (None: no experiment, or the holdout)."""
        return int(self.alternative) if self.alternative.isdigit() else None

    @property
    def dimensions(self) -> Dimensions:
        """``(page_id, block_key, variant, alternative, segment_id)``."""
        return (self.page_id, self.block_key, self.variant, self.alternative, self.segment_id)


@dataclass(frozen=True, slots=True)
class FunnelRow:
    """Visitors of one segment at each step of a funnel.

    Attributes:
        segment_id: the matched segment (None: visitors in no segment).
        counts: visitors reaching each step (after the step before), in order.
        drop_off: share of the previous step's visitors lost at each step; None for the first
            step and after a step nobody reached.
    """

    segment_id: int | None
    counts: tuple[int, ...]
    drop_off: tuple[float | None, ...]


def funnel_row(segment_id: int | None, counts: list[int]) -> FunnelRow:
    """The funnel row of a segment's visitors per step, with the drop-off between steps."""
    drop_off: list[float | None] = [None]
    for before, now in zip(counts, counts[1:], strict=False):
        drop_off.append(1 - now / before if before else None)
    return FunnelRow(segment_id, tuple(counts), tuple(drop_off))


def sort_key(row: Row) -> tuple[Any, ...]:
    """The order of the report's rows.

    Page, block, variant (the default last), segment, then alternative: "-", 0, 1, …, the
    holdout, anything else.
    """
    alternative = row.alternative
    if not alternative:
        position = -1
    elif alternative.isdigit():
        position = int(alternative)
    else:
        position = 10**6 if alternative == HOLDOUT else 10**7
    return (
        row.page_id or 0,
        row.block_key,
        row.variant == "default",
        row.variant,
        row.segment_id or 0,
        position,
        alternative,
    )


def conversion_rate(conversions: int, exposed: int, goal_id: int | None) -> float | None:
    """``conversions / exposed``; None without exposures or without a goal."""
    return conversions / exposed if exposed and goal_id is not None else None


def with_statistics(
    rows: list[Row],
    experiments: Mapping[str, Any],
    goal_id: int | None,
    *,
    thresholds: Thresholds,
) -> list[Row]:
    """Add each experiment's statistics (and its missing alternatives) to the rows.

    Args:
        rows: rows without statistics, as counted.
        experiments: the :class:`~personalize.models.Experiment` of each variant key.
        goal_id: the goal counted as a conversion (None: only the sample ratio test).
        thresholds: the least data before an alternative is compared with the control.

    Returns:
        The rows (in no particular order), an experiment's rows with ``experiment_id``,
        ``srm_p`` and, with a goal, ``shortfalls`` and the comparison of the rows with enough
        data; its alternatives without data as zeros.
    """
    groups: dict[tuple[Any, ...], list[Row]] = defaultdict(list)
    others = []
    for row in rows:
        if row.arm is None and not (row.alternative == HOLDOUT and row.variant in experiments):
            others.append(row)
        else:
            groups[(row.page_id, row.block_key, row.variant, row.segment_id)].append(row)
    for (page_id, block, variant, segment), members in groups.items():
        others.extend(
            _experiment_group(
                page_id,
                block,
                variant,
                segment,
                members,
                experiments.get(variant),
                goal_id,
                thresholds,
            )
        )
    return others


def _experiment_group(
    page_id: int | None,
    block: str,
    variant: str,
    segment: int | None,
    members: list[Row],
    experiment: Any,
    goal_id: int | None,
    thresholds: Thresholds,
) -> list[Row]:
    """The rows of one experiment within one segment, with their statistics."""
    by_arm = {row.arm: row for row in members if row.arm is not None}
    declared = len(experiment.arms) if experiment is not None else 0
    size = max(declared, max((arm + 1 for arm in by_arm if arm is not None), default=0))
    for arm in range(size):
        if arm not in by_arm:
            by_arm[arm] = Row(page_id, block, variant, str(arm), segment)
    experiment_id = experiment.pk if experiment is not None else None
    arms = [
        Arm(by_arm[i].exposed, min(by_arm[i].conversions, by_arm[i].exposed)) for i in range(size)
    ]
    srm = _srm(experiment, arms)
    out = [replace(by_arm[arm], experiment_id=experiment_id, srm_p=srm) for arm in range(size)]
    if size >= 2 and goal_id is not None:
        out = _compared(out, arms, thresholds)
    out.extend(
        replace(row, experiment_id=experiment_id, srm_p=srm) for row in members if row.arm is None
    )
    return out


def _compared(rows: list[Row], arms: list[Arm], thresholds: Thresholds) -> list[Row]:
    """The rows of an experiment's arms with their shortfalls and, where enough, comparison."""
    lacking = [shortfalls(arms[0], arm if i else None, thresholds) for i, arm in enumerate(arms)]
    ready = [not missing for missing in lacking]
    if not any(ready[1:]):  # nothing to compare yet: spare the draws
        return [
            replace(row, shortfalls=missing) for row, missing in zip(rows, lacking, strict=True)
        ]
    compared = compare(arms, draws=DRAWS)
    everyone = all(ready)
    out = []
    for row, missing, result in zip(rows, lacking, compared, strict=True):
        row = replace(row, shortfalls=missing, p_best=result.p_best if everyone else None)
        if not missing:
            row = replace(
                row,
                uplift=result.uplift,
                uplift_low=result.uplift_low,
                uplift_high=result.uplift_high,
                p_beat_control=result.p_beat_control,
            )
        out.append(row)
    return out


def _srm(experiment: Any, arms: list[Arm]) -> float | None:
    """The sample ratio mismatch p-value, when the configured split is known and fixed."""
    if experiment is None or experiment.auto_optimize or len(experiment.arms) != len(arms):
        return None
    try:
        weights = [float(arm.get("weight") or 0) for arm in experiment.arms]
    except (AttributeError, TypeError, ValueError):
        return None
    if len(arms) < 2 or not any(weights) or not any(arm.exposed for arm in arms):
        return None
    try:
        return srm_p_value([arm.exposed for arm in arms], weights)
    except ValueError:
        return None
