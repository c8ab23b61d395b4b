"""Rules on how the visitor arrived: channel, UTM parameters, referrer, query."""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from wagtail import blocks

from personalize.rule_blocks import channels
from personalize.rule_blocks.base import ChoiceInRule, RuleBlock, invalid, split_values
from personalize.rule_blocks.choices import join_or, quoted
from personalize.rule_blocks.widgets import CheckboxGroup

_QUERY_NAME = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")


class ChannelRule(ChoiceInRule):
    """The visit's channel (GA4 default channel grouping) is one of the chosen ones."""

    path = "referral.channel"
    choice_list = staticmethod(channels.channel_choices)
    field_label = _("Came from")
    field_help = _(
        "Where the visit came from, as Google Analytics 4 groups it. Tick a shortcut such as "
        "“A search engine” to cover its organic and paid channels at once."
    )

    def widget(self) -> Any:
        return CheckboxGroup(label=self.field_label, descriptions=channels.DESCRIPTIONS)

    def condition(self, value: Any) -> dict[str, Any]:
        return {self.path: {"$in": channels.expand_channels(list(value["values"]))}}

    def phrase(self, value: Any) -> str:
        return channels.channel_phrase(list(value["values"]))

    class Meta:
        label = _("Arrived through channel")
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
        choices=[("is", _("is one of")), ("contains", _("contains one of"))], default="is"
    )
    values = blocks.CharBlock(help_text=_("Comma separated; compared without regard to case"))

    def condition(self, value: Any) -> dict[str, Any]:
        path = f"referral.{value['parameter']}"
        items = split_values(value["values"])
        if value["operator"] == "contains":
            return {path: {"$regexi": "|".join(re.escape(item) for item in items)}}
        return {path: {"$ini": items}}

    def phrase(self, value: Any) -> str:
        items = join_or([quoted(item) for item in split_values(value["values"])])
        values = {"parameter": value["parameter"], "values": items}
        if value["operator"] == "contains":
            # Translators: a rule phrase after "Visitors", e.g. "with UTM campaign containing
            # “spring”"; %(parameter)s is source, medium, campaign, term or content.
            text = gettext("with UTM %(parameter)s containing %(values)s") % values
        else:
            # Translators: a rule phrase after "Visitors", e.g. "with UTM campaign “spring”".
            text = gettext("with UTM %(parameter)s %(values)s") % values
        return text.strip()

    def clean(self, value: Any) -> Any:
        value = super().clean(value)
        if not split_values(value["values"]):
            raise invalid("values", gettext("Enter at least one value."))
        return value

    class Meta:
        label = _("UTM parameter")
        icon = "tag"


class ReferrerHostRule(RuleBlock):
    """The referring site's host contains the given text."""

    text = blocks.CharBlock(
        label=_("Host contains"), help_text=_("e.g. news.ycombinator.com or partner")
    )

    def condition(self, value: Any) -> dict[str, Any]:
        return {"referral.host": {"$regexi": re.escape(value["text"].strip())}}

    def phrase(self, value: Any) -> str:
        # Translators: a rule phrase after "Visitors", e.g. "referred by a site matching “news”".
        return gettext("referred by a site matching %(text)s") % {
            "text": quoted(value["text"].strip())
        }

    class Meta:
        label = _("Referrer host contains")
        icon = "link-external"


class QueryParameterRule(RuleBlock):
    """A query parameter of the current request equals a value."""

    name = blocks.CharBlock(label=_("Parameter"), help_text=_("e.g. ref"))
    value = blocks.CharBlock(label=_("Equals"), help_text=_("e.g. partner"))

    def condition(self, value: Any) -> dict[str, Any]:
        return {f"query.{value['name']}": value["value"]}

    def phrase(self, value: Any) -> str:
        # Translators: a rule phrase after "Visitors", e.g. "with ?ref=partner in the address".
        return gettext("with ?%(name)s=%(value)s in the address") % {
            "name": value["name"],
            "value": value["value"],
        }

    def clean(self, value: Any) -> Any:
        value = super().clean(value)
        if not _QUERY_NAME.match(value["name"]):
            raise invalid("name", gettext("Use letters, digits, '-' and '_' only (at most 64)."))
        return value

    class Meta:
        label = _("Query parameter equals")
        icon = "search"
