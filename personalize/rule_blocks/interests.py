"""Rules on what the visitor told us by reading and choosing: interests, stated preferences.

They read ``visitor.interests.*`` and ``visitor.prefs.*`` (see ``docs/reference/attributes.md``);
a visitor without a profile has neither, so these rules fail for them.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from wagtail import blocks

from personalize.rule_blocks.base import Clause, invalid, split_values
from personalize.rule_blocks.choices import join_or, quoted
from personalize.rule_blocks.visitor import VisitorRule, _number, _plural_count, clean_key


class InterestRule(VisitorRule):
    """The visitor's interest points for a tag are at least N."""

    tag = blocks.CharBlock(help_text=_("A page tag, e.g. skiing (compared in lower case)"))
    points = blocks.FloatBlock(
        default=1,
        label=_("At least (points)"),
        help_text=_("Each view of a page with the tag adds a point; points decay over time"),
    )

    def _tag(self, value: Any) -> str:
        return clean_key(value["tag"], "tag").lower()

    def condition(self, value: Any) -> dict[str, Any]:
        return {f"visitor.interests.{self._tag(value)}": {"$gte": _number(value["points"])}}

    def phrase(self, value: Any) -> str:
        points = _number(value["points"])
        tag = quoted(self._tag(value))
        if points == 1:
            # Translators: a rule phrase after "Visitors", e.g. "interested in “skiing”".
            return gettext("interested in %(tag)s") % {"tag": tag}
        # Translators: a rule phrase after "Visitors", e.g. "interested in “skiing” (at least 5
        # points)".
        text = ngettext(
            "interested in %(tag)s (at least %(count)s point)",
            "interested in %(tag)s (at least %(count)s points)",
            _plural_count(points),
        )
        return text % {"tag": tag, "count": points}

    def clean(self, value: Any) -> Any:
        value = super().clean(value)
        try:
            value["tag"] = self._tag(value)
        except ValueError as exc:
            raise invalid("tag", str(exc)) from exc
        if value["points"] <= 0:
            raise invalid("points", gettext("Enter a number of points above 0."))
        return value

    class Meta:
        label = _("Interested in topic")
        icon = "tag"


_PREFERENCE_OPERATORS = [("eq", _("is")), ("in", _("is one of")), ("exists", _("is set"))]


class PreferenceRule(VisitorRule):
    """A preference the visitor stated is a value, one of several, or set at all."""

    key = blocks.CharBlock(
        label=_("Preference"), help_text=_("The preference's key, e.g. language")
    )
    operator = blocks.ChoiceBlock(choices=_PREFERENCE_OPERATORS, default="eq")
    value = blocks.CharBlock(
        required=False,
        help_text=_("Comma separated for “is one of”; not needed for “is set”; case matters"),
    )

    def _key(self, value: Any) -> str:
        return clean_key(value["key"], "key")

    def _values(self, value: Any) -> list[str]:
        if value["operator"] == "in":
            return split_values(value["value"])
        return [(value["value"] or "").strip()]

    def condition(self, value: Any) -> dict[str, Any]:
        path = f"visitor.prefs.{self._key(value)}"
        if value["operator"] == "exists":
            return {path: {"$exists": True}}
        if value["operator"] == "in":
            return {path: {"$in": self._values(value)}}
        return {path: {"$eq": self._values(value)[0]}}

    def phrase(self, value: Any) -> str:
        key = quoted(self._key(value))
        if value["operator"] == "exists":
            # Translators: a rule phrase after "Visitors" (a relative clause).
            return Clause(gettext("who have set the preference %(key)s") % {"key": key})
        items = join_or([quoted(item) for item in self._values(value)])
        # Translators: a rule phrase after "Visitors" (a relative clause), e.g. "whose
        # preference “drink” is “tea” or “coffee”".
        text = gettext("whose preference %(key)s is %(values)s")
        return Clause(text % {"key": key, "values": items})

    def clean(self, value: Any) -> Any:
        value = super().clean(value)
        try:
            value["key"] = self._key(value)
        except ValueError as exc:
            raise invalid("key", str(exc)) from exc
        items = self._values(value)
        if value["operator"] != "exists" and not (items and all(items)):
            raise invalid("value", gettext("Enter a value to compare with."))
        return value

    class Meta:
        label = _("Stated preference")
        icon = "form"
