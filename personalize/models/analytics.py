"""Analytics models: goals, funnels, experiments, and the daily counts flushed from the cache."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel
from wagtail.fields import StreamField
from wagtail.snippets.blocks import SnippetChooserBlock


class Goal(models.Model):
    """Something editors want visitors to do: visit a page, submit a form, an event, register."""

    PAGE = "page"
    FORM = "form"
    EVENT = "event"
    REGISTRATION = "registration"
    KIND_CHOICES = [
        (PAGE, _("Visits a page")),
        (FORM, _("Submits a form")),
        (EVENT, _("Custom event")),
        (REGISTRATION, _("Registers (unlocks gated content)")),
    ]

    name = models.CharField(_("name"), max_length=255)
    enabled = models.BooleanField(_("enabled"), default=True)
    kind = models.CharField(_("the visitor"), max_length=20, choices=KIND_CHOICES)
    page = models.ForeignKey(
        "wagtailcore.Page",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("page"),
        help_text=_("For “Visits a page”, and for “Submits a form”: the form page (empty: any)."),
    )
    event = models.CharField(
        _("event name"), max_length=64, blank=True, help_text=_("For “Custom event”.")
    )

    panels = [
        FieldPanel("name"),
        FieldPanel("enabled"),
        MultiFieldPanel(
            [FieldPanel("kind"), FieldPanel("page"), FieldPanel("event")], heading=_("Goal")
        ),
    ]

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("goal")
        verbose_name_plural = _("goals")

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Strip the event name, then save."""
        self.event = self.event.strip()
        super().save(*args, **kwargs)

    def clean(self) -> None:
        """Require the page of a page goal and the name of an event goal."""
        super().clean()
        if self.kind == self.PAGE and not self.page_id:
            raise ValidationError({"page": _("Choose the page.")})
        if self.kind == self.EVENT and not self.event.strip():
            raise ValidationError({"event": _("Enter the event name.")})


class Funnel(models.Model):
    """An ordered list of goals; the report shows how many visitors reach each step."""

    name = models.CharField(_("name"), max_length=255)
    steps = StreamField(
        [("goal", SnippetChooserBlock("personalize.Goal", label=_("Goal")))],
        min_num=2,
        verbose_name=_("steps"),
        help_text=_("The goals in the order visitors reach them."),
    )

    panels = [FieldPanel("name"), FieldPanel("steps")]

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("funnel")
        verbose_name_plural = _("funnels")

    def __str__(self) -> str:
        return self.name

    def goal_ids(self) -> list[int]:
        """The steps' goal ids, in order."""
        return [child.value.pk for child in self.steps if child.value is not None]


class Experiment(models.Model):
    """An A/B/n test inside one variant of a personalized block.

    The alternatives live in the page's content (the variant's own content is the control); this
    row holds what editors decide: whether it runs, automatic optimization, the winner.
    """

    DRAFT = "draft"
    RUNNING = "running"
    PAUSED = "paused"
    ENDED = "ended"
    STATUS_CHOICES = [
        (DRAFT, _("Not started")),
        (RUNNING, _("Running")),
        (PAUSED, _("Paused")),
        (ENDED, _("Ended")),
    ]

    key = models.CharField(_("key"), max_length=32, unique=True, editable=False)
    page = models.ForeignKey(
        "wagtailcore.Page",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("page"),
        editable=False,
    )
    block_key = models.CharField(max_length=32, blank=True, editable=False)
    name = models.CharField(_("name"), max_length=255)
    arms = models.JSONField(
        _("alternatives"),
        default=list,
        editable=False,
        help_text=_("Labels and weights as last published: [{label, weight}], control first."),
    )
    holdout = models.PositiveSmallIntegerField(default=0, editable=False)
    status = models.CharField(_("status"), max_length=10, choices=STATUS_CHOICES, default=DRAFT)
    goal = models.ForeignKey(
        Goal,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("primary goal"),
        help_text=_("The conversion the statistics and automatic optimization use."),
    )
    auto_optimize = models.BooleanField(
        _("optimize automatically"),
        default=False,
        help_text=_(
            "Send more visitors to the alternatives that convert best (Thompson sampling), "
            "keeping a minimum share for each."
        ),
    )
    exploration_floor = models.FloatField(
        _("minimum share per alternative"),
        default=0.05,
        help_text=_("While optimizing automatically, every alternative keeps at least this share."),
    )
    winner = models.PositiveSmallIntegerField(
        _("winner"),
        null=True,
        blank=True,
        help_text=_("Once ended: the alternative everyone sees (0 is the variant's own content)."),
    )
    started_at = models.DateTimeField(_("started"), null=True, blank=True, editable=False)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    panels = [
        FieldPanel("name"),
        MultiFieldPanel(
            [
                FieldPanel("status"),
                FieldPanel("goal"),
                FieldRowPanel([FieldPanel("auto_optimize"), FieldPanel("exploration_floor")]),
                FieldPanel("winner"),
            ],
            heading=_("Experiment"),
        ),
    ]

    class Meta:
        ordering = ["-created_at", "pk"]
        verbose_name = _("experiment")
        verbose_name_plural = _("experiments")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """A winner must be one of the alternatives; the floor a sensible share."""
        super().clean()
        if self.winner is not None and self.winner >= max(len(self.arms), 1):
            raise ValidationError(
                {"winner": _("Choose 0 to %(last)d.") % {"last": max(len(self.arms) - 1, 0)}}
            )
        if not 0 <= self.exploration_floor <= 0.5:
            raise ValidationError({"exploration_floor": _("Use a share from 0 to 0.5.")})


class DailyCount(models.Model):
    """One counter for one day, flushed from the shared cache (see personalize.analytics)."""

    date = models.DateField(db_index=True)
    #: The counter's field as counted: ``"imp|12|<block>|<variant>|0|3"``.
    field = models.CharField(max_length=255)
    metric = models.CharField(max_length=10, db_index=True)
    page_id = models.IntegerField(null=True)
    block_key = models.CharField(max_length=32, blank=True)
    variant = models.CharField(max_length=32, blank=True)
    alternative = models.CharField(max_length=4, blank=True)
    segment_id = models.IntegerField(null=True)
    goal_id = models.IntegerField(null=True)
    funnel_id = models.IntegerField(null=True)
    step = models.IntegerField(null=True)
    count = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["date", "field"], name="personalize_dailycount_unique")
        ]
        indexes = [models.Index(fields=["metric", "date"])]

    def __str__(self) -> str:
        return f"{self.date} {self.field} = {self.count}"


class FlushBatch(models.Model):
    """A batch of counters moved into DailyCount: flushing a batch twice is a no-op."""

    batch_id = models.CharField(max_length=64, unique=True)
    flushed_at = models.DateTimeField(auto_now_add=True)
    fields = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return self.batch_id


class StoreEpoch(models.Model):
    """The counter store's epoch as the last flush saw it.

    The store writes a random epoch with its first counter; a store that lost its data
    (restarted without persistence, keys evicted) has none or a new one, which the next flush
    detects and reports instead of flushing nothing in silence.
    """

    #: Which store: one row per store name.
    name = models.CharField(max_length=32, unique=True)
    epoch = models.CharField(max_length=64)
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name}: {self.epoch}"
