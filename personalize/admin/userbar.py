"""The "View as" entries of the Wagtail userbar on live pages (editors only)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest
from django.template.loader import render_to_string
from wagtail.admin.userbar import BaseItem

from personalize.middleware import VIEW_AS_PARAMETER
from personalize.pages import has_personalized_fields
from personalize.visitors.registry import current_segments


class ViewAsSegmentItem(BaseItem):  # type: ignore[misc]
    """Links that reload the live page as each segment's visitor would see it.

    Works with both userbar APIs: ``render_html(parent_context)`` (Wagtail 8) and
    ``render(request)`` (Wagtail 7). Like Wagtail's own items it renders its template with a
    plain context: the page's context processors already ran once for the page.
    """

    template_name = "personalize/userbar/view_as.html"
    template = template_name

    def __init__(self, page: Any) -> None:
        self.page = page

    @staticmethod
    def offered_on(page: Any) -> bool:
        """Whether ``page`` gets the item: a saved page whose type has personalized blocks.

        The same pages get the per-segment preview modes. Other pages look the same to every
        audience, and their userbar stays exactly Wagtail's, with no query added.
        """
        return bool(getattr(page, "id", None)) and has_personalized_fields(type(page))

    def choices(self, request: HttpRequest) -> list[dict[str, Any]]:
        """One entry per audience: the editor, the default visitor, each live segment."""
        current = request.GET.get(VIEW_AS_PARAMETER, "")
        base = request.path
        return [
            {"label": "View as me", "url": base, "active": not current, "icon": "user"},
            {
                "label": "View as default visitor",
                "url": f"{base}?{urlencode({VIEW_AS_PARAMETER: '-'})}",
                "active": current == "-",
                "icon": "view",
            },
            *(
                {
                    "label": f"View as: {segment.name}",
                    "url": f"{base}?{urlencode({VIEW_AS_PARAMETER: segment.slug})}",
                    "active": current == segment.slug,
                    "icon": "group",
                }
                for segment in current_segments().segments
            ),
        ]

    def _render(self, request: HttpRequest | None) -> str:
        if request is None or not self.page.id or getattr(request, "is_preview", False):
            return ""
        if not self.page.permissions_for_user(request.user).can_edit():
            return ""
        context = {"self": self, "request": request, "choices": self.choices(request)}
        # No ``request=``: that would run every context processor again for this item.
        return render_to_string(self.template_name, context)

    def render_html(self, parent_context: Any) -> str:
        """Wagtail 8 userbar API."""
        return self._render(parent_context.get("request"))

    def render(self, request: HttpRequest) -> str:
        """Wagtail 7 userbar API."""
        return self._render(request)
