"""The editors' rule builder: StreamField blocks that compile to condition JSON.

Every rule block knows two things about its value: the condition it stands for
(:meth:`RuleBlock.condition`) and a plain-language phrase (:meth:`RuleBlock.phrase`) that reads
well after "Visitors …", e.g. "from Germany, Austria or Switzerland". A segment's sentence is
built from these phrases; its condition from these conditions.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _
from wagtail import blocks

from personalize.rule_blocks.advanced import AdvancedConditionRule
from personalize.rule_blocks.base import Clause, RuleBlock
from personalize.rule_blocks.consent import ConsentRule, GpcRule
from personalize.rule_blocks.device import BrowserRule, DeviceTypeRule, OperatingSystemRule
from personalize.rule_blocks.interests import InterestRule, PreferenceRule
from personalize.rule_blocks.referral import (
    ChannelRule,
    QueryParameterRule,
    ReferrerHostRule,
    UtmRule,
)
from personalize.rule_blocks.user import GroupRule, LoggedInRule, ProfileFieldRule
from personalize.rule_blocks.visitor import (
    DaysSinceFirstVisitRule,
    JourneyStageRule,
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


_GROUP_OPERATORS = {"all": "$and", "any": "$or", "none": "$nor"}


def _group_phrase(phrases: list[str], match: str) -> str:
    """ "(from Germany and on a mobile phone)": the phrase of a nested group."""
    if match == "none":
        if len(phrases) == 1:
            # Translators: a group of rules of which none may hold, with one rule: "(not on a
            # mobile phone)".
            return pgettext("rule group: none of", "(not %(rule)s)") % {"rule": phrases[0]}
        # Translators: the first rule of a group of which none may hold: "not on a mobile
        # phone" in "(not on a mobile phone, nor who are logged in)".
        text = pgettext("rule group: none of, first rule", "not %(rule)s") % {"rule": phrases[0]}
        for phrase in phrases[1:]:
            # Translators: each further rule of a group of which none may hold: ", nor who are
            # logged in" in "(not on a mobile phone, nor who are logged in)".
            template = pgettext("rule group: none of, next rule", "%(rules)s, nor %(rule)s")
            text = template % {"rules": text, "rule": phrase}
        return f"({text})"
    text = phrases[0] if phrases else ""
    for phrase in phrases[1:]:
        if match == "any":
            # Translators: joins the rules of a group of which any may hold: "(from Austria,
            # or on a mobile phone)".
            template = pgettext("rule group: any of", "%(rules)s, or %(rule)s")
        else:
            # Translators: joins the rules of a group that must all hold: "(from Austria and on
            # a mobile phone)".
            template = pgettext("rule group: all of", "%(rules)s and %(rule)s")
        text = template % {"rules": text, "rule": phrase}
    return f"({text})"


class RuleGroup(RuleBlock):
    """A nested group of rules combined with all / any / none."""

    match = blocks.ChoiceBlock(
        choices=[("all", _("All of")), ("any", _("Any of")), ("none", _("None of"))],
        default="any",
    )
    rules = blocks.StreamBlock(leaf_rule_blocks(), min_num=1)

    def condition(self, value: Any) -> dict[str, Any]:
        operator = _GROUP_OPERATORS[value["match"]]
        return {operator: [child.block.condition(child.value) for child in value["rules"]]}

    def phrase(self, value: Any) -> str:
        phrases = [child.block.phrase(child.value) for child in value["rules"]]
        return _group_phrase(phrases, value["match"])

    class Meta:
        label = _("Group of rules")
        icon = "list-ul"


class SegmentRulesBlock(blocks.StreamBlock):
    """The top-level rule list of a segment."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__([*leaf_rule_blocks(), ("rule_group", RuleGroup())], **kwargs)


def is_clause(phrase: str) -> bool:
    """Whether a rule phrase is a relative clause ("who are logged in").

    Rule blocks say so by returning a :class:`~personalize.rule_blocks.base.Clause`; an English
    phrase of another rule block counts when it starts with "who" or "whose".
    """
    return isinstance(phrase, Clause) or phrase.startswith(("who ", "whose "))


def _join_template(match: str, *, after_clause: bool, clause: bool, first: bool) -> str:
    """How the segment sentence adds the next rule phrase (a template, per language).

    Translators get one template per situation, so that languages that set relative clauses
    off with commas (German: "Besucher aus Österreich, die angemeldet sind") can do so.
    """
    # Translators: the segment sentence is built from its rules' phrases, one at a time: each
    # template adds %(rule)s (the next phrase) to %(text)s (the sentence so far, starting with
    # "Visitors"). A "relative clause" is a phrase such as "who are logged in"; other phrases
    # are such as "from Austria" or "on a mobile phone".
    if first:
        if clause:
            return pgettext("segment sentence: a relative clause first", "%(text)s %(rule)s")
        return pgettext("segment sentence: a phrase first", "%(text)s %(rule)s")
    if match != "all":
        if clause and after_clause:
            return pgettext(
                "segment sentence: or a relative clause after a relative clause",
                "%(text)s, or %(rule)s",
            )
        if clause:
            return pgettext("segment sentence: or a relative clause", "%(text)s, or %(rule)s")
        if after_clause:
            return pgettext(
                "segment sentence: or a phrase after a relative clause", "%(text)s, or %(rule)s"
            )
        return pgettext("segment sentence: or a phrase", "%(text)s, or %(rule)s")
    if clause and after_clause:
        # Two relative clauses in a row read as a list: "who are logged in and who are in …".
        return pgettext(
            "segment sentence: a relative clause after a relative clause", "%(text)s and %(rule)s"
        )
    if clause:
        return pgettext("segment sentence: a relative clause after a phrase", "%(text)s %(rule)s")
    if after_clause:
        return pgettext("segment sentence: a phrase after a relative clause", "%(text)s %(rule)s")
    return pgettext("segment sentence: a phrase after a phrase", "%(text)s %(rule)s")


def sentence(phrases: list[str], match: str, subject: str | None = None) -> str:
    """The segment sentence: "Visitors from Germany on a mobile phone", in the active language.

    Args:
        phrases: the rule phrases, in order.
        match: ``"all"`` (every rule must hold) or ``"any"``.
        subject: what the sentence starts with; "Visitors" when not given.
    """
    if not phrases:
        return gettext("All visitors")
    # Translators: the start of a segment sentence such as "Visitors from Austria".
    text = subject if subject is not None else pgettext("segment sentence", "Visitors")
    previous_clause = False
    for number, phrase in enumerate(phrases):
        clause = is_clause(phrase)
        template = _join_template(
            match, after_clause=previous_clause, clause=clause, first=number == 0
        )
        text = template % {"text": text, "rule": phrase}
        previous_clause = clause
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
