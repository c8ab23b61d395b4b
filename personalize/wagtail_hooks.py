"""Registration only: the segments admin."""

from wagtail.snippets.models import register_snippet

from personalize.viewsets import SegmentViewSet

register_snippet(SegmentViewSet)
