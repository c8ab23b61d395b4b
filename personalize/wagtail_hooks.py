"""Registration only: the segments admin and the userbar's "View as segment"."""

from typing import Any

from wagtail import hooks
from wagtail.snippets.models import register_snippet

from personalize.userbar import ViewAsSegmentItem
from personalize.viewsets import SegmentViewSet

register_snippet(SegmentViewSet)


@hooks.register("construct_wagtail_userbar")
def add_view_as_segment(request: Any, items: list[Any], page: Any) -> None:
    if page is not None and getattr(page, "id", None):
        items.append(ViewAsSegmentItem(page))
