"""Admin views for segments: a SnippetViewSet that only declares what editors see."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from wagtail.admin.ui.tables import BooleanColumn, Column, UpdatedAtColumn
from wagtail.snippets.views.snippets import SnippetViewSet

from personalize.models import ScoringRule, Segment


class SegmentViewSet(SnippetViewSet):
    """Segments in the admin: list with summary, search, filter by status."""

    model = Segment
    icon = "group"
    menu_label = _("Segments")
    menu_order = 250
    add_to_admin_menu = True
    list_display = [
        "name",
        BooleanColumn("enabled", label=_("Enabled")),
        Column("summary", label=_("Who")),
        UpdatedAtColumn(),
    ]
    list_filter = ["enabled", "match"]
    search_fields = ["name", "description", "summary", "slug"]
    search_backend_name = None
    ordering = ["name"]
    copy_view_enabled = True
    inspect_view_enabled = True
    inspect_view_fields = [
        "name",
        "slug",
        "description",
        "enabled",
        "match",
        "summary",
        "condition",
    ]


class ScoringRuleViewSet(SnippetViewSet):
    """Scoring rules in the admin: what each interaction is worth."""

    model = ScoringRule
    icon = "pick"
    menu_label = _("Scoring rules")
    menu_order = 251
    add_to_admin_menu = True
    list_display = [
        "name",
        BooleanColumn("enabled", label=_("Enabled")),
        Column("summary", label=_("Points")),
        Column("trigger", label=_("Trigger"), accessor="get_trigger_display"),
    ]
    list_filter = ["enabled", "trigger"]
    search_fields = ["name", "value", "summary"]
    search_backend_name = None
    ordering = ["name"]
    copy_view_enabled = True
