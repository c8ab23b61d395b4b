"""The editors' rule builder: StreamField blocks that compile to condition JSON.

Every rule block knows two things about its value: the condition it stands for
(:meth:`RuleBlock.condition`) and a plain-language phrase (:meth:`RuleBlock.phrase`) that reads
well after "Visitors …", e.g. "from Germany, Austria or Switzerland". A segment's sentence is
built from these phrases; its condition from these conditions.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from wagtail import blocks
from wagtail.blocks.struct_block import StructBlockValidationError

from personalize import choices
from personalize.choices import join_or, label
from personalize.rules import ConditionError, validate_condition

_QUERY_NAME = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")
_REGION = re.compile(r"^[A-Z]{2}-[A-Z0-9]{1,3}$")


def _split(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def _invalid(field: str, message: str) -> StructBlockValidationError:
    return StructBlockValidationError(block_errors={field: ValidationError(message)})


class RuleBlock(blocks.StructBlock):
    """Base class of rule blocks: a StructBlock that compiles to a condition and a phrase."""

    def condition(self, value: Any) -> dict[str, Any]:
        """The condition JSON this rule stands for."""
        raise NotImplementedError(f"{type(self).__name__} must implement condition()")

    def phrase(self, value: Any) -> str:
        """A phrase completing "Visitors …", e.g. "on a mobile phone"."""
        raise NotImplementedError(f"{type(self).__name__} must implement phrase()")

    class Meta:
        icon = "cog"


class _ChoiceInRule(RuleBlock):
    """A rule "attribute is one of the chosen values"."""

    #: The attribute path the rule compares.
    path = ""
    #: The choices offered to editors.
    choice_list: list[tuple[str, str]] | Callable[[], list[tuple[str, str]]] = []
    #: The phrase with ``{values}`` in it.
    phrase_template = "{values}"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            [
                (
                    "values",
                    blocks.MultipleChoiceBlock(choices=self.choice_list, label=self.field_label),
                )
            ],
            **kwargs,
        )

    field_label = "Values"

    def _choices(self) -> list[tuple[str, str]]:
        return self.choice_list() if callable(self.choice_list) else self.choice_list

    def condition(self, value: Any) -> dict[str, Any]:
        return {self.path: {"$in": list(value["values"])}}

    def phrase(self, value: Any) -> str:
        items = self._choices()
        return self.phrase_template.format(
            values=join_or([label(items, v) for v in value["values"]])
        )

    def clean(self, value: Any) -> Any:
        value = super().clean(value)
        if not value["values"]:
            raise _invalid("values", "Choose at least one value.")
        return value


class CountryRule(_ChoiceInRule):
    """The visitor's country is one of the chosen countries."""

    path = "geo.country"
    choice_list = staticmethod(choices.countries)
    field_label = "Countries"
    phrase_template = "from {values}"

    class Meta:
        label = "Country is one of"
        icon = "site"


class ContinentRule(_ChoiceInRule):
    """The visitor's continent is one of the chosen ones."""

    path = "geo.continent"
    choice_list = choices.CONTINENTS
    field_label = "Continents"
    phrase_template = "from {values}"

    class Meta:
        label = "Continent is one of"
        icon = "site"


class _TextListRule(RuleBlock):
    """A rule over a comma-separated list of values typed by the editor."""

    path = ""
    operator = "$in"
    phrase_template = "{values}"
    help = ""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__([("values", blocks.CharBlock(help_text=self.help))], **kwargs)

    def clean_values(self, items: list[str]) -> list[str]:
        """Clean the editor's values; raise ValueError with a message for bad ones."""
        return items

    def condition(self, value: Any) -> dict[str, Any]:
        return {self.path: {self.operator: self.clean_values(_split(value["values"]))}}

    def phrase(self, value: Any) -> str:
        return self.phrase_template.format(
            values=join_or(self.clean_values(_split(value["values"])))
        )

    def clean(self, value: Any) -> Any:
        value = super().clean(value)
        try:
            if not self.clean_values(_split(value["values"])):
                raise ValueError("Enter at least one value.")
        except ValueError as exc:
            raise _invalid("values", str(exc)) from exc
        return value


