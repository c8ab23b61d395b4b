"""The personalization report's tables, formatted for its template and its CSV.

:func:`block_tables` groups :func:`~personalize.analytics.results.block_rows` per block, then
per variant and segment; :func:`funnel_tables` formats the funnels. Numbers become text here
(percentages, probabilities, intervals), and so does what an experiment's row still lacks
before it is compared (:func:`needed_text`), which the CSV repeats word for word.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext, ngettext

from personalize.admin.labels import Labeller
from personalize.analytics import results
from personalize.models import Funnel, Goal, Segment
from personalize.rules.stats import SRM_THRESHOLD


def percent(value: float | None, *, signed: bool = False, digits: int = 1) -> str:
    """A share as a percentage ("—" for none), with a true minus sign."""
    if value is None:
        return "—"
    text = f"{value * 100:+.{digits}f}%" if signed else f"{value * 100:.{digits}f}%"
    return text.replace("-", "−")


def probability(value: float | None) -> str:
    """A probability in whole percent; never a certain-looking 0% or 100% ("—" for none)."""
    if value is None:
        return "—"
    if value < 0.005:
        return "<1%"
    if value > 0.995:
        return ">99%"
    return percent(value, digits=0)


def interval(row: results.Row) -> str:
    """The uplift's 95% interval, "low to high" (empty when there is none)."""
    if row.uplift_low is None or row.uplift_high is None:
        return ""
    low, high = percent(row.uplift_low, signed=True), percent(row.uplift_high, signed=True)
    return gettext("%(low)s to %(high)s") % {"low": low, "high": high}


def needed_text(shortfalls: Iterable[results.Shortfall] | None) -> str:
    """What a row still lacks before it is compared, e.g. "12 of 100 visitors" ("" for nothing).

    Args:
        shortfalls: the row's :attr:`~personalize.analytics.results.Row.shortfalls`.

    Returns:
        The phrases of :func:`needed_parts`, joined by " · ".
    """
    return " · ".join(needed_parts(shortfalls))


def needed_parts(shortfalls: Iterable[results.Shortfall] | None) -> list[str]:
    """One phrase per count below its threshold, e.g. "control: 40 of 100 visitors"."""
    parts = []
    for shortfall in shortfalls or ():
        numbers = {"count": f"{shortfall.count:,}", "needed": f"{shortfall.needed:,}"}
        if shortfall.kind == "visitors":
            text = ngettext(
                "%(count)s of %(needed)s visitor",
                "%(count)s of %(needed)s visitors",
                shortfall.needed,
            )
        elif shortfall.kind == "control_visitors":
            text = ngettext(
                "control: %(count)s of %(needed)s visitor",
                "control: %(count)s of %(needed)s visitors",
                shortfall.needed,
            )
        else:
            text = ngettext(
                "%(count)s of %(needed)s conversion with the control",
                "%(count)s of %(needed)s conversions with the control",
                shortfall.needed,
            )
        parts.append(text % numbers)
    return parts


def _row(row: results.Row, labels: Labeller) -> dict[str, Any]:
    """One row of a block's table, as the template shows it."""
    return {
        "label": labels.alternative(row),
        "control": row.alternative == "0",
        "impressions": f"{row.impressions:,}",
        "exposed": f"{row.exposed:,}",
        "conversions": f"{row.conversions:,}",
        "rate": percent(row.rate, digits=2),
        "not_enough": row.enough_data is False,
        "needed": needed_parts(row.shortfalls),
        "uplift": percent(row.uplift, signed=True),
        "interval": interval(row),
        "p_beat_control": probability(row.p_beat_control),
        "p_best": probability(row.p_best),
    }


def _group(row: results.Row, labels: Labeller) -> dict[str, Any]:
    """The heading of a variant's rows within one segment (and its experiment, if any)."""
    return {
        "variant": labels.variant(row),
        "segment": labels.segment(row.segment_id),
        "segment_id": row.segment_id,
        "experiment": labels.experiments.get(row.experiment_id or 0),
        "experiment_url": reverse(
            "wagtailsnippets_personalize_experiment:edit", args=[row.experiment_id]
        )
        if row.experiment_id
        else None,
        "srm_p": row.srm_p,
        "srm": row.srm_p is not None and row.srm_p < SRM_THRESHOLD,
        "rows": [],
        "ready": [],
    }


def block_tables(rows: list[results.Row], labels: Labeller) -> list[dict[str, Any]]:
    """Rows grouped for the template: per block, then per variant and segment.

    A group whose rows are compared only in part (some alternatives have enough data, some
    not) says so with ``waiting_for_p_best``: P(best) compares them all.
    """
    tables: dict[tuple[Any, str], dict[str, Any]] = {}
    for row in rows:
        table = tables.setdefault(
            (row.page_id, row.block_key),
            {
                "page": labels.page(row.page_id),
                "page_url": labels.page_url(row.page_id),
                "block": labels.block(row.block_key),
                "groups": {},
            },
        )
        group = table["groups"].setdefault((row.variant, row.segment_id), _group(row, labels))
        group["rows"].append(_row(row, labels))
        if row.enough_data is not None:
            group["ready"].append(row.enough_data)
    out = []
    for table in tables.values():
        table["groups"] = list(table["groups"].values())
        for group in table["groups"]:
            ready = group.pop("ready")
            group["waiting_for_p_best"] = any(ready) and not all(ready)
        out.append(table)
    return out


def funnel_tables(start: date, end: date) -> list[dict[str, Any]]:
    """Every funnel's steps and its rows per segment, formatted for the template."""
    funnels = list(Funnel.objects.all())
    goals = Goal.objects.in_bulk({pk for f in funnels for pk in f.goal_ids()})
    segments = dict(Segment.objects.values_list("pk", "name"))
    tables = []
    for funnel in funnels:
        steps = [str(goals.get(pk, "?")) for pk in funnel.goal_ids()]
        rows = [
            {
                "segment": segments.get(row.segment_id, "—")
                if row.segment_id is not None
                else gettext("No segment"),
                "cells": [
                    {"count": f"{count:,}", "drop_off": percent(drop, digits=0)}
                    for count, drop in zip(row.counts, row.drop_off, strict=True)
                ],
            }
            for row in results.funnel_rows(funnel, start, end)
        ]
        tables.append({"funnel": funnel, "steps": steps, "rows": rows})
    return tables
