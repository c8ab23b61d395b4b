"""Choice lists of the rule builder: countries, continents, devices, channels, weekdays."""

from __future__ import annotations

from functools import cache
from importlib import resources

CONTINENTS = [
    ("AF", "Africa"),
    ("AN", "Antarctica"),
    ("AS", "Asia"),
    ("EU", "Europe"),
    ("NA", "North America"),
    ("OC", "Oceania"),
    ("SA", "South America"),
]

DEVICE_TYPES = [
    ("mobile", "Mobile phone"),
    ("tablet", "Tablet"),
    ("desktop", "Desktop"),
    ("bot", "Bot or crawler"),
    ("other", "Other or unknown"),
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
    ("Chrome Mobile iOS", "Chrome on iOS"),
    ("Safari", "Safari"),
    ("Mobile Safari", "Mobile Safari"),
    ("Firefox", "Firefox"),
    ("Firefox Mobile", "Firefox Mobile"),
    ("Edge", "Edge"),
    ("Opera", "Opera"),
    ("Samsung Internet", "Samsung Internet"),
]

CHANNELS = [
    ("direct", "Direct"),
    ("organic_search", "Organic search"),
    ("paid_search", "Paid search"),
    ("organic_social", "Organic social"),
    ("paid_social", "Paid social"),
    ("email", "Email"),
    ("referral", "Referral"),
    ("display", "Display"),
    ("affiliates", "Affiliates"),
    ("organic_video", "Organic video"),
    ("paid_video", "Paid video"),
    ("organic_shopping", "Organic shopping"),
    ("paid_shopping", "Paid shopping"),
    ("sms", "SMS"),
    ("mobile_push", "Mobile push notifications"),
    ("audio", "Audio"),
    ("cross_network", "Cross-network"),
    ("paid_other", "Paid other"),
    ("unassigned", "Unassigned"),
]

WEEKDAYS = [
    ("1", "Monday"),
    ("2", "Tuesday"),
    ("3", "Wednesday"),
    ("4", "Thursday"),
    ("5", "Friday"),
    ("6", "Saturday"),
    ("7", "Sunday"),
]


@cache
def countries() -> list[tuple[str, str]]:
    """ISO 3166-1 alpha-2 codes with English names, sorted by name."""
    text = resources.files("personalize").joinpath("data/countries.txt").read_text("utf-8")
    pairs = []
    for line in text.splitlines():
        if line and not line.startswith("#"):
            code, name = line.split(" ", 1)
            pairs.append((code, name))
    return sorted(pairs, key=lambda pair: pair[1])


def label(choices: list[tuple[str, str]], value: str) -> str:
    """The display label of ``value`` in ``choices`` (the value itself when unknown)."""
    return dict(choices).get(value, value)


def join_or(items: list[str]) -> str:
    """``["a", "b", "c"]`` → ``"a, b or c"``."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} or {items[-1]}"
