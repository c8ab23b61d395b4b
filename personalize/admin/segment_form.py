"""The segment form's helpers: the slug that follows the name, the audience panel and its
endpoint, and the segment chooser that says who each segment is.

* The name fills in the slug as the editor types, with Wagtail's own ``w-sync`` and ``w-slug``
  controllers (as a page's title fills in its slug), until the editor edits the slug by hand;
  an existing segment's slug never follows its name.
* :class:`AudiencePanel` shows the segment's sentence, the problems of incomplete rules and the
  audience estimate, kept up to date by ``personalize/segment_form.js`` through
  :class:`DescribeRulesView` while the editor edits, before anything is saved.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views import View
from wagtail.admin.panels import FieldPanel, MultiFieldPanel, ObjectList, Panel, TitleFieldPanel
from wagtail.admin.ui.tables import Column
from wagtail.admin.widgets.slug import SlugInput
from wagtail.snippets.views.chooser import ChooseResultsView, ChooseView, SnippetChooserViewSet

from personalize.admin.audience import UnreadableRules, describe_rules
from personalize.models import Segment

#: The name of the endpoint's URL in the segment viewset's namespace.
DESCRIBE_URL_NAME = "describe_rules"


class SegmentNamePanel(TitleFieldPanel):
    """The segment's name; while the segment is new it fills in the slug as the editor types."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("classname", "")
        kwargs.setdefault("placeholder", False)
        super().__init__(*args, **kwargs)

    class BoundPanel(TitleFieldPanel.BoundPanel):
        def get_should_apply(self) -> bool:
            """Only for a new segment: an existing slug is in templates and must not drift."""
            return self.instance is None or self.instance.pk is None


class AudiencePanel(Panel):
    """Who the rules describe and how many consenting page views they would have matched."""

    class BoundPanel(Panel.BoundPanel):
        template_name = "personalize/admin/audience_panel.html"

        class Media:
            css = {"all": ["personalize/segment_form.css"]}
            js = ["personalize/segment_form.js"]

        def get_context_data(self, parent_context: Any = None) -> dict[str, Any]:
            context: dict[str, Any] = super().get_context_data(parent_context)
            viewset = Segment.snippet_viewset  # type: ignore[attr-defined]
            context["describe_url"] = reverse(viewset.get_url_name(DESCRIBE_URL_NAME))
            context["sentence"] = getattr(self.instance, "summary", "")
            return context


def segment_edit_handler() -> ObjectList:
    """The segment form: name and slug, description, status, how rules combine, rules, audience."""
    return ObjectList(
        [
            MultiFieldPanel(
                [
                    SegmentNamePanel("name"),
                    FieldPanel("slug", widget=SlugInput()),
                    FieldPanel("description"),
                ],
                heading=_("Segment"),
            ),
            FieldPanel("enabled"),
            FieldPanel("match", widget=forms.RadioSelect),
            FieldPanel("rules"),
            AudiencePanel(heading=_("Audience")),
        ]
    )


class DescribeRulesView(View):
    """POST the segment form's fields; get the sentence, problems and estimate as JSON.

    For editors who may add or change segments (the admin's CSRF protection applies). Data that
    holds no readable rules gets a 400 with a message, never a server error.
    """

    http_method_names = ["post"]
    #: The segment viewset's permission policy.
    permission_policy: Any = None

    def post(self, request: HttpRequest) -> JsonResponse:
        """The description of the posted rules."""
        if not self.permission_policy.user_has_any_permission(request.user, ["add", "change"]):
            message = gettext("You do not have permission to edit segments.")
            return JsonResponse({"error": message}, status=403)
        try:
            return JsonResponse(describe_rules(request.POST))
        except UnreadableRules:
            message = gettext(
                "The rules could not be read: send the segment form's fields (reload the form "
                "and try again)."
            )
            return JsonResponse({"error": message}, status=400)


def who(segment: Segment) -> str:
    """The segment's sentence for the admin's "Who" columns (the list and the chooser)."""
    describe = getattr(segment, "describe", None)
    return str(describe()) if callable(describe) else segment.summary


class _WhoColumnMixin:
    """Adds the segment's sentence ("Who") next to its name in the chooser."""

    @property
    def columns(self) -> list[Any]:
        columns: list[Any] = super().columns  # type: ignore[misc]
        return [*columns, Column("summary", label=_("Who"), accessor=who)]


class SegmentChooseView(_WhoColumnMixin, ChooseView):
    """The chooser modal, with the sentence of each segment."""


class SegmentChooseResultsView(_WhoColumnMixin, ChooseResultsView):
    """The chooser's search results, with the sentence of each segment."""


class SegmentChooserViewSet(SnippetChooserViewSet):
    """The segment chooser (variants, gated blocks): each segment's name and sentence."""

    choose_view_class = SegmentChooseView
    choose_results_view_class = SegmentChooseResultsView