class RegionRule(_TextListRule):
    """The visitor's region (ISO 3166-2) is one of the given codes."""

    path = "geo.region"
    phrase_template = "from the region {values}"
    help = "ISO 3166-2 codes, comma separated, e.g. DE-BY, AT-9, US-CA"

    def clean_values(self, items: list[str]) -> list[str]:
        codes = [item.upper() for item in items]
        bad = [code for code in codes if not _REGION.match(code)]
        if bad:
            raise ValueError(
                f"Not ISO 3166-2 region codes: {', '.join(bad)} (expected e.g. DE-BY)."
            )
        return codes

    class Meta:
        label = "Region is one of"
        icon = "site"


class CityRule(_TextListRule):
    """The visitor's city is one of the given names (case-insensitive)."""

    path = "geo.city"
    operator = "$ini"
    phrase_template = "from {values}"
    help = "City names in English, comma separated, e.g. Vienna, Munich"

    class Meta:
        label = "City is one of"
        icon = "site"


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
            raise _invalid("end", "The window is empty: choose an end different from the start.")
        return value

    class Meta:
        label = "Local time between"
        icon = "time"


class WeekdayRule(_ChoiceInRule):
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
            raise _invalid("start", "Give a start date, an end date or both.")
        if value["start"] and value["end"] and value["start"] > value["end"]:
            raise _invalid("end", "The end date is before the start date.")
        return value

    class Meta:
        label = "Date between"
        icon = "date"


_DEVICE_PHRASES = {
    "mobile": "a mobile phone",
    "tablet": "a tablet",
    "desktop": "a desktop computer",
    "bot": "a bot",
    "other": "an unknown device",
}


class DeviceTypeRule(_ChoiceInRule):
    """The visitor's device type is one of the chosen types."""

    path = "device.type"
    choice_list = choices.DEVICE_TYPES
    field_label = "Device types"

    def phrase(self, value: Any) -> str:
        return "on " + join_or([_DEVICE_PHRASES.get(v, v) for v in value["values"]])

    class Meta:
        label = "Device type is"
        icon = "mobile-alt"


class OperatingSystemRule(_ChoiceInRule):
    """The visitor's operating system is one of the chosen families."""

    path = "device.os"
    choice_list = choices.OPERATING_SYSTEMS
    field_label = "Operating systems"
    phrase_template = "using {values}"

    class Meta:
        label = "Operating system is"
        icon = "desktop"


class BrowserRule(_ChoiceInRule):
    """The visitor's browser is one of the chosen families."""

    path = "device.browser"
    choice_list = choices.BROWSERS
    field_label = "Browsers"
    phrase_template = "browsing with {values}"

    class Meta:
        label = "Browser is"
        icon = "desktop"


class ChannelRule(_ChoiceInRule):
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
        items = _split(value["values"])
        if value["operator"] == "contains":
            return {path: {"$regexi": "|".join(re.escape(item) for item in items)}}
        return {path: {"$ini": items}}

    def phrase(self, value: Any) -> str:
        verb = "containing" if value["operator"] == "contains" else ""
        items = join_or([f"“{item}”" for item in _split(value["values"])])
        return " ".join(filter(None, ["with UTM", value["parameter"], verb, items]))

    def clean(self, value: Any) -> Any:
        value = super().clean(value)
        if not _split(value["values"]):
            raise _invalid("values", "Enter at least one value.")
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
            raise _invalid("name", "Use letters, digits, '-' and '_' only (at most 64).")
        return value

    class Meta:
        label = "Query parameter equals"
        icon = "search"


class LoggedInRule(RuleBlock):
    """The visitor is (or is not) logged in."""

    state = blocks.ChoiceBlock(
        choices=[("in", "Logged in"), ("out", "Logged out")], default="in", label="Visitor is"
    )

    def condition(self, value: Any) -> dict[str, Any]:
        return {"user.authenticated": value["state"] == "in"}

    def phrase(self, value: Any) -> str:
        return "who are logged in" if value["state"] == "in" else "who are not logged in"

    class Meta:
        label = "Logged in / logged out"
        icon = "user"


