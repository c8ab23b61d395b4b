"""The advanced rule: a condition written as JSON, validated on save."""

from __future__ import annotations

import json
from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from wagtail import blocks

from personalize.rule_blocks.base import RuleBlock, invalid
from personalize.rules import ConditionError, validate_condition


class AdvancedConditionRule(RuleBlock):
    """A condition written as JSON (MongoDB-style), validated on save."""

    description = blocks.CharBlock(
        required=False, help_text=_("How the segment sentence describes this rule")
    )
    condition_json = blocks.TextBlock(
        label=_("Condition (JSON)"),
        help_text=_('e.g. {"device.type": "mobile", "time.hour": {"$gte": 18}}'),
    )

    def condition(self, value: Any) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(value["condition_json"])
        return parsed

    def phrase(self, value: Any) -> str:
        # Translators: a rule phrase after "Visitors".
        return value["description"] or gettext("matching a custom condition")

    def clean(self, value: Any) -> Any:
        value = super().clean(value)
        try:
            parsed = json.loads(value["condition_json"])
        except (ValueError, RecursionError) as exc:  # RecursionError: nested too deeply
            message = gettext("Not valid JSON: %(error)s") % {"error": exc}
            raise invalid("condition_json", message) from exc
        try:
            validate_condition(parsed)
        except ConditionError as exc:
            message = gettext("Invalid condition: %(error)s") % {"error": exc}
            raise invalid("condition_json", message) from exc
        return value

    class Meta:
        label = _("Advanced condition (JSON)")
        icon = "code"
