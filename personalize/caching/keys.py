"""The decision key: one value per response that differs exactly when what a visitor sees does.

For a page and a visitor, the key is a digest of every decision the response depends on — per
personalized block the variant and A/B alternative (or holdout), per gate locked or open, per
preference question the visitor's answer, per block with an audience setting shown or hidden
(and the segments that showed it), the reasons shown when ``EXPLAIN_LINKS`` is on, and the
visitor's consent choice (the banner) —
together with the site, the page, its live revision, its locale and the request's active language
(the package's own words, and the page itself where the browser chooses the language). Two
visitors with the same decisions share the key; any difference gives another.

The decisions are taken from the page's index (:mod:`personalize.caching.index`) with the same
functions the blocks render with, so they are noted for analytics exactly once per request,
whether the response is then rendered, served from the page cache, or only its key is asked for.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import translation

from personalize.blocks.audience import decide_audience
from personalize.blocks.context import keyed_decisions
from personalize.blocks.decisions import (
    audience_identity,
    gate_identity,
    preference_identity,
    variant_identity,
)
from personalize.blocks.explanations import why
from personalize.blocks.gated import decide_gate
from personalize.blocks.personalized import decide_variant
from personalize.blocks.preference import answer
from personalize.caching.index import PageIndex
from personalize.conf import personalize_settings

#: Time attributes and how long a decision that reads them can hold: until the next minute,
#: hour or day on the visitor's clock.
_MINUTE = frozenset({"time.minute", "time.time"})
_HOUR = frozenset({"time.hour"})


@dataclass(frozen=True, slots=True)
class PageDecisions:
    """A page's decisions for one visitor.

    Attributes:
        key: 32 hex digits, the digest of the decisions.
        expires: Unix time at which a time rule of the page's segments may decide differently
            (None: no segment of the page reads the time).
    """

    key: str
    expires: float | None = None

    def max_age(self, limit: int, now: float | None = None) -> int:
        """Seconds a shared cache may keep the response: ``limit``, cut at :attr:`expires`."""
        if self.expires is None:
            return limit
        left = int(self.expires - (time.time() if now is None else now))
        return max(0, min(limit, left))


def decide_page(
    visitor: Any, index: PageIndex, *, site_id: int, explain: bool | None = None
) -> PageDecisions:
    """Take every decision of ``index`` for ``visitor`` and digest them into a key.

    Impressions and experiment assignments are noted on the visitor's request, as rendering
    notes them (once per request, so a render afterwards counts nothing twice).

    Args:
        visitor: the visitor decided for.
        index: the page's index.
        site_id: the page's site.
        explain: whether the reasons (``why``) reach the output; default ``EXPLAIN_LINKS``.
    """
    if explain is None:
        explain = personalize_settings.EXPLAIN_LINKS
    _keyed(visitor, index)
    decisions: list[Any] = []
    for block_key, variants in index.personalized:
        decision = decide_variant(
            visitor,
            [variant.as_value() for variant in variants],
            page_id=index.page_id,
            block_key=block_key,
        )
        reasons = why(visitor, decision.segment_ids) if explain and decision.segment_ids else []
        decisions.append(
            [
                "p",
                block_key,
                decision.index,
                decision.alternative,
                decision.holdout,
                sorted(decision.segment_ids),
                reasons,
            ]
        )
    for gate in index.gates:
        locked = decide_gate(
            visitor, gate.requirement, groups=gate.groups, segments=gate.segments
        ).locked
        decisions.append(["g", gate.requirement, list(gate.groups), list(gate.segments), locked])
    for key in index.preferences:
        decisions.append(["q", key, answer(visitor, key)])
    for audience in index.audiences:
        outcome = decide_audience(visitor, audience.as_value(), page_id=index.page_id)
        shown, matched = outcome.shown, outcome.segment_ids
        # A shown block's context holds the segments that showed it (``audience``), and with
        # EXPLAIN_LINKS its reasons; a hidden block renders nothing.
        showed = sorted(matched) if shown else []
        reasons = why(visitor, matched) if explain and shown and matched else []
        decisions.append(
            [
                "a",
                audience.who,
                list(audience.groups),
                list(audience.segments),
                shown,
                showed,
                reasons,
            ]
        )
    consent = visitor.consent
    material = [
        visitor.segment_set.version,
        site_id,
        index.page_id,
        index.revision_id,
        index.locale,
        translation.get_language(),
        [consent.explicit, sorted(consent.granted)],
        decisions,
    ]
    text = json.dumps(material, sort_keys=True, separators=(",", ":"), default=str)
    key = hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
    return PageDecisions(key, _expires(visitor, index))


def _keyed(visitor: Any, index: PageIndex) -> None:
    """Note on the visitor which decisions the key takes: a block decided otherwise while the
    page renders (a snippet's) makes the response private (:mod:`personalize.blocks.context`)."""
    identities: list[Any] = [
        variant_identity(block_key, [variant.as_value() for variant in variants])
        for block_key, variants in index.personalized
    ]
    identities += [gate_identity(g.requirement, g.groups, g.segments) for g in index.gates]
    identities += [preference_identity(key) for key in index.preferences]
    identities += [audience_identity(audience.as_value()) for audience in index.audiences]
    keyed_decisions(visitor, identities)


def _expires(visitor: Any, index: PageIndex) -> float | None:
    """When the next boundary of a time rule read by the page's segments comes."""
    live = visitor.segment_set
    paths: set[str] = set()
    for segment_id in index.segment_ids:
        segment = live.get_by_id(segment_id)
        if segment is not None:
            paths.update(p for p in segment.condition.paths if p.startswith("time."))
    if not paths:
        return None
    clock = visitor.context.attributes["time"]
    now = datetime.now(UTC).astimezone(ZoneInfo(clock["timezone"]))
    if paths & _MINUTE:
        boundary = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    elif paths & _HOUR:
        boundary = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    else:
        # Wall-clock arithmetic: the next local midnight, whatever the offset is then.
        boundary = now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    return boundary.timestamp()
