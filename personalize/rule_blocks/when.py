"""Rules on the visitor's local time: time window, weekdays, date window."""

from __future__ import annotations

from typing import Any

from wagtail import blocks

from personalize.rule_blocks import choices
from personalize.rule_blocks.base import ChoiceInRule, RuleBlock, invalid


class TimeWindowRule(RuleBlock):
    """The visitor's local time is inside a window; a window may wrap midnight."""

    start = blocks.TimeBlock(label="From")
    end = blocks.TimeBlock(label="Until (exclusive)")

    def condition(self, value: Any) -> dict[str, Any]:
        start, end = value["start"].strftime("%H:%M"), value["end"].strftime("%H:%M")
        if start < end:
            return {"time.time": {"$gte": start, "$lt": end}}
        return {"$or": [{"time.time": {"$gte": start}}, {"time.time": {"$lt": end}}]}

    def phrase(self, value: Any) -> str:
        start, end = value["start"].strftime("%H:%M"), value["end"].strftime("%H:%M")
        return f"between {start} and {end} local time"

    def clean(self, value: Any) -> Any:
        value = super().clean(value)
        if value["start"] == value["end"]:
            raise invalid("end", "The window is empty: choose an end different from the start.")
        return value

    class Meta:
        label = "Local time between"
        icon = "time"


class WeekdayRule(ChoiceInRule):
    """The visitor's local weekday is one of the chosen days."""

    path = "time.weekday"
    choice_list = choices.WEEKDAYS
    field_label = "Days"
    phrase_template = "on {values}"

    def condition(self, value: Any) -> dict[str, Any]:
        return {self.path: {"$in": [int(day) for day in value["values"]]}}

    class Meta:
        label = "Day of the week is"
        icon = "date"


class DateWindowRule(RuleBlock):
    """The visitor's local date is inside a window (either end may be open)."""

    start = blocks.DateBlock(label="From", required=False)
    end = blocks.DateBlock(label="Until (inclusive)", required=False)

    def condition(self, value: Any) -> dict[str, Any]:
        bounds: dict[str, str] = {}
        if value["start"]:
            bounds["$gte"] = value["start"].isoformat()
        if value["end"]:
            bounds["$lte"] = value["end"].isoformat()
        return {"time.date": bounds}

    def phrase(self, value: Any) -> str:
        start, end = value["start"], value["end"]
        if start and end:
            return f"between {start:%-d %b %Y} and {end:%-d %b %Y}"
        if start:
            return f"from {start:%-d %b %Y} on"
        return f"until {end:%-d %b %Y}"

    def clean(self, value: Any) -> Any:
        value = super().clean(value)
        if not value["start"] and not value["end"]:
            raise invalid("start", "Give a start date, an end date or both.")
        if value["start"] and value["end"] and value["start"] > value["end"]:
            raise invalid("end", "The end date is before the start date.")
        return value

    class Meta:
        label = "Date between"
        icon = "date"
