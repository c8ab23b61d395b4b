""" "Why am I seeing this?": plain-language reasons built from the visitor's own attributes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from personalize.blocks.context import decision_read
from personalize.rule_blocks import choices

#: How explanations name the attributes a rule read ("your country").
ATTRIBUTE_LABELS: dict[str, str] = {
    "geo.country": "your country",
    "geo.region": "your region",
    "geo.city": "your city",
    "geo.continent": "your continent",
    "geo.timezone": "your time zone",
    "time.hour": "your local hour",
    "time.weekday": "your weekday",
    "time.minute": "your local minute",
    "time.month": "your local month",
    "time.date": "your local date",
    "time.time": "your local time",
    "device.type": "your device",
    "device.os": "your operating system",
    "device.browser": "your browser",
    "referral.channel": "how you arrived",
    "referral.source": "where you came from",
    "referral.medium": "the link's medium",
    "referral.campaign": "the campaign",
    "referral.host": "the site you came from",
    "user.authenticated": "signed in",
    "user.groups": "your groups",
    "visitor.visits": "your visits",
    "visitor.returning": "returning visitor",
    "visitor.days_since_first_visit": "days since your first visit",
    "visitor.score": "your engagement score",
    "visitor.stage": "your journey stage",
    "visitor.peak_stage": "the furthest journey stage you reached",
    "consent": "what you allowed",
    "gpc": "Global Privacy Control",
}


def attribute_label(path: str) -> str:
    """A visitor-facing name for an attribute path."""
    if path in ATTRIBUTE_LABELS:
        return ATTRIBUTE_LABELS[path]
    if path.startswith("visitor.interests."):
        return f"your interest in “{path.removeprefix('visitor.interests.')}”"
    if path.startswith("visitor.prefs."):
        return f"your answer to “{path.removeprefix('visitor.prefs.')}”"
    if path.startswith("user."):
        return f"your profile’s {path.removeprefix('user.').replace('_', ' ')}"
    return path


#: Month names, for ``time.month``.
_MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip


def _choice_words(path: str) -> dict[str, str]:
    """Codes of an attribute and their words, as the rule builder names them to editors."""
    words = {
        "time.weekday": dict(choices.WEEKDAYS),
        "device.type": {code: text.lower() for code, text in choices.DEVICE_TYPES},
        "referral.channel": {code: text.lower() for code, text in choices.CHANNELS},
        "geo.continent": dict(choices.CONTINENTS),
        "device.os": dict(choices.OPERATING_SYSTEMS),
        "device.browser": dict(choices.BROWSERS),
    }
    if path == "geo.country":
        return dict(choices.countries())
    if path == "time.month":
        return {str(number): name for number, name in enumerate(_MONTHS, start=1)}
    return words.get(path, {})


def format_value(value: Any, path: str = "") -> str:
    """A visitor-facing rendering of an attribute value.

    Codes become the words editors pick them by: weekday ``1`` is "Monday", channel
    ``organic_search`` "organic search", country ``AT`` "Austria".

    Args:
        value: the attribute's value.
        path: the attribute's path, for codes that have words.
    """
    if path and isinstance(value, str | int) and not isinstance(value, bool):
        words = _choice_words(path)
        if str(value) in words:
            return words[str(value)]
    if value is None:
        return "unknown"
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if isinstance(value, list | tuple):
        return ", ".join(format_value(item, path) for item in value) or "none"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def privacy_url() -> str | None:
    """The privacy page's URL, or None when the site does not include ``personalize.urls``."""
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse("personalize:privacy")
    except NoReverseMatch:
        return None


def why(visitor: Any, segment_ids: Iterable[int]) -> list[dict[str, Any]]:
    """Which segments chose the content, and the visitor's values that made each rule match.

    Args:
        visitor: the request's :class:`~personalize.visitors.visitor.Visitor`.
        segment_ids: the matched segments that selected the content.

    Returns:
        ``[{"segment": name, "rules": [{"summary", "values": [(label, text)]}]}]``.
    """
    with decision_read(visitor):
        attributes = visitor.attributes
    segment_set = visitor.segment_set
    reasons = []
    for segment_id in segment_ids:
        name = segment_set.names.get(segment_id)
        if name is None:
            continue
        rules = [
            {"summary": rule["summary"], "values": rule_values(rule)}
            for rule in segment_set.reasons(segment_id, attributes)
        ]
        reasons.append({"segment": name, "rules": rules})
    return reasons


def rule_values(rule: dict[str, Any]) -> list[tuple[str, str]]:
    """A rule's ``attributes`` (path to the visitor's value) in words: ``(label, text)``."""
    return [
        (attribute_label(path), format_value(value, path))
        for path, value in rule["attributes"].items()
    ]


def matched_explanation(visitor: Any) -> list[dict[str, Any]]:
    """What a visitor may be told about their segments: only those they are in, and why.

    Per matched segment, the rules that held, in words, with the visitor's own values. Segments
    the visitor is not in and rules that did not hold stay out: they would tell anyone how to
    get into a segment. Editors see everything through ``Visitor.explain()``.

    Args:
        visitor: a :class:`~personalize.visitors.visitor.Visitor`.

    Returns:
        ``[{"slug", "name", "matched": True, "match", "rules": [{"summary", "matched": True,
        "attributes": {path: value}, "values": [(label, text)]}]}]``, like
        ``Visitor.explain()`` restricted to matches, with ``values`` from :func:`rule_values`.
    """
    attributes = visitor.attributes
    segment_set = visitor.segment_set
    return [
        {
            "slug": segment.slug,
            "name": segment.name,
            "matched": True,
            "match": segment.match,
            "rules": [
                {**rule, "values": rule_values(rule)}
                for rule in segment_set.reasons(segment.id, attributes)
            ],
        }
        for segment in visitor.matches
    ]