def _group_choices() -> list[tuple[str, str]]:
    from django.contrib.auth.models import Group

    return [(name, name) for name in Group.objects.order_by("name").values_list("name", flat=True)]


class GroupRule(_ChoiceInRule):
    """The logged-in visitor is a member of one of the chosen groups."""

    path = "user.groups"
    choice_list = staticmethod(_group_choices)
    field_label = "Groups"
    phrase_template = "in the group {values}"

    def phrase(self, value: Any) -> str:
        names = join_or(list(value["values"]))
        return f"who are in the group{'s' if len(value['values']) > 1 else ''} {names}"

    class Meta:
        label = "Member of group"
        icon = "group"


def _profile_field_choices() -> list[tuple[str, str]]:
    from personalize.conf import personalize_settings

    return [(name, name) for name in personalize_settings.user_fields]


_PROFILE_OPERATORS = {
    "eq": ("$eq", "is"),
    "ne": ("$ne", "is not"),
    "contains": ("$regexi", "contains"),
    "gt": ("$gt", "is greater than"),
    "lt": ("$lt", "is less than"),
    "exists": ("$exists", "is set"),
}


def _coerce(text: str) -> Any:
    """Editors type text; "true"/"false" and numbers compare as such."""
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return text


class ProfileFieldRule(RuleBlock):
    """A field of the logged-in user's profile (from PERSONALIZE["USER_FIELDS"]) compares."""

    field = blocks.ChoiceBlock(choices=_profile_field_choices, label="Profile field")
    operator = blocks.ChoiceBlock(
        choices=[(key, text) for key, (_, text) in _PROFILE_OPERATORS.items()], default="eq"
    )
    value = blocks.CharBlock(required=False, help_text="Not needed for “is set”")

    def condition(self, value: Any) -> dict[str, Any]:
        operator = _PROFILE_OPERATORS[value["operator"]][0]
        path = f"user.{value['field']}"
        if value["operator"] == "exists":
            return {path: {"$exists": True, "$ne": None}}
        if value["operator"] == "contains":
            return {path: {"$regexi": re.escape(value["value"])}}
        return {path: {operator: _coerce(value["value"])}}

    def phrase(self, value: Any) -> str:
        verb = _PROFILE_OPERATORS[value["operator"]][1]
        if value["operator"] == "exists":
            return f"whose {value['field']} {verb}"
        return f"whose {value['field']} {verb} “{value['value']}”"

    def clean(self, value: Any) -> Any:
        value = super().clean(value)
        if value["operator"] != "exists" and not value["value"]:
            raise _invalid("value", "Enter a value to compare with.")
        return value

    class Meta:
        label = "Profile field compares"
        icon = "user"


class AdvancedConditionRule(RuleBlock):
    """A condition written as JSON (MongoDB-style), validated on save."""

    description = blocks.CharBlock(
        required=False, help_text="How the segment sentence describes this rule"
    )
    condition_json = blocks.TextBlock(
        label="Condition (JSON)",
        help_text='e.g. {"device.type": "mobile", "time.hour": {"$gte": 18}}',
    )

    def condition(self, value: Any) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(value["condition_json"])
        return parsed

    def phrase(self, value: Any) -> str:
        return value["description"] or "matching a custom condition"

    def clean(self, value: Any) -> Any:
        value = super().clean(value)
        try:
            parsed = json.loads(value["condition_json"])
        except ValueError as exc:
            raise _invalid("condition_json", f"Not valid JSON: {exc}") from exc
        try:
            validate_condition(parsed)
        except ConditionError as exc:
            raise _invalid("condition_json", f"Invalid condition: {exc}") from exc
        return value

    class Meta:
        label = "Advanced condition (JSON)"
        icon = "code"


def leaf_rule_blocks() -> list[tuple[str, RuleBlock]]:
    """Every rule block except the nested group, in the order editors see them."""
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
