"""Results of personalization and experiments, read from the counters.

Counts come from two places that never overlap: ``DailyCount`` rows (flushed) and the counter
store's live hashes (not flushed yet; the flush renames a day's hash before writing it, so a
counter is in one place or the other). When the store is unreachable the results show the
flushed counts only.

The report (:mod:`personalize.admin.report`) reads :func:`block_rows`,
:func:`daily_series` and :func:`funnel_rows`; automatic optimization reads
:func:`experiment_arms`; the segments list reads :func:`segment_visitors`. The rows and their
statistics are built in :mod:`personalize.analytics.rows` (:class:`Row`, :class:`FunnelRow`
and :data:`HOLDOUT` stay importable from here).
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterable
from contextlib import suppress
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Sum

from personalize.analytics.flush import MalformedField, parse_field
from personalize.analytics.rows import (
    DRAWS,
    HOLDOUT,
    NO_EXPERIMENT,
    Dimensions,
    FunnelRow,
    Row,
    Shortfall,
    Thresholds,
    conversion_rate,
    funnel_row,
    sort_key,
    with_statistics,
)
from personalize.cache import CacheUnavailable, guarded, shared_cache
from personalize.conf import DEFAULTS, personalize_settings

logger = logging.getLogger(__name__)

__all__ = [
    "DRAWS",
    "HOLDOUT",
    "NO_EXPERIMENT",
    "VISITORS_CACHE_SECONDS",
    "FunnelRow",
    "Row",
    "Shortfall",
    "Thresholds",
    "block_rows",
    "daily_series",
    "experiment_arms",
    "funnel_rows",
    "report_thresholds",
    "segment_visitors",
    "utc_today",
]

#: Seconds the 7-day unique visitors of a segment stay cached.
VISITORS_CACHE_SECONDS = 60


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


def report_thresholds() -> Thresholds:
    """The least data before the report compares alternatives (``REPORT_MIN_VISITORS`` and
    ``REPORT_MIN_CONVERSIONS``).

    Invalid settings (reported by the system check ``personalize.E001``) give the defaults
    here, with a warning in the log, rather than a broken report.
    """
    try:
        visitors, conversions = personalize_settings.report_thresholds
    except ImproperlyConfigured as exc:
        logger.warning("%s Using the defaults.", exc)
        visitors, conversions = DEFAULTS["REPORT_MIN_VISITORS"], DEFAULTS["REPORT_MIN_CONVERSIONS"]
    return Thresholds(visitors=visitors, conversions=conversions)


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


def block_rows(
    start: date,
    end: date,
    goal_id: int | None,
    *,
    block_key: str | None = None,
    variant: str | None = None,
    thresholds: Thresholds | None = None,
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
        thresholds: the least data before alternatives are compared (default: the settings,
            see :func:`report_thresholds`).

    Returns:
        Rows ordered by page, block, variant (the default last), segment and alternative. An
        experiment's alternatives without data get rows of zeros; rows without enough data
        say what they lack (:attr:`Row.shortfalls`) and have no comparison.
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
        Row(*dims, impressions=i, exposed=e, conversions=c, rate=conversion_rate(c, e, goal_id))
        for dims, (i, e, c) in totals.items()
    ]
    rows = with_statistics(rows, experiments, goal_id, thresholds=thresholds or report_thresholds())
    return sorted(rows, key=sort_key)


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
    return [
        funnel_row(segment, by_segment[segment])
        for segment in sorted(by_segment, key=lambda s: (s is None, s or 0))
    ]


def segment_visitors(segment_id: int) -> int:
    """Distinct visitors of a segment over the last 7 days (today included, UTC).

    Counts consenting visitors with a visitor id (HyperLogLog estimates above ~100). Cached
    for :data:`VISITORS_CACHE_SECONDS` in the Django cache; 0 when the store is unreachable.
    """
    from personalize.analytics.store import counter_store, safely

    shared = shared_cache()
    key = f"{personalize_settings.CACHE_KEY_PREFIX}:an:uv7:{segment_id}"
    try:
        cached = guarded(lambda: shared.get(key))
    except CacheUnavailable:
        cached = None
    if isinstance(cached, int):
        return cached
    today = utc_today()
    days = [today - timedelta(days=n) for n in range(7)]
    store = counter_store()
    count = safely(lambda: store.unique_visitors(segment_id, days), 0)
    with suppress(CacheUnavailable):
        guarded(lambda: shared.set(key, count, VISITORS_CACHE_SECONDS))
    return count
