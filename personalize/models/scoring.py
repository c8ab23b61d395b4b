"""Scoring rules: editors say which interactions are worth how many points."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import translation
from django.utils.translation import gettext, ngettext, pgettext
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel
from wagtail.fields import StreamField

from personalize.rule_blocks import SegmentRulesBlock, sentence
from personalize.rule_blocks.choices import quoted
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
        # The stored summary is in the site's language, whoever saves.
        with translation.override(settings.LANGUAGE_CODE):
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
                message = gettext("A rule is incomplete or invalid: %(error)s") % {"error": exc}
                raise ValidationError({"rules": message}) from exc

    def compile_rules(self) -> None:
        """Recompute ``condition`` from ``rules`` (all rules must hold)."""
        parts = [child.block.condition(child.value) for child in self.rules]
        self.condition = {"$and": parts} if parts else {}

    def _what(self) -> str:
        """What earns the points: "viewing a page tagged “ski”" (in the active language)."""
        if self.trigger == self.PAGE:
            if self.page_id and self.page:
                return gettext("viewing %(page)s") % {"page": quoted(str(self.page.title))}
            return gettext("a page")
        if self.trigger == self.PAGE_TYPE:
            page_type = dict(page_type_choices()).get(self.page_type, "?")
            # Translators: %(page_type)s is a page type such as "Blog page".
            return gettext("viewing a %(page_type)s") % {"page_type": page_type}
        if self.trigger == self.TAG:
            return gettext("viewing a page tagged %(tag)s") % {"tag": quoted(self.value)}
        if self.trigger == self.FORM:
            if self.value:
                return gettext("submitting the form %(form)s") % {"form": quoted(self.value)}
            return gettext("submitting a form")
        if self.trigger == self.DOWNLOAD:
            return gettext("downloading a document")
        if self.trigger == self.EVENT:
            return gettext("the event %(event)s") % {"event": quoted(self.value)}
        if self.trigger == self.ATTRIBUTE:
            phrases = [child.block.phrase(child.value) for child in self.rules]
            # Translators: the start of "+20 points for visitors who are logged in".
            return sentence(phrases, "all", subject=pgettext("scoring rule", "visitors"))
        raise KeyError(self.trigger)

    def describe(self) -> str:
        """A plain-language sentence: ``"+10 points for viewing a page tagged “ski”"``."""
        caps = []
        if self.cap_per_visit is not None:
            caps.append(gettext("at most %(count)s per visit") % {"count": self.cap_per_visit})
        if self.cap_per_visitor is not None:
            caps.append(gettext("at most %(count)s in total") % {"count": self.cap_per_visitor})
        # Translators: e.g. "+10 points for viewing a page tagged “ski”".
        text = ngettext(
            "%(points)s point for %(what)s", "%(points)s points for %(what)s", abs(self.points)
        ) % {"points": f"{self.points:+d}", "what": self._what()}
        if caps:
            # Translators: a scoring rule's sentence and its limits: "+5 points for viewing a
            # Content page (at most 15 per visit)".
            text = pgettext("scoring rule with limits", "%(text)s (%(limits)s)") % {
                "text": text,
                "limits": pgettext("list separator", ", ").join(caps),
            }
        return text

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
