"""The edge manifest: the live segments' conditions and the contract of the attributes they read.

Built from the live :class:`~personalize.segments.SegmentSet` and the experiment registry, both
of which are cached per process and versioned; the manifest is built once per version pair (and
settings) and reused, so serving it costs no database query when the registries are warm.

Shape (``schema`` 1)::

    {
      "schema": 1,
      "versions": {"segments": 7, "experiments": 3},
      "generated_at": "2026-12-07T13:40:00Z",
      "time_zone": "Europe/Berlin",
      "consent_mode": "opt-in",
      "cookies": {"consent": "pz_consent", "timezone": "pz_tz"},
      "query_parameter_limit": 50,
      "continents": {"AD": "EU", ...},
      "attributes": {"geo.country": {"type": "string", "edge": true, "source": "..."}, ...},
      "segments": [
        {"id": 1, "slug": "dach", "name": "DACH", "edge": true, "condition": {...}},
        {"id": 2, "slug": "members", "name": "Members", "edge": false, "reason": "..."}
      ]
    }

A segment's ``condition`` is in GrowthBook's syntax, rewritten where the JavaScript SDK would
compare loosely (:mod:`personalize.edge.translate`): ``evalCondition(attributes, condition)``
gives the engine's answer for attributes typed as the contract says.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings

from personalize.analytics.experiments import current_experiments
from personalize.conf import personalize_settings, register_reset
from personalize.edge.contract import check_path, contract
from personalize.edge.translate import OriginOnly, edge_condition
from personalize.segments import CompiledSegment, SegmentSet
from personalize.signals.clock import pick_timezone
from personalize.signals.geo import country_table
from personalize.visitors.registry import current_segments

__all__ = ["SCHEMA", "Manifest", "current_manifest", "build_manifest", "segment_entry"]

#: The manifest's format; a change that front ends must adapt to gets a new number.
SCHEMA = 1


@dataclass(frozen=True, slots=True)
class Manifest:
    """A built manifest.

    Attributes:
        data: The manifest as JSON-like data.
        body: ``data`` serialized as ASCII JSON (non-ASCII text escaped), as served.
        etag: A strong ETag (quoted) from a hash of everything but ``generated_at``.
    """

    data: dict[str, Any]
    body: bytes
    etag: str


def segment_entry(segment: CompiledSegment) -> dict[str, Any]:
    """One segment as the manifest lists it.

    Args:
        segment: A live, compiled segment.

    Returns:
        ``{"id", "slug", "name", "edge": True, "condition"}`` when the edge can evaluate it,
        else ``{"id", "slug", "name", "edge": False, "reason"}``.
    """
    entry: dict[str, Any] = {"id": segment.id, "slug": segment.slug, "name": segment.name}
    try:
        condition = edge_condition(segment.condition.condition, check_path)
    except OriginOnly as exc:
        return {**entry, "edge": False, "reason": str(exc)}
    return {**entry, "edge": True, "condition": condition}


def build_manifest(
    segments: SegmentSet, experiments_version: int | None, now: datetime | None = None
) -> Manifest:
    """Build the manifest for a segment set.

    Args:
        segments: The live segments.
        experiments_version: The experiment registry's version.
        now: When it is built (defaults to now).

    Returns:
        The manifest.
    """
    conf = personalize_settings
    content: dict[str, Any] = {
        "schema": SCHEMA,
        "versions": {"segments": segments.version, "experiments": experiments_version},
        "time_zone": pick_timezone(None, None, settings.TIME_ZONE),
        "consent_mode": conf.consent_mode,
        "cookies": {"consent": conf.CONSENT_COOKIE, "timezone": conf.TIMEZONE_COOKIE},
        "query_parameter_limit": int(conf.QUERY_PARAMETER_LIMIT),
        "continents": dict(sorted(country_table("continents.txt").items())),
        "attributes": contract(conf.CONSENT_COOKIE, conf.TIMEZONE_COOKIE),
        "segments": [segment_entry(segment) for segment in segments.segments],
    }
    # ASCII JSON: a lone surrogate (which a condition or a name may hold) is written as an
    # escape rather than breaking the UTF-8 encoding.
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"))
    etag = '"' + hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32] + '"'
    moment = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    data = {**content, "generated_at": moment.isoformat().replace("+00:00", "Z")}
    body = json.dumps(data, separators=(",", ":")).encode("ascii")
    return Manifest(data=data, body=body, etag=etag)


_lock = threading.Lock()
_memo: dict[str, tuple[SegmentSet, int | None, Manifest]] = {}


def current_manifest() -> Manifest:
    """The manifest of the live segments, rebuilt only when segments or experiments change.

    Returns:
        The manifest (no database query when the registries are warm).
    """
    segments = current_segments()
    experiments = current_experiments().version
    known = _memo.get("manifest")
    if known is not None and known[0] is segments and known[1] == experiments:
        return known[2]
    manifest = build_manifest(segments, experiments)
    with _lock:
        _memo["manifest"] = (segments, experiments, manifest)
    return manifest


def reset() -> None:
    """Forget the built manifest (settings changed)."""
    _memo.clear()


register_reset(reset)
