"""``request.visitor``: the visitor context and segment matches, computed once per request."""

from __future__ import annotations

from datetime import datetime
from functools import cached_property
from typing import Any

from django.http import HttpRequest

from personalize.context import VisitorContext, build_context
from personalize.registry import current_segments
from personalize.segments import CompiledSegment, SegmentSet


class Visitor:
    """The current visitor, as every delivery channel of the request sees it.

    Nothing is computed until first used; then the context is built once and the live segments
    are resolved once, so templates, blocks and APIs in the same request share one decision.

    Args:
        request: the current request.
        now: the time to evaluate at (defaults to the current time).
    """

    def __init__(self, request: HttpRequest, now: datetime | None = None) -> None:
        self._request = request
        self._now = now

    @cached_property
    def segment_set(self) -> SegmentSet:
        """The compiled live segments at the time of this request."""
        return current_segments()

    @cached_property
    def context(self) -> VisitorContext:
        """The visitor context (signals of this request)."""
        include_groups = self.segment_set.reads("user.groups")
        return build_context(self._request, self._now, include_groups=include_groups)

    @property
    def attributes(self) -> Any:
        """The nested attribute dict (see docs/reference/attributes.md)."""
        return self.context.attributes

    @cached_property
    def matches(self) -> tuple[CompiledSegment, ...]:
        """The matched compiled segments, in stable order."""
        return self.segment_set.resolve(self.context.attributes)

    @property
    def segments(self) -> list[Any]:
        """The matched ``Segment`` objects, in stable order (by name)."""
        return [match.obj for match in self.matches]

    @cached_property
    def segment_slugs(self) -> frozenset[str]:
        """The slugs of the matched segments."""
        return frozenset(match.slug for match in self.matches)

    @cached_property
    def segment_ids(self) -> frozenset[int]:
        """The primary keys of the matched segments."""
        return frozenset(match.id for match in self.matches)

    def in_segment(self, slug: str) -> bool:
        """Whether the visitor is in the live segment with this slug."""
        return slug in self.segment_slugs

    def explain(self) -> list[dict[str, Any]]:
        """Per live segment: matched or not, and which top-level rules matched."""
        return self.segment_set.explain(self.context.attributes)

    def __repr__(self) -> str:
        return f"<Visitor segments={sorted(self.segment_slugs)!r}>"
