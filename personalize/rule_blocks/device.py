"""Rules on the visitor's device: type, operating system, browser."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from personalize.rule_blocks import choices
from personalize.rule_blocks.base import ChoiceInRule
from personalize.rule_blocks.choices import join_or

_DEVICE_PHRASES = {
    "mobile": pgettext_lazy("visitors on …", "a mobile phone"),
    "tablet": pgettext_lazy("visitors on …", "a tablet"),
    "desktop": pgettext_lazy("visitors on …", "a desktop computer"),
    "bot": pgettext_lazy("visitors on …", "a bot"),
    "other": pgettext_lazy("visitors on …", "an unknown device"),
}


class DeviceTypeRule(ChoiceInRule):
    """The visitor's device type is one of the chosen types."""

    path = "device.type"
    choice_list = choices.DEVICE_TYPES
    field_label = _("Device types")

    def phrase(self, value: Any) -> str:
        devices = join_or([str(_DEVICE_PHRASES.get(v, v)) for v in value["values"]])
        # Translators: a rule phrase after "Visitors", e.g. "on a mobile phone or a tablet".
        return gettext("on %(devices)s") % {"devices": devices}

    class Meta:
        label = _("Device type is")
        icon = "mobile-alt"


class OperatingSystemRule(ChoiceInRule):
    """The visitor's operating system is one of the chosen families."""

    path = "device.os"
    choice_list = choices.OPERATING_SYSTEMS
    field_label = _("Operating systems")
    # Translators: a rule phrase after "Visitors", e.g. "using iOS or Android".
    phrase_template = _("using %(values)s")

    class Meta:
        label = _("Operating system is")
        icon = "desktop"


class BrowserRule(ChoiceInRule):
    """The visitor's browser is one of the chosen families."""

    path = "device.browser"
    choice_list = choices.BROWSERS
    field_label = _("Browsers")
    # Translators: a rule phrase after "Visitors", e.g. "browsing with Chrome or Safari".
    phrase_template = _("browsing with %(values)s")

    class Meta:
        label = _("Browser is")
        icon = "desktop"
