"""Rules on the visitor's device: type, operating system, browser."""

from __future__ import annotations

from typing import Any

from personalize.rule_blocks import choices
from personalize.rule_blocks.base import ChoiceInRule
from personalize.rule_blocks.choices import join_or

_DEVICE_PHRASES = {
    "mobile": "a mobile phone",
    "tablet": "a tablet",
    "desktop": "a desktop computer",
    "bot": "a bot",
    "other": "an unknown device",
}


class DeviceTypeRule(ChoiceInRule):
    """The visitor's device type is one of the chosen types."""

    path = "device.type"
    choice_list = choices.DEVICE_TYPES
    field_label = "Device types"

    def phrase(self, value: Any) -> str:
        return "on " + join_or([_DEVICE_PHRASES.get(v, v) for v in value["values"]])

    class Meta:
        label = "Device type is"
        icon = "mobile-alt"


class OperatingSystemRule(ChoiceInRule):
    """The visitor's operating system is one of the chosen families."""

    path = "device.os"
    choice_list = choices.OPERATING_SYSTEMS
    field_label = "Operating systems"
    phrase_template = "using {values}"

    class Meta:
        label = "Operating system is"
        icon = "desktop"


class BrowserRule(ChoiceInRule):
    """The visitor's browser is one of the chosen families."""

    path = "device.browser"
    choice_list = choices.BROWSERS
    field_label = "Browsers"
    phrase_template = "browsing with {values}"

    class Meta:
        label = "Browser is"
        icon = "desktop"
