"""The advanced rule: a condition written as JSON, validated on save."""

from __future__ import annotations

import json
from typing import Any

from wagtail import blocks

from personalize.rule_blocks.base import RuleBlock, invalid
from personalize.rules import ConditionError, validate_condition


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
            raise invalid("condition_json", f"Not valid JSON: {exc}") from exc
        try:
            validate_condition(parsed)
        except ConditionError as exc:
            raise invalid("condition_json", f"Invalid condition: {exc}") from exc
        return value

    class Meta:
        label = "Advanced condition (JSON)"
        icon = "code"
