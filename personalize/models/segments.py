"""The Segment model: an audience that editors define and code can query."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.fields import StreamField
from wagtail.search import index

from personalize.rule_blocks import SegmentRulesBlock, sentence
from personalize.rules import ConditionError, validate_condition
from personalize.segments import SegmentRecord


class SegmentQuerySet(models.QuerySet["Segment"]):
    """Queries over segments."""

    def live(self) -> SegmentQuerySet:
        """Enabled segments in the order visitors' matches are reported."""
        return self.filter(enabled=True).order_by("name", "pk")


class Segment(index.Indexed, models.Model):
    """An audience defined by rules over the visitor's attributes.

    Editors build ``rules`` in the admin; on save they compile into ``condition`` (combined with
    ``match``) and ``summary``. Code may set ``condition`` directly and leave ``rules`` empty.
    """

    MATCH_ALL = "all"
    MATCH_ANY = "any"
    MATCH_CHOICES = [(MATCH_ALL, _("All rules")), (MATCH_ANY, _("Any rule"))]

    name = models.CharField(_("name"), max_length=255)
    slug = models.SlugField(_("slug"), max_length=255, unique=True)
    description = models.TextField(_("description"), blank=True)
    enabled = models.BooleanField(
        _("enabled"), default=True, help_text=_("Disabled segments match nobody.")
    )
    match = models.CharField(
        _("visitors must match"), max_length=3, choices=MATCH_CHOICES, default=MATCH_ALL
    )
    rules = StreamField(SegmentRulesBlock(), blank=True, verbose_name=_("rules"))
    condition = models.JSONField(
        _("condition"),
        default=dict,
        blank=True,
        help_text=_("Compiled from the rules on save; set directly by code when rules are empty."),
    )
    summary = models.TextField(_("summary"), blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SegmentQuerySet.as_manager()

    #: Editors find segments by name in the segment chooser.
    search_fields = [
        index.SearchField("name"),
        index.AutocompleteField("name"),
        index.SearchField("description"),
        index.SearchField("summary"),
    ]

    panels = [
        MultiFieldPanel(
            [FieldPanel("name"), FieldPanel("slug"), FieldPanel("description")],
            heading=_("Segment"),
        ),
        FieldPanel("enabled"),
        FieldPanel("match", widget=forms.RadioSelect),
        FieldPanel("rules"),
    ]

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("segment")
        verbose_name_plural = _("segments")

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Compile the rules, validate the condition, save.

        Raises:
            ConditionError: the condition is invalid (code that bypasses ``full_clean``).
        """
        self.compile_rules()
        validate_condition(self.condition)
        super().save(*args, **kwargs)

    def clean(self) -> None:
        """Compile the rules and reject an invalid condition with a clear message."""
        super().clean()
        try:
            self.compile_rules()
        except (ValueError, KeyError, TypeError) as exc:
            # A rule block that failed its own validation; its field error is already reported.
            message = gettext("A rule is incomplete or invalid: %(error)s") % {"error": exc}
            raise ValidationError({"rules": message}) from exc
        try:
            validate_condition(self.condition)
        except ConditionError as exc:
            message = gettext("Invalid condition: %(error)s") % {"error": exc}
            raise ValidationError({"condition": message}) from exc

    def rule_parts(self) -> list[tuple[str, dict[str, Any]]]:
        """``(phrase, condition)`` for each top-level rule, in order."""
        return [
            (child.block.phrase(child.value), child.block.condition(child.value))
            for child in self.rules
        ]

    def compile_rules(self) -> None:
        """Recompute ``condition`` and ``summary`` from ``rules`` (when there are rules).

        The stored summary is in the site's language (``LANGUAGE_CODE``), whoever saves;
        :meth:`describe` says the same in the reader's language.
        """
        with translation.override(settings.LANGUAGE_CODE):
            parts = self.rule_parts()
            if parts:
                operator = "$and" if self.match == self.MATCH_ALL else "$or"
                self.condition = {operator: [cond for _phrase, cond in parts]}
            self.summary = self._sentence(parts)

    def _sentence(self, parts: list[tuple[str, dict[str, Any]]]) -> str:
        if parts:
            return sentence([phrase for phrase, _cond in parts], self.match)
        if self.condition:
            return gettext("Visitors matching a condition set in code")
        return sentence([], self.match)

    def describe(self) -> str:
        """Who is in the segment, as a sentence in the active language (the admin's "Who").

        Falls back to the stored ``summary`` when a rule cannot be read.
        """
        try:
            return self._sentence(self.rule_parts())
        except (ValueError, KeyError, TypeError):
            return self.summary

    def to_record(self) -> SegmentRecord:
        """The plain record the segment engine compiles.

        The rules' phrases (shown in explanations) are in the site's language
        (``LANGUAGE_CODE``): the compiled set is shared by every request of the process.
        """
        with translation.override(settings.LANGUAGE_CODE):
            parts = self.rule_parts()
            rules = tuple(parts) if parts else ((gettext("Custom condition"), self.condition),)
        return SegmentRecord(
            id=self.pk,
            slug=self.slug,
            name=self.name,
            condition=self.condition,
            rules=rules,
            match=self.match if parts else self.MATCH_ALL,
            obj=self,
        )
