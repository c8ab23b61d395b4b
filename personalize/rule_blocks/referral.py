"""Rules on how the visitor arrived: channel, UTM parameters, referrer, query."""

from __future__ import annotations

import re
from typing import Any

from wagtail import blocks

from personalize.rule_blocks import choices
from personalize.rule_blocks.base import ChoiceInRule, RuleBlock, invalid, split_values
from personalize.rule_blocks.choices import join_or, label

_QUERY_NAME = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")


class ChannelRule(ChoiceInRule):
    """The visit's channel (GA4 default channel grouping) is one of the chosen ones."""

    path = "referral.channel"
    choice_list = choices.CHANNELS
    field_label = "Channels"

    def phrase(self, value: Any) -> str:
        names = [label(choices.CHANNELS, v).lower() for v in value["values"]]
        return "arriving from " + join_or(names)

    class Meta:
        label = "Arrived through channel"
        icon = "link"


class UtmRule(RuleBlock):
    """A UTM parameter of the visit is (or contains) one of the given values."""

    parameter = blocks.ChoiceBlock(
        choices=[
            ("source", "utm_source"),
            ("medium", "utm_medium"),
            ("campaign", "utm_campaign"),
            ("term", "utm_term"),
            ("content", "utm_content"),
        ],
        default="campaign",
    )
    operator = blocks.ChoiceBlock(
        choices=[("is", "is one of"), ("contains", "contains one of")], default="is"
    )
    values = blocks.CharBlock(help_text="Comma separated; compared without regard to case")

    def condition(self, value: Any) -> dict[str, Any]:
        path = f"referral.{value['parameter']}"
        items = split_values(value["values"])
        if value["operator"] == "contains":
            return {path: {"$regexi": "|".join(re.escape(item) for item in items)}}
        return {path: {"$ini": items}}

    def phrase(self, value: Any) -> str:
        verb = "containing" if value["operator"] == "contains" else ""
        items = join_or([f"“{item}”" for item in split_values(value["values"])])
        return " ".join(filter(None, ["with UTM", value["parameter"], verb, items]))

    def clean(self, value: Any) -> Any:
        value = super().clean(value)
        if not split_values(value["values"]):
            raise invalid("values", "Enter at least one value.")
        return value

    class Meta:
        label = "UTM parameter"
        icon = "tag"


class ReferrerHostRule(RuleBlock):
    """The referring site's host contains the given text."""

    text = blocks.CharBlock(label="Host contains", help_text="e.g. news.ycombinator.com or partner")

    def condition(self, value: Any) -> dict[str, Any]:
        return {"referral.host": {"$regexi": re.escape(value["text"].strip())}}

    def phrase(self, value: Any) -> str:
        return f"referred by a site matching “{value['text'].strip()}”"

    class Meta:
        label = "Referrer host contains"
        icon = "link-external"


class QueryParameterRule(RuleBlock):
    """A query parameter of the current request equals a value."""

    name = blocks.CharBlock(label="Parameter", help_text="e.g. ref")
    value = blocks.CharBlock(label="Equals", help_text="e.g. partner")

    def condition(self, value: Any) -> dict[str, Any]:
        return {f"query.{value['name']}": value["value"]}

    def phrase(self, value: Any) -> str:
        return f"with ?{value['name']}={value['value']} in the address"

    def clean(self, value: Any) -> Any:
        value = super().clean(value)
        if not _QUERY_NAME.match(value["name"]):
            raise invalid("name", "Use letters, digits, '-' and '_' only (at most 64).")
        return value

    class Meta:
        label = "Query parameter equals"
        icon = "search"
