"""Rules on the visitor's privacy choices: consent per purpose, Global Privacy Control."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from wagtail import blocks

from personalize.rule_blocks.base import Clause
from personalize.rule_blocks.visitor import VisitorRule

_PURPOSES = [("personalization", _("Personalization")), ("analytics", _("Analytics"))]
#: The purposes inside a sentence ("who consented to personalization").
_PURPOSE_WORDS = {
    "personalization": pgettext_lazy("consented to …", "personalization"),
    "analytics": pgettext_lazy("consented to …", "analytics"),
}


class ConsentRule(VisitorRule):
    """The visitor gave consent for a purpose."""

    purpose = blocks.ChoiceBlock(choices=_PURPOSES, default="personalization")

    def condition(self, value: Any) -> dict[str, Any]:
        # ``consent`` is the list of granted purposes: $all of one purpose is "contains".
        return {"consent": {"$all": [value["purpose"]]}}

    def phrase(self, value: Any) -> str:
        purpose = _PURPOSE_WORDS.get(value["purpose"], value["purpose"])
        # Translators: a rule phrase after "Visitors" (a relative clause), e.g. "who consented
        # to personalization".
        return Clause(gettext("who consented to %(purpose)s") % {"purpose": purpose})

    class Meta:
        label = _("Consent given for")
        icon = "lock-open"


class GpcRule(VisitorRule):
    """The visitor's browser sends (or does not send) Global Privacy Control."""

    sent = blocks.ChoiceBlock(
        choices=[("yes", _("Yes")), ("no", _("No"))], default="yes", label=_("Signal sent")
    )

    def condition(self, value: Any) -> dict[str, Any]:
        if value["sent"] == "yes":
            return {"gpc": True}
        return {"gpc": {"$in": [False, None]}}

    def phrase(self, value: Any) -> str:
        # Translators: rule phrases after "Visitors" (relative clauses).
        if value["sent"] == "yes":
            return Clause(gettext("whose browser sends Global Privacy Control"))
        return Clause(gettext("whose browser does not send Global Privacy Control"))

    class Meta:
        label = _("Global Privacy Control sent")
        icon = "lock"
