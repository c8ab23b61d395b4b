"""The "View as segment" entry of the Wagtail userbar on live pages (editors only)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from wagtail.admin.userbar import BaseItem

from personalize.middleware import VIEW_AS_PARAMETER
from personalize.registry import current_segments


class ViewAsSegmentItem(BaseItem):
    """Links that reload the live page as each segment's visitor would see it."""

    template_name = "personalize/userbar/view_as.html"

    def __init__(self, page: Any) -> None:
        self.page = page

    def get_context_data(self, parent_context: Any) -> dict[str, Any]:
        context: dict[str, Any] = super().get_context_data(parent_context)
        request = context["request"]
        current = request.GET.get(VIEW_AS_PARAMETER, "")
        base = request.path
        context["choices"] = [
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
        return context

    def render_html(self, parent_context: Any) -> str:
        request = parent_context.get("request")
        if request is None or not self.page.id or getattr(request, "is_preview", False):
            return ""
        if not self.page.permissions_for_user(request.user).can_edit():
            return ""
        return str(super().render_html(parent_context))
