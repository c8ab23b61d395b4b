"""``request.visitor``: the visitor context and segment matches, computed once per request."""

from __future__ import annotations

from contextvars import ContextVar
from datetime import datetime
from functools import cached_property
from typing import Any

from django.http import HttpRequest

from personalize.context import FrontendSignals, VisitorContext, build_context
from personalize.registry import current_segments
from personalize.segments import CompiledSegment, SegmentSet

#: The visitor of the request being handled (set by the middleware), for code that renders
#: without a template context, such as ``{{ page.body }}``.
_current_visitor: ContextVar[Visitor | None] = ContextVar("personalize_visitor", default=None)


def current_visitor() -> Visitor | None:
    """The visitor of the request this code runs in, or None outside a request."""
    return _current_visitor.get()


class Visitor:
    """The current visitor, as every delivery channel of the request sees it.

    Nothing is computed until first used; then the context is built once and the live segments
    are resolved once, so templates, blocks and APIs in the same request share one decision.

    Args:
        request: the current request.
        now: the time to evaluate at (defaults to the current time).
        as_segments: force the visitor into exactly these live segments (previews and the
            editors' "view as segment"); signals are still read for the attributes.
        signals: a trusted front end's relayed visitor signals (headless delivery).
    """

    def __init__(
        self,
        request: HttpRequest,
        now: datetime | None = None,
        *,
        as_segments: frozenset[int] | None = None,
        signals: FrontendSignals | None = None,
    ) -> None:
        self._request = request
        self._now = now
        self._signals = signals
        #: Segment ids forced by a preview or "view as", or None for a real visitor.
        self.as_segments = as_segments
        #: Set once anything in the request depended on who the visitor is.
        self.used = False

    @cached_property
    def segment_set(self) -> SegmentSet:
        """The compiled live segments at the time of this request."""
        return current_segments()

    @cached_property
    def context(self) -> VisitorContext:
        """The visitor context (signals of this request)."""
        include_groups = self.segment_set.reads("user.groups")
        return build_context(
            self._request, self._now, include_groups=include_groups, signals=self._signals
        )

    @property
    def attributes(self) -> Any:
        """The nested attribute dict (see docs/reference/attributes.md)."""
        self.used = True
        return self.context.attributes

    @cached_property
    def matches(self) -> tuple[CompiledSegment, ...]:
        """The matched compiled segments, in stable order."""
        self.used = True
        if self.as_segments is not None:
            return tuple(s for s in self.segment_set.segments if s.id in self.as_segments)
        return self.segment_set.resolve(self.context.attributes)

    @cached_property
    def user_groups(self) -> frozenset[str]:
        """The logged-in user's group names (one query, only when a gate asks)."""
        self.used = True
        user = getattr(self._request, "user", None)
        if self.as_segments is not None or user is None or not user.is_authenticated:
            return frozenset()
        return frozenset(user.groups.values_list("name", flat=True))

    @property
    def authenticated(self) -> bool:
        """Whether the visitor is logged in (previews and "view as" act as anonymous visitors)."""
        self.used = True
        if self.as_segments is not None:
            return False
        user = getattr(self._request, "user", None)
        return bool(user is not None and user.is_authenticated)

    @property
    def request(self) -> HttpRequest:
        """The request this visitor belongs to."""
        return self._request

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
