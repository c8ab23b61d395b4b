"""PersonalizedPageMixin: preview modes per segment for pages with segment-aware blocks."""

from __future__ import annotations

from contextlib import nullcontext
from functools import cache
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from personalize.caching.locales import locale_code
from personalize.visitors.context import PAGE_LOCALE_ATTRIBUTE
from personalize.visitors.registry import current_segments
from personalize.visitors.simulated import preview_visitor
from personalize.visitors.stand_in import PreviewVisitorUser as PreviewVisitorUser
from personalize.visitors.stand_in import rendered_as_anonymous
from personalize.visitors.visitor import Visitor

#: Preview mode names are ``segment:<slug>``; the empty mode is the default visitor.
SEGMENT_MODE_PREFIX = "segment:"
#: The preview mode showing the editor's simulated visitor (see docs/how-to/simulate-visitors.md).
SIMULATION_MODE = "simulation"


def uses_personalized_blocks(block: Any, seen: set[int] | None = None) -> bool:
    """Whether a block (or any block inside it) is a PersonalizedBlock or GatedBlock."""
    from personalize.blocks import GatedBlock, PersonalizedBlock

    seen = seen if seen is not None else set()
    if id(block) in seen:
        return False
    seen.add(id(block))
    if isinstance(block, PersonalizedBlock | GatedBlock):
        return True
    children = getattr(block, "child_blocks", None) or {}
    child = getattr(block, "child_block", None)
    candidates = [*children.values(), *([child] if child is not None else [])]
    return any(uses_personalized_blocks(c, seen) for c in candidates)


@cache
def has_personalized_fields(page_class: type) -> bool:
    """Whether a page type's StreamFields hold personalized or gated blocks (once per type)."""
    from wagtail.fields import StreamField

    meta = getattr(page_class, "_meta", None)
    if meta is None:
        return False
    fields = [f for f in meta.get_fields() if isinstance(f, StreamField)]
    return any(uses_personalized_blocks(f.stream_block) for f in fields)


class PersonalizedPageMixin:
    """Mix into a Page model (before ``Page``) to preview it as each segment sees it.

    Pages whose StreamFields contain personalized or gated blocks offer the preview modes
    "Default visitor" and "As: <segment>" for every enabled segment. Previews show what an
    anonymous visitor in that segment gets (so gated content shows its teaser, and templates
    see a logged-out ``request.user``).
    """

    @classmethod
    def _has_personalized_fields(cls) -> bool:
        return has_personalized_fields(cls)

    @property
    def preview_modes(self) -> list[tuple[str, str]]:
        """Default visitor, the editor's simulated visitor, then one mode per enabled segment."""
        if not self._has_personalized_fields():
            return list(super().preview_modes)  # type: ignore[misc]
        modes = [("", _("Default visitor")), (SIMULATION_MODE, _("Simulated visitor"))]
        modes += [
            (f"{SEGMENT_MODE_PREFIX}{s.slug}", _("As: %(name)s") % {"name": s.name})
            for s in current_segments().segments
        ]
        return modes

    @property
    def default_preview_mode(self) -> str:
        """The default visitor."""
        return ""

    def serve_preview(self, request: HttpRequest, mode_name: str) -> HttpResponse:
        """Render the preview as the chosen segment's (anonymous) visitor.

        The response is rendered here, with ``request.user`` anonymous unless the previewed
        visitor is signed in (:func:`rendered_as_anonymous`). With Wagtail i18n, ``page.locale``
        is the previewed page's language.
        """
        if getattr(settings, "WAGTAIL_I18N_ENABLED", False):
            # page.locale, as when the page is served (the before_serve_page hook).
            setattr(request, PAGE_LOCALE_ATTRIBUTE, locale_code(self))
        as_segments: frozenset[int] = frozenset()
        if mode_name.startswith(SEGMENT_MODE_PREFIX):
            segment = current_segments().get(mode_name[len(SEGMENT_MODE_PREFIX) :])
            if segment is not None:
                as_segments = frozenset({segment.id})
        visitor = preview_visitor(request) if mode_name == SIMULATION_MODE else None
        request.visitor = visitor or Visitor(request, as_segments=as_segments)  # type: ignore[attr-defined]
        # A visitor who is not signed in sees a logged-out page (header included).
        anonymous = not request.visitor.authenticated  # type: ignore[attr-defined]
        with rendered_as_anonymous(request) if anonymous else nullcontext():
            response: HttpResponse = super().serve_preview(request, mode_name)  # type: ignore[misc]
            if callable(getattr(response, "render", None)):
                response.render()
        response["Cache-Control"] = "private, no-store"
        return response
