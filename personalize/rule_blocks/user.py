"""Rules on the known user: logged in, groups, profile fields."""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from wagtail import blocks

from personalize.rule_blocks.base import ChoiceInRule, Clause, RuleBlock, invalid
from personalize.rule_blocks.choices import join_or, quoted


class LoggedInRule(RuleBlock):
    """The visitor is (or is not) logged in."""

    state = blocks.ChoiceBlock(
        choices=[("in", _("Logged in")), ("out", _("Logged out"))],
        default="in",
        label=_("Visitor is"),
    )

    def condition(self, value: Any) -> dict[str, Any]:
        return {"user.authenticated": value["state"] == "in"}

    def phrase(self, value: Any) -> str:
        # Translators: rule phrases after "Visitors": relative clauses.
        if value["state"] == "in":
            return Clause(gettext("who are logged in"))
        return Clause(gettext("who are not logged in"))

    class Meta:
        label = _("Logged in / logged out")
        icon = "user"


def group_choices() -> list[tuple[str, str]]:
    """The site's groups, by name (read when the rule form renders)."""
    from django.contrib.auth.models import Group

    return [(name, name) for name in Group.objects.order_by("name").values_list("name", flat=True)]


class GroupRule(ChoiceInRule):
    """The logged-in visitor is a member of one of the chosen groups."""

    path = "user.groups"
    choice_list = staticmethod(group_choices)
    field_label = _("Groups")
    picker = "search"
    phrase_template = _("in the group %(values)s")

    def phrase(self, value: Any) -> str:
        names = join_or(list(value["values"]))
        # Translators: a rule phrase after "Visitors" (a relative clause), e.g. "who are in the
        # groups Customers or Beta".
        text = ngettext(
            "who are in the group %(names)s",
            "who are in the groups %(names)s",
            len(value["values"]),
        )
        return Clause(text % {"names": names})

    class Meta:
        label = _("Member of group")
        icon = "group"


def profile_field_choices() -> list[tuple[str, str]]:
    """The profile fields exposed by ``PERSONALIZE["USER_FIELDS"]``."""
    from personalize.conf import personalize_settings

    return [(name, name) for name in personalize_settings.user_fields]


_PROFILE_OPERATORS = {
    "eq": ("$eq", _("is")),
    "ne": ("$ne", _("is not")),
    "contains": ("$regexi", _("contains")),
    "gt": ("$gt", _("is greater than")),
    "lt": ("$lt", _("is less than")),
    "exists": ("$exists", _("is set")),
}


def _profile_phrase(operator: str, field: str, value: str) -> str:
    """ "whose company is “ACME”": one whole sentence per operator, for translators."""
    values = {"field": field, "value": quoted(value)}
    # Translators: rule phrases after "Visitors" (relative clauses); %(field)s is the name of
    # a profile field such as "company", %(value)s the quoted value.
    phrases = {
        "eq": gettext("whose %(field)s is %(value)s"),
        "ne": gettext("whose %(field)s is not %(value)s"),
        "contains": gettext("whose %(field)s contains %(value)s"),
        "gt": gettext("whose %(field)s is greater than %(value)s"),
        "lt": gettext("whose %(field)s is less than %(value)s"),
        "exists": gettext("whose %(field)s is set"),
    }
    return phrases[operator] % values


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

    field = blocks.ChoiceBlock(choices=profile_field_choices, label=_("Profile field"))
    operator = blocks.ChoiceBlock(
        choices=[(key, text) for key, (_operator, text) in _PROFILE_OPERATORS.items()], default="eq"
    )
    value = blocks.CharBlock(required=False, help_text=_("Not needed for “is set”"))

    def condition(self, value: Any) -> dict[str, Any]:
        operator = _PROFILE_OPERATORS[value["operator"]][0]
        path = f"user.{value['field']}"
        if value["operator"] == "exists":
            return {path: {"$exists": True, "$ne": None}}
        if value["operator"] == "contains":
            return {path: {"$regexi": re.escape(value["value"])}}
        return {path: {operator: _coerce(value["value"])}}

    def phrase(self, value: Any) -> str:
        return Clause(_profile_phrase(value["operator"], value["field"], value["value"] or ""))

    def clean(self, value: Any) -> Any:
        value = super().clean(value)
        if value["operator"] != "exists" and not value["value"]:
            raise invalid("value", gettext("Enter a value to compare with."))
        return value

    class Meta:
        label = _("Profile field compares")
        icon = "user"
