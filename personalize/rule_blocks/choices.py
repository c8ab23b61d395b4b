"""Choice lists of the rule builder: countries, continents, devices, channels, weekdays."""

from __future__ import annotations

import unicodedata
from functools import cache
from importlib import resources
from typing import Any

from django.utils.translation import gettext, pgettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

CONTINENTS = [
    ("AF", _("Africa")),
    ("AN", _("Antarctica")),
    ("AS", _("Asia")),
    ("EU", _("Europe")),
    ("NA", _("North America")),
    ("OC", _("Oceania")),
    ("SA", _("South America")),
]

DEVICE_TYPES = [
    ("mobile", pgettext_lazy("device type", "Mobile phone")),
    ("tablet", pgettext_lazy("device type", "Tablet")),
    ("desktop", pgettext_lazy("device type", "Desktop")),
    ("bot", pgettext_lazy("device type", "Bot or crawler")),
    ("other", pgettext_lazy("device type", "Other or unknown")),
]

OPERATING_SYSTEMS = [
    ("iOS", "iOS"),
    ("Android", "Android"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
    ("Chrome OS", "ChromeOS"),
    ("Ubuntu", "Ubuntu"),
]

BROWSERS = [
    ("Chrome", "Chrome"),
    ("Chrome Mobile", "Chrome Mobile"),
    ("Chrome Mobile iOS", _("Chrome on iOS")),
    ("Safari", "Safari"),
    ("Mobile Safari", "Mobile Safari"),
    ("Firefox", "Firefox"),
    ("Firefox Mobile", "Firefox Mobile"),
    ("Edge", "Edge"),
    ("Opera", "Opera"),
    ("Samsung Internet", "Samsung Internet"),
]

CHANNELS = [
    ("direct", pgettext_lazy("marketing channel", "Direct")),
    ("organic_search", pgettext_lazy("marketing channel", "Organic search")),
    ("paid_search", pgettext_lazy("marketing channel", "Paid search")),
    ("organic_social", pgettext_lazy("marketing channel", "Organic social")),
    ("paid_social", pgettext_lazy("marketing channel", "Paid social")),
    ("email", pgettext_lazy("marketing channel", "Email")),
    ("referral", pgettext_lazy("marketing channel", "Referral")),
    ("display", pgettext_lazy("marketing channel", "Display")),
    ("affiliates", pgettext_lazy("marketing channel", "Affiliates")),
    ("organic_video", pgettext_lazy("marketing channel", "Organic video")),
    ("paid_video", pgettext_lazy("marketing channel", "Paid video")),
    ("organic_shopping", pgettext_lazy("marketing channel", "Organic shopping")),
    ("paid_shopping", pgettext_lazy("marketing channel", "Paid shopping")),
    ("sms", pgettext_lazy("marketing channel", "SMS")),
    ("mobile_push", pgettext_lazy("marketing channel", "Mobile push notifications")),
    ("audio", pgettext_lazy("marketing channel", "Audio")),
    ("cross_network", pgettext_lazy("marketing channel", "Cross-network")),
    ("paid_other", pgettext_lazy("marketing channel", "Paid other")),
    ("unassigned", pgettext_lazy("marketing channel", "Unassigned")),
]

WEEKDAYS = [
    ("1", _("Monday")),
    ("2", _("Tuesday")),
    ("3", _("Wednesday")),
    ("4", _("Thursday")),
    ("5", _("Friday")),
    ("6", _("Saturday")),
    ("7", _("Sunday")),
]


#: The device types as words inside a sentence ("on a mobile phone", explanations).
DEVICE_WORDS = {
    "mobile": pgettext_lazy("device type in a sentence", "mobile phone"),
    "tablet": pgettext_lazy("device type in a sentence", "tablet"),
    "desktop": pgettext_lazy("device type in a sentence", "desktop"),
    "bot": pgettext_lazy("device type in a sentence", "bot or crawler"),
    "other": pgettext_lazy("device type in a sentence", "other or unknown"),
}

#: The channels as words inside a sentence ("arriving from organic search").
CHANNEL_WORDS = {
    "direct": pgettext_lazy("marketing channel in a sentence", "direct"),
    "organic_search": pgettext_lazy("marketing channel in a sentence", "organic search"),
    "paid_search": pgettext_lazy("marketing channel in a sentence", "paid search"),
    "organic_social": pgettext_lazy("marketing channel in a sentence", "organic social"),
    "paid_social": pgettext_lazy("marketing channel in a sentence", "paid social"),
    "email": pgettext_lazy("marketing channel in a sentence", "email"),
    "referral": pgettext_lazy("marketing channel in a sentence", "referral"),
    "display": pgettext_lazy("marketing channel in a sentence", "display"),
    "affiliates": pgettext_lazy("marketing channel in a sentence", "affiliates"),
    "organic_video": pgettext_lazy("marketing channel in a sentence", "organic video"),
    "paid_video": pgettext_lazy("marketing channel in a sentence", "paid video"),
    "organic_shopping": pgettext_lazy("marketing channel in a sentence", "organic shopping"),
    "paid_shopping": pgettext_lazy("marketing channel in a sentence", "paid shopping"),
    "sms": pgettext_lazy("marketing channel in a sentence", "sms"),
    "mobile_push": pgettext_lazy("marketing channel in a sentence", "mobile push notifications"),
    "audio": pgettext_lazy("marketing channel in a sentence", "audio"),
    "cross_network": pgettext_lazy("marketing channel in a sentence", "cross-network"),
    "paid_other": pgettext_lazy("marketing channel in a sentence", "paid other"),
    "unassigned": pgettext_lazy("marketing channel in a sentence", "unassigned"),
}


@cache
def _country_pairs() -> tuple[tuple[str, str], ...]:
    text = resources.files("personalize").joinpath("data/countries.txt").read_text("utf-8")
    pairs = []
    for line in text.splitlines():
        if line and not line.startswith("#"):
            code, name = line.split(" ", 1)
            pairs.append((code, name))
    return tuple(pairs)


def countries() -> list[tuple[str, str]]:
    """ISO 3166-1 alpha-2 codes with their names in the active language, sorted by name.

    The names are English in ``personalize/data/countries.txt``; a catalogue that translates
    them (the package's German one does) names them in its language.
    """
    # The names are marked for translation in personalize/rule_blocks/country_names.py.
    pairs = [(code, gettext(name)) for code, name in _country_pairs()]
    return sorted(pairs, key=lambda pair: _sort_key(pair[1]))


def _sort_key(name: str) -> str:
    """Sort "Österreich" with the O's and "Åland Islands" with the A's."""
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def label(choices: list[tuple[str, Any]], value: str) -> str:
    """The display label of ``value`` in ``choices`` (the value itself when unknown)."""
    return str(dict(choices).get(value, value))


def join_list(items: list[str], last: str) -> str:
    """Join ``items`` as a list in words, the last two with ``last``.

    Args:
        items: the items, already in words.
        last: a template with ``%(items)s`` and ``%(last)s``, e.g. "%(items)s or %(last)s".

    Returns:
        ``"a, b or c"``; the only item alone, or ``""`` for none.
    """
    items = [str(item) for item in items]
    if len(items) <= 1:
        return "".join(items)
    # Translators: separates the items of a list in a sentence, as in "a, b or c".
    separator = pgettext("list separator", ", ")
    return last % {"items": separator.join(items[:-1]), "last": items[-1]}


def join_or(items: list[str]) -> str:
    """``["a", "b", "c"]`` → ``"a, b or c"`` (in the active language)."""
    # Translators: the last two items of a list of alternatives, as in "a, b or c".
    return join_list(items, pgettext("list of alternatives", "%(items)s or %(last)s"))


def join_and(items: list[str]) -> str:
    """``["a", "b", "c"]`` → ``"a, b and c"`` (in the active language)."""
    # Translators: the last two items of a list, as in "a, b and c".
    return join_list(items, pgettext("list of items", "%(items)s and %(last)s"))


def quoted(text: str) -> str:
    """A value the editor typed, in quotation marks: “spring” (in German „spring“)."""
    # Translators: quotation marks around a value an editor typed, as in “spring”.
    return pgettext("quoted value", "“%(value)s”") % {"value": text}
