"""Admin views: segments, scoring rules and the analytics snippets (goals, funnels, experiments).

The viewsets only declare what editors see; the one form with behaviour is
:class:`ExperimentForm` (it stamps when an experiment starts and ends). The segment form's
helpers (slug, audience panel and its endpoint, chooser) are in
:mod:`personalize.admin.segment_form`.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import ObjectList
from wagtail.admin.ui.tables import BooleanColumn, Column, UpdatedAtColumn
from wagtail.snippets.views.snippets import (
    CreateView,
    IndexView,
    SnippetViewSet,
    SnippetViewSetGroup,
)

from personalize.admin.segment_form import (
    DESCRIBE_URL_NAME,
    DescribeRulesView,
    SegmentChooserViewSet,
    segment_edit_handler,
    who,
)
from personalize.models import Experiment, Funnel, Goal, ScoringRule, Segment


def _visitors(segment: Segment) -> int:
    from personalize.analytics.results import segment_visitors

    return segment_visitors(segment.pk)


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
        Column("summary", label=_("Who"), accessor=who),
        Column("visitors", label=_("Visitors (7 days)"), accessor=_visitors),
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
    edit_handler = segment_edit_handler()
    #: The chooser shows each segment's sentence next to its name.
    chooser_viewset_class = SegmentChooserViewSet

    def get_urlpatterns(self) -> list[Any]:
        """The snippet views, and the endpoint the form's audience panel asks."""
        view = DescribeRulesView.as_view(permission_policy=self.permission_policy)
        return [*super().get_urlpatterns(), path("describe/", view, name=DESCRIBE_URL_NAME)]


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


class GoalViewSet(SnippetViewSet):
    """Goals: what counts as a conversion."""

    model = Goal
    icon = "success"
    menu_label = _("Goals")
    list_display = [
        "name",
        Column("kind", label=_("The visitor"), accessor="get_kind_display"),
        Column("page", label=_("Page")),
        Column("event", label=_("Event")),
        BooleanColumn("enabled", label=_("Enabled")),
    ]
    list_filter = ["enabled", "kind"]
    search_fields = ["name", "event"]
    search_backend_name = None
    ordering = ["name"]


def _steps(funnel: Funnel) -> str:
    return " → ".join(str(child.value) for child in funnel.steps if child.value is not None)


class FunnelViewSet(SnippetViewSet):
    """Funnels: goals in the order visitors reach them."""

    model = Funnel
    icon = "list-ol"
    menu_label = _("Funnels")
    list_display = ["name", Column("steps", label=_("Steps"), accessor=_steps)]
    search_fields = ["name"]
    search_backend_name = None
    ordering = ["name"]


class ExperimentForm(WagtailAdminModelForm):
    """The experiment's settings; notes when it starts and ends, offers the winner by label."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "winner" in self.fields:
            arms = self.instance.arms if isinstance(self.instance.arms, list) else []
            winner = self.fields["winner"]
            self.fields["winner"] = forms.TypedChoiceField(
                label=winner.label,
                help_text=winner.help_text,
                required=False,
                coerce=int,
                empty_value=None,
                choices=[("", "—")]
                + [
                    (str(n), f"{n}: {arm.get('label') if isinstance(arm, dict) else arm}")
                    for n, arm in enumerate(arms)
                ],
            )

    def save(self, commit: bool = True) -> Experiment:
        """Stamp ``started_at`` on the first start and ``ended_at`` when it ends."""
        experiment: Experiment = super().save(commit=False)
        if "status" in self.changed_data:
            now = timezone.now()
            if experiment.status == Experiment.RUNNING and experiment.started_at is None:
                experiment.started_at = now
            if experiment.status == Experiment.ENDED:
                experiment.ended_at = now
                if experiment.started_at is None:
                    experiment.started_at = now
            else:
                experiment.ended_at = None
        if commit:
            experiment.save()
            self.save_m2m()
        return experiment


class ExperimentIndexView(IndexView):
    """Experiments are listed, never added here (publishing a page with alternatives does)."""

    def get_add_url(self) -> None:
        return None

    def get_base_queryset(self) -> Any:
        return super().get_base_queryset().select_related("page", "goal")


class ExperimentCreateView(CreateView):
    """Explains instead of adding: experiments come from publishing a page whose variant has
    alternatives."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        messages.info(
            request,
            _(
                "Experiments are not added here: give a variant of a personalized block "
                "alternatives (A/B/n) and publish the page; its experiment then appears in this "
                "list, ready to start."
            ),
        )
        return redirect(reverse("wagtailsnippets_personalize_experiment:list"))


def _winner(experiment: Experiment) -> str:
    if experiment.winner is None:
        return ""
    arms = experiment.arms if isinstance(experiment.arms, list) else []
    if experiment.winner < len(arms) and isinstance(arms[experiment.winner], dict):
        return str(arms[experiment.winner].get("label") or experiment.winner)
    return str(experiment.winner)


def _report_url(experiment: Experiment) -> str:
    return reverse("personalize_admin:report") + "?" + urlencode({"experiment": experiment.pk})


class ReportLinkColumn(Column):
    """A link to the experiment's results in the personalization report."""

    cell_template_name = "personalize/analytics/report_link_cell.html"


class ExperimentViewSet(SnippetViewSet):
    """Experiments: start, pause, end, choose the goal, optimize automatically, pick a winner."""

    model = Experiment
    icon = "sliders"
    menu_label = _("Experiments")
    index_view_class = ExperimentIndexView
    add_view_class = ExperimentCreateView
    copy_view_enabled = False
    list_display = [
        "name",
        Column("page", label=_("Page")),
        Column("status", label=_("Status"), accessor="get_status_display"),
        BooleanColumn("auto_optimize", label=_("Optimized automatically")),
        Column("winner", label=_("Winner"), accessor=_winner),
        ReportLinkColumn("results", label=_("Results"), accessor=_report_url),
    ]
    list_filter = ["status", "auto_optimize"]
    search_fields = ["name"]
    search_backend_name = None
    edit_handler = ObjectList(Experiment.panels, base_form_class=ExperimentForm)


class AnalyticsViewSetGroup(SnippetViewSetGroup):
    """One "Analytics" menu: goals, funnels, experiments."""

    items = (GoalViewSet, FunnelViewSet, ExperimentViewSet)
    menu_icon = "crosshairs"
    menu_label = _("Analytics")
    menu_name = "personalize-analytics"
    menu_order = 252
