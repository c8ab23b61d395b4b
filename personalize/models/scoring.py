"""Scoring rules: editors say which interactions are worth how many points."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel
from wagtail.fields import StreamField

from personalize.rule_blocks import SegmentRulesBlock, sentence
from personalize.rules import ConditionError, compile_condition, scoring, validate_condition


class TriggerSelect(forms.Select):
    """The trigger choice; its script shows only the fields the chosen trigger uses."""

    def __init__(self, attrs: dict[str, Any] | None = None, choices: Any = ()) -> None:
        super().__init__({"data-personalize-trigger": "", **(attrs or {})}, choices)

    class Media:
        js = ["personalize/scoring_rule_form.js"]


def page_type_choices() -> list[tuple[str, str]]:
    """Every page type of the site, as ``("app_label.model", "Verbose name")``."""
    from wagtail.models import get_page_models

    return sorted(
        ((m._meta.label_lower, str(m._meta.verbose_name).capitalize()) for m in get_page_models()),
        key=lambda choice: choice[1],
    )


class ScoringRule(models.Model):
    """Points a visitor earns (or loses) for an interaction, within optional caps."""

    PAGE = "page"
    PAGE_TYPE = "page_type"
    TAG = "tag"
    FORM = "form"
    DOWNLOAD = "download"
    EVENT = "event"
    ATTRIBUTE = "attribute"
    TRIGGER_CHOICES = [
        (PAGE, _("Views a page")),
        (PAGE_TYPE, _("Views a page of a type")),
        (TAG, _("Views a page tagged")),
        (FORM, _("Submits a form")),
        (DOWNLOAD, _("Downloads a document")),
        (EVENT, _("Custom event")),
        (ATTRIBUTE, _("Matches rules (once per visitor)")),
    ]

    name = models.CharField(_("name"), max_length=255)
    enabled = models.BooleanField(_("enabled"), default=True)
    trigger = models.CharField(_("when the visitor"), max_length=20, choices=TRIGGER_CHOICES)
    page = models.ForeignKey(
        "wagtailcore.Page",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("page"),
        help_text=_("For “Views a page”."),
    )
    page_type = models.CharField(
        _("page type"),
        max_length=255,
        blank=True,
        choices=page_type_choices,
        help_text=_("For “Views a page of a type”."),
    )
    value = models.CharField(
        _("tag, form, document or event"),
        max_length=100,
        blank=True,
        help_text=_(
            "The tag (“Views a page tagged”), the event name (“Custom event”), the form page id "
            "or form name (“Submits a form”; empty: any form) or the document id (“Downloads a "
            "document”; empty: any document)."
        ),
    )
    rules = StreamField(
        SegmentRulesBlock(),
        blank=True,
        verbose_name=_("rules"),
        help_text=_("For “Matches rules”: the visitors who earn the points, once."),
    )
    condition = models.JSONField(_("condition"), default=dict, blank=True, editable=False)
    points = models.IntegerField(
        _("points"), default=10, help_text=_("Negative points lower the score.")
    )
    cap_per_visit = models.PositiveIntegerField(
        _("at most per visit"),
        null=True,
        blank=True,
        help_text=_("Points this rule can give in one visit. Empty: no limit."),
    )
    cap_per_visitor = models.PositiveIntegerField(
        _("at most per visitor"),
        null=True,
        blank=True,
        help_text=_("Points this rule can give a visitor in total. Empty: no limit."),
    )
    summary = models.TextField(_("summary"), blank=True, editable=False)

    panels = [
        MultiFieldPanel([FieldPanel("name"), FieldPanel("enabled")], heading=_("Scoring rule")),
        MultiFieldPanel(
            [
                FieldPanel("trigger", widget=TriggerSelect),
                FieldPanel("page"),
                FieldPanel("page_type"),
                FieldPanel("value"),
                FieldPanel("rules"),
            ],
            heading=_("Trigger"),
        ),
        MultiFieldPanel(
            [
                FieldPanel("points"),
                FieldRowPanel([FieldPanel("cap_per_visit"), FieldPanel("cap_per_visitor")]),
            ],
            heading=_("Points"),
        ),
    ]

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("scoring rule")
        verbose_name_plural = _("scoring rules")

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Compile the rules and the summary, then save."""
        self.value = self.value.strip()
        self.compile_rules()
        self.summary = self.describe()
        super().save(*args, **kwargs)

    def clean(self) -> None:
        """Require what the trigger needs and compile the rules."""
        super().clean()
        needs = {
            self.PAGE: ("page", self.page_id, _("Choose the page.")),
            self.PAGE_TYPE: ("page_type", self.page_type, _("Choose the page type.")),
            self.TAG: ("value", self.value.strip(), _("Enter the tag.")),
            self.EVENT: ("value", self.value.strip(), _("Enter the event name.")),
        }
        if self.trigger in needs:
            field, present, message = needs[self.trigger]
            if not present:
                raise ValidationError({field: message})
        if self.trigger == self.ATTRIBUTE:
            if not list(self.rules):
                raise ValidationError({"rules": _("Add the rules visitors must match.")})
            try:
                self.compile_rules()
                validate_condition(self.condition)
            except (ValueError, KeyError, TypeError, ConditionError) as exc:
                raise ValidationError({"rules": f"A rule is incomplete or invalid: {exc}"}) from exc

    def compile_rules(self) -> None:
        """Recompute ``condition`` from ``rules`` (all rules must hold)."""
        parts = [child.block.condition(child.value) for child in self.rules]
        self.condition = {"$and": parts} if parts else {}

    def describe(self) -> str:
        """A plain-language sentence: ``"+10 points for viewing a page tagged 'ski'"``."""
        what = {
            self.PAGE: f"viewing “{self.page.title}”" if self.page_id and self.page else "a page",
            self.PAGE_TYPE: f"viewing a {dict(page_type_choices()).get(self.page_type, '?')}",
            self.TAG: f"viewing a page tagged “{self.value}”",
            self.FORM: f"submitting the form “{self.value}”" if self.value else "submitting a form",
            self.DOWNLOAD: "downloading a document",
            self.EVENT: f"the event “{self.value}”",
            self.ATTRIBUTE: "visitors "
            + sentence(
                [child.block.phrase(child.value) for child in self.rules], "all"
            ).removeprefix("Visitors "),
        }[self.trigger]
        caps = []
        if self.cap_per_visit is not None:
            caps.append(f"at most {self.cap_per_visit} per visit")
        if self.cap_per_visitor is not None:
            caps.append(f"at most {self.cap_per_visitor} in total")
        tail = f" ({', '.join(caps)})" if caps else ""
        return f"{self.points:+d} points for {what}{tail}"

    def target(self) -> str:
        """The trigger's target as the scoring core compares it."""
        if self.trigger == self.PAGE:
            return str(self.page_id or "")
        if self.trigger == self.PAGE_TYPE:
            return self.page_type
        return self.value

    def to_record(self) -> scoring.ScoringRule:
        """The plain rule the scoring core applies."""
        predicate = None
        if self.trigger == self.ATTRIBUTE and self.condition:
            predicate = compile_condition(self.condition)
        return scoring.ScoringRule(
            key=f"rule:{self.pk}",
            trigger=self.trigger,
            target=self.target(),
            points=float(self.points),
            cap_per_visit=None if self.cap_per_visit is None else float(self.cap_per_visit),
            cap_per_visitor=None if self.cap_per_visitor is None else float(self.cap_per_visitor),
            condition=predicate,
        )
