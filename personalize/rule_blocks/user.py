"""Rules on the known user: logged in, groups, profile fields."""

from __future__ import annotations

import re
from typing import Any

from wagtail import blocks

from personalize.rule_blocks.base import ChoiceInRule, RuleBlock, invalid
from personalize.rule_blocks.choices import join_or


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


def group_choices() -> list[tuple[str, str]]:
    """The site's groups, by name (read when the rule form renders)."""
    from django.contrib.auth.models import Group

    return [(name, name) for name in Group.objects.order_by("name").values_list("name", flat=True)]


class GroupRule(ChoiceInRule):
    """The logged-in visitor is a member of one of the chosen groups."""

    path = "user.groups"
    choice_list = staticmethod(group_choices)
    field_label = "Groups"
    phrase_template = "in the group {values}"

    def phrase(self, value: Any) -> str:
        names = join_or(list(value["values"]))
        return f"who are in the group{'s' if len(value['values']) > 1 else ''} {names}"

    class Meta:
        label = "Member of group"
        icon = "group"


def profile_field_choices() -> list[tuple[str, str]]:
    """The profile fields exposed by ``PERSONALIZE["USER_FIELDS"]``."""
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

    field = blocks.ChoiceBlock(choices=profile_field_choices, label="Profile field")
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
            raise invalid("value", "Enter a value to compare with.")
        return value

    class Meta:
        label = "Profile field compares"
        icon = "user"
