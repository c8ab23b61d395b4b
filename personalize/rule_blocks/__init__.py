"""The editors' rule builder: StreamField blocks that compile to condition JSON.

Every rule block knows two things about its value: the condition it stands for
(:meth:`RuleBlock.condition`) and a plain-language phrase (:meth:`RuleBlock.phrase`) that reads
well after "Visitors …", e.g. "from Germany, Austria or Switzerland". A segment's sentence is
built from these phrases; its condition from these conditions.
"""

from __future__ import annotations

from typing import Any

from wagtail import blocks

from personalize.rule_blocks.advanced import AdvancedConditionRule
from personalize.rule_blocks.base import RuleBlock
from personalize.rule_blocks.device import BrowserRule, DeviceTypeRule, OperatingSystemRule
from personalize.rule_blocks.referral import (
    ChannelRule,
    QueryParameterRule,
    ReferrerHostRule,
    UtmRule,
)
from personalize.rule_blocks.user import GroupRule, LoggedInRule, ProfileFieldRule
from personalize.rule_blocks.visitor import (
    ConsentRule,
    DaysSinceFirstVisitRule,
    GpcRule,
    InterestRule,
    JourneyStageRule,
    PreferenceRule,
    ReturningRule,
    ScoreRule,
    VisitsRule,
)
from personalize.rule_blocks.when import DateWindowRule, TimeWindowRule, WeekdayRule
from personalize.rule_blocks.where import CityRule, ContinentRule, CountryRule, RegionRule


def leaf_rule_blocks() -> list[tuple[str, RuleBlock]]:
    """Every rule block except the nested group, in the order editors see them.

    The block chooser shows the blocks without a ``Meta.group`` first, then each group (such as
    "Visitor") under its heading, in the order the groups first appear here.
    """
    return [
        ("country", CountryRule()),
        ("region", RegionRule()),
        ("city", CityRule()),
        ("continent", ContinentRule()),
        ("time_window", TimeWindowRule()),
        ("weekdays", WeekdayRule()),
        ("date_window", DateWindowRule()),
        ("device_type", DeviceTypeRule()),
        ("operating_system", OperatingSystemRule()),
        ("browser", BrowserRule()),
        ("channel", ChannelRule()),
        ("utm", UtmRule()),
        ("referrer_host", ReferrerHostRule()),
        ("query_parameter", QueryParameterRule()),
        ("logged_in", LoggedInRule()),
        ("group", GroupRule()),
        ("profile_field", ProfileFieldRule()),
        ("visits", VisitsRule()),
        ("returning", ReturningRule()),
        ("days_since_first_visit", DaysSinceFirstVisitRule()),
        ("score", ScoreRule()),
        ("journey_stage", JourneyStageRule()),
        ("interest", InterestRule()),
        ("preference", PreferenceRule()),
        ("consent", ConsentRule()),
        ("gpc", GpcRule()),
        ("advanced", AdvancedConditionRule()),
    ]


_GROUP_MATCH = {"all": ("$and", " and "), "any": ("$or", ", or "), "none": ("$nor", ", nor ")}


class RuleGroup(RuleBlock):
    """A nested group of rules combined with all / any / none."""

    match = blocks.ChoiceBlock(
        choices=[("all", "All of"), ("any", "Any of"), ("none", "None of")], default="any"
    )
    rules = blocks.StreamBlock(leaf_rule_blocks(), min_num=1)

    def condition(self, value: Any) -> dict[str, Any]:
        operator = _GROUP_MATCH[value["match"]][0]
        return {operator: [child.block.condition(child.value) for child in value["rules"]]}

    def phrase(self, value: Any) -> str:
        phrases = [child.block.phrase(child.value) for child in value["rules"]]
        if value["match"] == "none":
            return "(not " + ", nor ".join(phrases) + ")"
        return "(" + _GROUP_MATCH[value["match"]][1].join(phrases) + ")"

    class Meta:
        label = "Group of rules"
        icon = "list-ul"


class SegmentRulesBlock(blocks.StreamBlock):
    """The top-level rule list of a segment."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__([*leaf_rule_blocks(), ("rule_group", RuleGroup())], **kwargs)


def sentence(phrases: list[str], match: str) -> str:
    """The segment sentence: "Visitors from Germany on a mobile phone"."""
    if not phrases:
        return "All visitors"
    if match != "all":
        return "Visitors " + ", or ".join(phrases)
    text = "Visitors " + phrases[0]
    for previous, phrase in zip(phrases, phrases[1:], strict=False):
        # Two relative clauses in a row read as a list: "who are logged in and who are in …".
        clause = previous.startswith(("who ", "whose ")) and phrase.startswith(("who ", "whose "))
        text += (" and " if clause else " ") + phrase
    return text


__all__ = [
    "AdvancedConditionRule",
    "BrowserRule",
    "ChannelRule",
    "CityRule",
    "ConsentRule",
    "ContinentRule",
    "CountryRule",
    "DateWindowRule",
    "DaysSinceFirstVisitRule",
    "DeviceTypeRule",
    "GpcRule",
    "GroupRule",
    "InterestRule",
    "JourneyStageRule",
    "LoggedInRule",
    "OperatingSystemRule",
    "PreferenceRule",
    "ProfileFieldRule",
    "QueryParameterRule",
    "ReferrerHostRule",
    "RegionRule",
    "ReturningRule",
    "RuleBlock",
    "RuleGroup",
    "ScoreRule",
    "SegmentRulesBlock",
    "TimeWindowRule",
    "UtmRule",
    "VisitsRule",
    "WeekdayRule",
    "leaf_rule_blocks",
    "sentence",
]
