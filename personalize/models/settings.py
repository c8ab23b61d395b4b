"""Site-wide personalization settings editors change in the admin (Settings → Personalization)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.admin.panels import FieldPanel, MultiFieldPanel, ObjectList, TabbedInterface
from wagtail.contrib.settings.models import BaseGenericSetting
from wagtail.fields import StreamField

from personalize.rules.scoring import DEFAULT_HALF_LIFE_DAYS, DEFAULT_STAGES, Stage


class StageBlock(blocks.StructBlock):
    """One journey stage: a name and the score from which a visitor is in it."""

    name = blocks.RegexBlock(
        regex=r"^[a-z0-9][a-z0-9_-]*$",
        max_length=50,
        help_text=_("Lower-case letters, digits, - and _ (used in segment rules)."),
        error_messages={"invalid": _("Use lower-case letters, digits, - and _ only.")},
    )
    threshold = blocks.FloatBlock(min_value=0, help_text=_("Score from which this stage starts."))

    class Meta:
        icon = "resubmit"
        # Translators: how a journey stage is listed in the settings: "interest from 20".
        label_format = _("{name} from {threshold}")


def default_stages() -> list[tuple[str, dict[str, Any]]]:
    """The default journey stages as StreamField data."""
    return [("stage", {"name": s.name, "threshold": s.threshold}) for s in DEFAULT_STAGES]


#: Default texts of the consent banner (editors change them in the admin). They are stored in
#: English; a text still at its default is shown translated (:func:`banner_texts`).
BANNER_DEFAULTS = {
    "banner_title": gettext_noop("Your choice about personal content"),
    "banner_text": gettext_noop(
        "With your permission we remember which pages you read, so we can show you what fits "
        "your interests, and count which content works. Nothing is stored until you agree; "
        "you can change your mind at any time on our privacy page."
    ),
    "accept_label": gettext_noop("Allow all"),
    "reject_label": gettext_noop("Only necessary"),
    "save_label": gettext_noop("Save my choice"),
    "personalization_label": gettext_noop("Personalization: remember my visits and interests"),
    "analytics_label": gettext_noop("Analytics: count what I see and do, to improve the content"),
    "privacy_link_text": gettext_noop("What we know about you"),
}


def banner_texts(stored: dict[str, str]) -> dict[str, str]:
    """The consent banner's texts for the visitor, in the active language.

    Args:
        stored: the texts as saved in the settings (missing ones take their default).

    Returns:
        Every text of :data:`BANNER_DEFAULTS`; a text an editor changed stays as written, a text
        still at its English default is translated.
    """
    texts = {**BANNER_DEFAULTS, **stored}
    return {
        key: gettext(text) if text == BANNER_DEFAULTS.get(key) else text
        for key, text in texts.items()
    }


class PersonalizationSettings(BaseGenericSetting):
    """Journey stages, score decay and the consent banner's texts."""

    half_life_days = models.FloatField(
        _("score half-life (days)"),
        default=DEFAULT_HALF_LIFE_DAYS,
        validators=[MinValueValidator(0.1)],
        help_text=_("After this many days without activity a score counts half as much."),
    )
    stages = StreamField(
        [("stage", StageBlock())],
        default=default_stages,
        blank=True,
        verbose_name=_("journey stages"),
        help_text=_(
            "A visitor is in the stage with the highest threshold their score reaches. "
            "Empty: awareness 0, interest 20, consideration 50, intent 80."
        ),
    )
    banner_title = models.CharField(
        _("banner title"), max_length=200, default=BANNER_DEFAULTS["banner_title"]
    )
    banner_text = models.TextField(_("banner text"), default=BANNER_DEFAULTS["banner_text"])
    accept_label = models.CharField(
        _("accept button"), max_length=100, default=BANNER_DEFAULTS["accept_label"]
    )
    reject_label = models.CharField(
        _("reject button"), max_length=100, default=BANNER_DEFAULTS["reject_label"]
    )
    save_label = models.CharField(
        _("save choices button"), max_length=100, default=BANNER_DEFAULTS["save_label"]
    )
    personalization_label = models.CharField(
        _("personalization purpose"),
        max_length=200,
        default=BANNER_DEFAULTS["personalization_label"],
    )
    analytics_label = models.CharField(
        _("analytics purpose"), max_length=200, default=BANNER_DEFAULTS["analytics_label"]
    )
    privacy_link_text = models.CharField(
        _("privacy page link"), max_length=100, default=BANNER_DEFAULTS["privacy_link_text"]
    )

    edit_handler = TabbedInterface(
        [
            ObjectList(
                [FieldPanel("stages"), FieldPanel("half_life_days")],
                heading=_("Journey stages"),
            ),
            ObjectList(
                [
                    MultiFieldPanel(
                        [FieldPanel("banner_title"), FieldPanel("banner_text")],
                        heading=_("Text"),
                    ),
                    MultiFieldPanel(
                        [
                            FieldPanel("personalization_label"),
                            FieldPanel("analytics_label"),
                            FieldPanel("accept_label"),
                            FieldPanel("reject_label"),
                            FieldPanel("save_label"),
                            FieldPanel("privacy_link_text"),
                        ],
                        heading=_("Labels"),
                    ),
                ],
                heading=_("Consent banner"),
            ),
        ]
    )

    class Meta:
        verbose_name = _("personalization")

    def clean(self) -> None:
        """Stage names must be unique."""
        super().clean()
        names = [child.value["name"] for child in self.stages]
        if len(names) != len(set(names)):
            raise ValidationError({"stages": _("Each stage needs its own name.")})

    def stage_list(self) -> tuple[Stage, ...]:
        """The stages in threshold order (the defaults when none are set)."""
        stages = [Stage(c.value["name"], float(c.value["threshold"])) for c in self.stages]
        return tuple(sorted(stages, key=lambda s: s.threshold)) or DEFAULT_STAGES

    def banner(self) -> dict[str, str]:
        """The consent banner's texts."""
        return {key: getattr(self, key) for key in BANNER_DEFAULTS}
