"""Results of personalization and experiments, read from the counters.

Counts come from two places that never overlap: ``DailyCount`` rows (flushed) and the counter
store's live hashes (not flushed yet; the flush renames a day's hash before writing it, so a
counter is in one place or the other). When the store is unreachable the results show the
flushed counts only.

The report (:mod:`personalize.analytics.report`) reads :func:`block_rows`,
:func:`daily_series` and :func:`funnel_rows`; automatic optimization reads
:func:`experiment_arms`; the segments list reads :func:`segment_visitors`.

Statistics (uplift, P(beat control), P(best), sample ratio mismatch) come from
:mod:`personalize.rules.stats`; they compare the alternatives of one experiment among the
visitors of one segment, and leave out the holdout.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.core.cache import caches
from django.db.models import Sum

from personalize.analytics.flush import MalformedField, parse_field
from personalize.cache import CACHE_ERRORS
from personalize.conf import personalize_settings
from personalize.rules.stats import Arm, compare, srm_p_value

#: Alternative of a block or variant without experiment (a "-" in the counter field).
NO_EXPERIMENT = ""
#: Alternative of the experiment's holdout (visitors who get the default content).
HOLDOUT = "h"
#: Seconds the 7-day unique visitors of a segment stay cached.
VISITORS_CACHE_SECONDS = 60
#: Monte Carlo draws per experiment comparison.
DRAWS = 20_000

Dimensions = tuple[int | None, str, str, str, int | None]


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


def utc_today() -> date:
    """Today in UTC (the counters' days)."""
    return datetime.now(UTC).date()


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def _live(start: date | None, end: date | None) -> dict[date, dict[str, int]]:
    """The store's counters of the live days within ``[start, end]`` ({} when unreachable)."""
    from personalize.analytics.store import counter_store, safely

    store = counter_store()

    def read() -> dict[date, dict[str, int]]:
        days = [
            day
            for day in store.live_days()
            if (start is None or day >= start) and (end is None or day <= end)
        ]
        return store.live_counts(days) if days else {}

    return safely(read, {})


def _parsed(field: str) -> dict[str, Any] | None:
    try:
        return parse_field(field)
    except MalformedField:
        return None


def _counts(
    start: date | None, end: date | None, metrics: Iterable[str], **filters: Any
) -> list[tuple[dict[str, Any], int]]:
    """Flushed plus live counts of ``metrics``, summed over the period, with parsed fields.

    ``filters`` are ``DailyCount`` columns; live counters are filtered on the same columns.
    """
    from personalize.models import DailyCount

    metrics = tuple(metrics)
    rows = DailyCount.objects.filter(metric__in=metrics, **filters)
    if start is not None:
        rows = rows.filter(date__gte=start)
    if end is not None:
        rows = rows.filter(date__lte=end)
    totals: Counter[str] = Counter(
        dict(rows.values("field").annotate(total=Sum("count")).values_list("field", "total"))
    )
    for counts in _live(start, end).values():
        for field, n in counts.items():
            if field.split("|", 1)[0] in metrics:
                totals[field] += n
    parsed = []
    for field, n in totals.items():
        columns = _parsed(field)
        if columns is not None and all(columns.get(k) == v for k, v in filters.items()):
            parsed.append((columns, n))
    return parsed


def experiment_arms(key: str, goal_id: int | None, arms: int) -> list[tuple[int, int]]:
    """Exposed and converted visitors per alternative of an experiment, over its whole history.

    Used by automatic optimization (Thompson sampling). The holdout is left out; conversions
    never exceed exposures (counts flushed at different moments could say otherwise).

    Args:
        key: the experiment's key (the variant's key).
        goal_id: the goal that counts as a conversion; None counts no conversions.
        arms: how many alternatives, the control included.

    Returns:
        ``(exposed, converted)`` per alternative ``0..arms - 1``.
    """
    exposed = [0] * arms
    converted = [0] * arms
    for columns, n in _counts(None, None, ("exp", "conv"), variant=key):
        alternative = columns["alternative"]
        if not alternative.isdigit() or int(alternative) >= arms:
            continue
        index = int(alternative)
        if columns["metric"] == "exp":
            exposed[index] += n
        elif goal_id is not None and columns["goal_id"] == goal_id:
            converted[index] += n
    return [(e, min(c, e)) for e, c in zip(exposed, converted, strict=True)]


def _order(row: Row) -> tuple[Any, ...]:
    """Page, block, variant (the default last), segment, then "-", 0, 1, …, holdout, others."""
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


def block_rows(
    start: date,
    end: date,
    goal_id: int | None,
    *,
    block_key: str | None = None,
    variant: str | None = None,
) -> list[Row]:
    """Impressions, exposures, conversions and statistics per page, block, variant,
    alternative and segment, from ``start`` to ``end`` (inclusive).

    Args:
        start: first day (UTC).
        end: last day (UTC).
        goal_id: the goal that counts as a conversion (None: no conversions, no statistics
            but the sample ratio test).
        block_key: only this block.
        variant: only this variant (an experiment's key).

    Returns:
        Rows ordered by page, block, variant (the default last), segment and alternative. An
        experiment's alternatives without data get rows of zeros.
    """
    from personalize.models import Experiment

    filters: dict[str, Any] = {}
    if block_key is not None:
        filters["block_key"] = block_key
    if variant is not None:
        filters["variant"] = variant
    totals: dict[Dimensions, list[int]] = defaultdict(lambda: [0, 0, 0])
    for columns, n in _counts(start, end, ("imp", "exp", "conv"), **filters):
        metric = columns["metric"]
        if metric == "conv" and (goal_id is None or columns["goal_id"] != goal_id):
            continue
        dims = (
            columns["page_id"],
            columns["block_key"],
            columns["variant"],
            columns["alternative"],
            columns["segment_id"],
        )
        totals[dims][("imp", "exp", "conv").index(metric)] += n
    experiments = Experiment.objects.in_bulk(
        {dims[2] for dims in totals if dims[2] != "default"}, field_name="key"
    )
    rows = [
        Row(*dims, impressions=i, exposed=e, conversions=c, rate=_rate(c, e, goal_id))
        for dims, (i, e, c) in totals.items()
    ]
    rows = _with_statistics(rows, experiments, goal_id)
    return sorted(rows, key=_order)


def _rate(conversions: int, exposed: int, goal_id: int | None) -> float | None:
    return conversions / exposed if exposed and goal_id is not None else None


def _with_statistics(
    rows: list[Row], experiments: Mapping[str, Any], goal_id: int | None
) -> list[Row]:
    """Add each experiment's statistics (and its missing alternatives) to the rows."""
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
                page_id, block, variant, segment, members, experiments.get(variant), goal_id
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
    compared = compare(arms, draws=DRAWS) if size >= 2 and goal_id is not None else None
    out = []
    for arm in range(size):
        row = replace(by_arm[arm], experiment_id=experiment_id, srm_p=srm)
        if compared is not None:
            result = compared[arm]
            row = replace(
                row,
                uplift=result.uplift,
                uplift_low=result.uplift_low,
                uplift_high=result.uplift_high,
                p_beat_control=result.p_beat_control,
                p_best=result.p_best,
            )
        out.append(row)
    out.extend(
        replace(row, experiment_id=experiment_id, srm_p=srm) for row in members if row.arm is None
    )
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


def daily_series(
    start: date,
    end: date,
    block_key: str | None = None,
    goal_id: int | None = None,
    *,
    variant: str | None = None,
) -> list[tuple[date, int, int]]:
    """Impressions and conversions per day from ``start`` to ``end`` (every day, zeros too).

    Args:
        start: first day (UTC).
        end: last day (UTC).
        block_key: only this block's impressions and conversions.
        goal_id: only conversions to this goal (None: to any goal).
        variant: only this variant's (an experiment's key).

    Returns:
        ``(day, impressions, conversions)`` per day, oldest first.
    """
    from personalize.models import DailyCount

    impressions: Counter[date] = Counter()
    conversions: Counter[date] = Counter()
    rows = DailyCount.objects.filter(date__gte=start, date__lte=end, metric__in=("imp", "conv"))
    if block_key is not None:
        rows = rows.filter(block_key=block_key)
    if variant is not None:
        rows = rows.filter(variant=variant)
    for day, metric, goal, total in (
        rows.values("date", "metric", "goal_id")
        .annotate(total=Sum("count"))
        .values_list("date", "metric", "goal_id", "total")
    ):
        if metric == "imp":
            impressions[day] += total
        elif goal_id is None or goal == goal_id:
            conversions[day] += total
    for day, counts in _live(start, end).items():
        for field, n in counts.items():
            if not field.startswith(("imp|", "conv|")):
                continue
            columns = _parsed(field)
            if columns is None or any(
                wanted is not None and columns[name] != wanted
                for name, wanted in (("block_key", block_key), ("variant", variant))
            ):
                continue
            if columns["metric"] == "imp":
                impressions[day] += n
            elif goal_id is None or columns["goal_id"] == goal_id:
                conversions[day] += n
    return [(day, impressions[day], conversions[day]) for day in _days(start, end)]


def funnel_rows(funnel: Any, start: date, end: date) -> list[FunnelRow]:
    """Visitors per step of ``funnel`` and segment, from ``start`` to ``end``.

    A visitor in several segments counts in each of them, so the rows do not add up to a total.

    Args:
        funnel: a :class:`~personalize.models.Funnel`.
        start: first day (UTC).
        end: last day (UTC).

    Returns:
        One row per segment with visitors (visitors in no segment last).
    """
    steps = len(funnel.goal_ids())
    by_segment: dict[int | None, list[int]] = defaultdict(lambda: [0] * steps)
    for columns, n in _counts(start, end, ("funnel",), funnel_id=funnel.pk):
        step = columns["step"]
        if step is not None and 0 <= step < steps:
            by_segment[columns["segment_id"]][step] += n
    rows = []
    for segment in sorted(by_segment, key=lambda s: (s is None, s or 0)):
        counts = by_segment[segment]
        drop_off: list[float | None] = [None]
        for before, now in zip(counts, counts[1:], strict=False):
            drop_off.append(1 - now / before if before else None)
        rows.append(FunnelRow(segment, tuple(counts), tuple(drop_off)))
    return rows


def segment_visitors(segment_id: int) -> int:
    """Distinct visitors of a segment over the last 7 days (today included, UTC).

    Counts consenting visitors with a visitor id (HyperLogLog estimates above ~100). Cached
    for :data:`VISITORS_CACHE_SECONDS` in the Django cache; 0 when the store is unreachable.
    """
    from personalize.analytics.store import counter_store, safely

    cache = caches[personalize_settings.CACHE_ALIAS]
    key = f"{personalize_settings.CACHE_KEY_PREFIX}:an:uv7:{segment_id}"
    try:
        cached = cache.get(key)
    except CACHE_ERRORS:
        cached = None
    if isinstance(cached, int):
        return cached
    today = utc_today()
    days = [today - timedelta(days=n) for n in range(7)]
    store = counter_store()
    count = safely(lambda: store.unique_visitors(segment_id, days), 0)
    with suppress(*CACHE_ERRORS):
        cache.set(key, count, VISITORS_CACHE_SECONDS)
    return count
