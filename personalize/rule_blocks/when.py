"""Rules on the visitor's local time: time window, weekdays, date window."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.utils.dateformat import format as format_date
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _
from wagtail import blocks

from personalize.rule_blocks import choices
from personalize.rule_blocks.base import ChoiceInRule, RuleBlock, invalid


def _day(day: date | None) -> str:
    """A date in the rule phrases: "1 Dec 2025" (in the active language's words)."""
    if not day:
        return ""
    # Translators: how the rule phrases write a date, in Django's date format syntax
    # (https://docs.djangoproject.com/en/stable/ref/templates/builtins/#date): "1 Dec 2025".
    return format_date(day, pgettext("rule phrase date format", "j M Y"))


class TimeWindowRule(RuleBlock):
    """The visitor's local time is inside a window; a window may wrap midnight."""

    start = blocks.TimeBlock(label=_("From"))
    end = blocks.TimeBlock(label=_("Until (exclusive)"))

    def condition(self, value: Any) -> dict[str, Any]:
        start, end = value["start"].strftime("%H:%M"), value["end"].strftime("%H:%M")
        if start < end:
            return {"time.time": {"$gte": start, "$lt": end}}
        return {"$or": [{"time.time": {"$gte": start}}, {"time.time": {"$lt": end}}]}

    def phrase(self, value: Any) -> str:
        start, end = value["start"].strftime("%H:%M"), value["end"].strftime("%H:%M")
        # Translators: a rule phrase after "Visitors", e.g. "between 18:00 and 22:00 local time".
        return gettext("between %(start)s and %(end)s local time") % {"start": start, "end": end}

    def clean(self, value: Any) -> Any:
        value = super().clean(value)
        if value["start"] == value["end"]:
            raise invalid(
                "end", gettext("The window is empty: choose an end different from the start.")
            )
        return value

    class Meta:
        label = _("Local time between")
        icon = "time"


class WeekdayRule(ChoiceInRule):
    """The visitor's local weekday is one of the chosen days."""

    path = "time.weekday"
    choice_list = choices.WEEKDAYS
    field_label = _("Days")
    # Translators: a rule phrase after "Visitors", e.g. "on Saturday or Sunday".
    phrase_template = _("on %(values)s")

    def condition(self, value: Any) -> dict[str, Any]:
        return {self.path: {"$in": [int(day) for day in value["values"]]}}

    class Meta:
        label = _("Day of the week is")
        icon = "date"


class DateWindowRule(RuleBlock):
    """The visitor's local date is inside a window (either end may be open)."""

    start = blocks.DateBlock(label=_("From"), required=False)
    end = blocks.DateBlock(label=_("Until (inclusive)"), required=False)

    def condition(self, value: Any) -> dict[str, Any]:
        bounds: dict[str, str] = {}
        if value["start"]:
            bounds["$gte"] = value["start"].isoformat()
        if value["end"]:
            bounds["$lte"] = value["end"].isoformat()
        return {"time.date": bounds}

    def phrase(self, value: Any) -> str:
        start, end = _day(value["start"]), _day(value["end"])
        if start and end:
            # Translators: a rule phrase after "Visitors", e.g. "between 1 Dec 2025 and 6 Jan 2026".
            return gettext("between %(start)s and %(end)s") % {"start": start, "end": end}
        if start:
            # Translators: a rule phrase after "Visitors", e.g. "from 1 Dec 2025 on".
            return gettext("from %(start)s on") % {"start": start}
        # Translators: a rule phrase after "Visitors", e.g. "until 6 Jan 2026".
        return gettext("until %(end)s") % {"end": end}

    def clean(self, value: Any) -> Any:
        value = super().clean(value)
        if not value["start"] and not value["end"]:
            raise invalid("start", gettext("Give a start date, an end date or both."))
        if value["start"] and value["end"] and value["start"] > value["end"]:
            raise invalid("end", gettext("The end date is before the start date."))
        return value

    class Meta:
        label = _("Date between")
        icon = "date"
