"""Counting what was delivered: impressions per page, block, variant, alternative and segment.

Blocks note each decision on the request's visitor (:func:`note_impression`); once the response
is ready the middleware hands them to :func:`record_request`, which writes every counter of the
request in one round trip to the counter store. Bots, previews and "view as segment" are never
counted. Without consent to analytics only anonymous aggregates are counted; with it, the
visitor's first exposure to each variant and alternative is remembered (for conversions within
the attribution window) and counted as an exposed visitor. For a visitor id minted in this
request the exposures are remembered in the visitor cookie (see
:mod:`personalize.analytics.visitor_state`). A consenting page view is also offered to the day's
anonymous sample (:mod:`personalize.analytics.samples`), in the same write.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from personalize.conf import personalize_settings
from personalize.rules.bucketing import fnv1a32

logger = logging.getLogger(__name__)

#: Request attribute holding the noted impressions per visitor decided for (a headless front end
#: relays its visitors, who differ from the request's own): {id: (visitor, {dims: counted})}.
IMPRESSIONS = "_personalize_impressions"


def note_impression(visitor: Any, page_id: int | None, block_key: str, decision: Any) -> None:
    """Remember that ``visitor`` was delivered ``decision`` for a block (once per request)."""
    if visitor is None or not block_key or not getattr(visitor, "is_real", True):
        return
    request = getattr(visitor, "request", None)
    if request is None:
        return
    variant = (decision.variant_key or "default") if decision.index is not None else "default"
    if decision.holdout:
        alternative = "h"
    elif decision.alternative is None:
        alternative = "-"
    else:
        alternative = str(decision.alternative)
    segment = str(decision.segment_ids[0]) if decision.segment_ids else "-"
    page = str(page_id) if page_id is not None else "-"
    by_visitor = request.__dict__.setdefault(IMPRESSIONS, {})
    _, noted = by_visitor.setdefault(id(visitor), (visitor, {}))
    noted.setdefault((page, block_key, variant, alternative, segment), decision.counted)


def record_request(visitor: Any, page_view: bool = False) -> None:
    """Write the request's counters (impressions, matched segments, exposures) in one go.

    Args:
        visitor: the request's own visitor; visitors a front end relayed in the same request
            (GraphQL) are recorded with it, each with their own consent and device.
        page_view: the request served a Wagtail page: with consent to analytics, it is offered
            to the day's sample (:func:`personalize.analytics.samples.visit_sample`).
    """
    if not personalize_settings.ANALYTICS_ENABLED or visitor is None:
        return
    by_visitor = dict(visitor.request.__dict__.get(IMPRESSIONS) or {})
    _, noted = by_visitor.pop(id(visitor), (visitor, {}))
    for relayed, relayed_noted in by_visitor.values():
        _record(relayed, relayed_noted)
    _record(visitor, noted, page_view)


def _record(visitor: Any, noted: dict[tuple[str, ...], bool], page_view: bool = False) -> None:
    from personalize.analytics.counters import VisitRecord
    from personalize.analytics.pending import count
    from personalize.analytics.samples import visit_sample
    from personalize.analytics.visitor_state import visitor_state

    if not visitor.is_real:
        return
    sample = visit_sample(visitor, page_view)
    day = datetime.now(UTC).date()
    matched = visitor.__dict__.get("matches")
    if not noted and not matched:
        if sample is not None:
            count(day, {}, None, sample=sample)
        return
    if visitor.context.attributes["device"].get("type") == "bot":
        return
    now = str(int(datetime.now(UTC).timestamp()))
    counts: dict[str, int] = {}
    for (page, block, variant, alternative, segment), _counted in noted.items():
        field = f"imp|{page}|{block}|{variant}|{alternative}|{segment}"
        counts[field] = counts.get(field, 0) + 1
    state = visitor_state(visitor)
    visit = None
    if state is not None and not state.kept:
        # A new id: every exposure is its first; the cookie remembers them.
        for dims in _exposures(noted):
            if state.first(f"seen|{dims}", now):
                counts[f"exp|{dims}"] = counts.get(f"exp|{dims}", 0) + 1
    elif state is not None:
        visitor_id = state.visitor_id
        segment_ids = tuple(sorted(segment.id for segment in matched or ()))
        # Unique visitors per segment: once a day per visitor and set of segments matched.
        marker = (
            f"segs|{day.isoformat()}|{fnv1a32(','.join(map(str, segment_ids))):x}"
            if segment_ids
            else ""
        )
        visit = VisitRecord(
            visitor_id=visitor_id,
            now=now,
            exposures=_exposures(noted),
            marker=marker,
            segment_ids=segment_ids,
        )
    count(day, counts, visit, sample=sample)


def _exposures(noted: dict[tuple[str, ...], bool]) -> tuple[str, ...]:
    """The dimensions of the exposures to remember for a consenting visitor: in a test only
    when counted, always outside one (the first of each is counted as an exposed visitor)."""
    return tuple("|".join(key) for key, counted in noted.items() if counted or key[3] == "-")
