"""The report's daily chart as SVG geometry: impression bars and a conversion line.

Pure arithmetic over :func:`~personalize.analytics.results.daily_series`; the template
``personalize/analytics/chart.html`` draws the shapes, so the chart needs no JavaScript.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

#: The chart's size in SVG user units.
CHART_WIDTH, CHART_HEIGHT = 760, 260
_LEFT, _RIGHT, _TOP, _BOTTOM = 64, 64, 20, 36


def _nice_top(value: int, ticks: int = 4) -> int:
    """The smallest 1/2/5 × 10^k step × ``ticks`` at least ``value`` (and at least ``ticks``)."""
    raw = max(value, ticks) / ticks
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    return int(step * ticks)


def chart(series: list[tuple[date, int, int]]) -> dict[str, Any]:
    """Geometry of the daily chart: impression bars (left axis), a conversion line (right)."""
    width = CHART_WIDTH - _LEFT - _RIGHT
    height = CHART_HEIGHT - _TOP - _BOTTOM
    bottom = _TOP + height
    top_imp = _nice_top(max((imp for _, imp, _ in series), default=0))
    top_conv = _nice_top(max((conv for _, _, conv in series), default=0))
    slot = width / max(len(series), 1)
    every = max(1, math.ceil(len(series) / 10))
    days = []
    for n, (day, imp, conv) in enumerate(series):
        center = _LEFT + slot * (n + 0.5)
        bar = height * imp / top_imp
        days.append(
            {
                "day": day,
                "impressions": imp,
                "conversions": conv,
                "bar_x": round(center - slot * 0.35, 1),
                "bar_y": round(bottom - bar, 1),
                "bar_width": round(slot * 0.7, 1),
                "bar_height": round(bar, 1),
                "x": round(center, 1),
                "y": round(bottom - height * conv / top_conv, 1),
                "label": n % every == 0,
            }
        )
    ticks = [
        {
            "y": round(bottom - height * k / 4, 1),
            "impressions": f"{top_imp * k // 4:,}",
            "conversions": f"{top_conv * k // 4:,}",
        }
        for k in range(5)
    ]
    busiest = max(series, key=lambda item: item[1], default=None)
    return {
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "left": _LEFT,
        "right": CHART_WIDTH - _RIGHT,
        "top": _TOP,
        "bottom": bottom,
        "label_y": bottom + 20,
        "days": days,
        "ticks": ticks,
        "line": " ".join(f"{d['x']},{d['y']}" for d in days),
        "total_impressions": sum(imp for _, imp, _ in series),
        "total_conversions": sum(conv for _, _, conv in series),
        "busiest": busiest if busiest and busiest[1] else None,
    }
