"""The process-wide segment registry, wired to the ORM and the Django cache."""

from __future__ import annotations

from personalize.cache import CacheVersionStore
from personalize.conf import register_reset
from personalize.segments import SegmentRecord, SegmentRegistry, SegmentSet


def _load_records() -> list[SegmentRecord]:
    # Imported when first used, so that importing the registry loads no models.
    from personalize.models import Segment, SegmentQuerySet

    # The queryset class itself (what ``Segment.objects`` proxies), so that ``live()`` is typed.
    return [segment.to_record() for segment in SegmentQuerySet(Segment).live()]


#: The registry every request reads; :func:`current_segments` is the public way in.
registry = SegmentRegistry(_load_records, CacheVersionStore())
register_reset(registry.reset)


def current_segments() -> SegmentSet:
    """The compiled set of live segments for this request (no query when warm)."""
    return registry.current()


def segments_changed() -> None:
    """Announce a segment change to every process (called on save and delete)."""
    registry.invalidate()
