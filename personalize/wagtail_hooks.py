"""Registration only: segments and scoring rules, settings, the userbar, the served page."""

from typing import Any

from wagtail import hooks
from wagtail.contrib.settings.registry import register_setting
from wagtail.snippets.models import register_snippet

from personalize.middleware import PAGE_ATTRIBUTE
from personalize.models import PersonalizationSettings
from personalize.userbar import ViewAsSegmentItem
from personalize.viewsets import ScoringRuleViewSet, SegmentViewSet

register_snippet(SegmentViewSet)
register_snippet(ScoringRuleViewSet)
register_setting(PersonalizationSettings, icon="group")


@hooks.register("before_serve_page")
def remember_served_page(page: Any, request: Any, serve_args: Any, serve_kwargs: Any) -> None:
    """Leave the page on the request, for the middleware to track the view."""
    setattr(request, PAGE_ATTRIBUTE, page)


@hooks.register("construct_wagtail_userbar")
def add_view_as_segment(request: Any, items: list[Any], page: Any) -> None:
    if page is not None and getattr(page, "id", None):
        items.append(ViewAsSegmentItem(page))
