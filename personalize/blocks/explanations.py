""" "Why am I seeing this?": plain-language reasons built from the visitor's own attributes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.dates import MONTHS
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from personalize.blocks.context import decision_read
from personalize.rule_blocks import choices
from personalize.rule_blocks.regions import region_label

#: How explanations name the attributes a rule read ("your country").
ATTRIBUTE_LABELS: dict[str, Any] = {
    "geo.country": _("your country"),
    "geo.region": _("your region"),
    "geo.city": _("your city"),
    "geo.continent": _("your continent"),
    "geo.timezone": _("your time zone"),
    "time.hour": _("your local hour"),
    "time.weekday": _("your weekday"),
    "time.minute": _("your local minute"),
    "time.month": _("your local month"),
    "time.date": _("your local date"),
    "time.time": _("your local time"),
    "device.type": _("your device"),
    "device.os": _("your operating system"),
    "device.browser": _("your browser"),
    "referral.channel": _("how you arrived"),
    "referral.source": _("where you came from"),
    "referral.medium": _("the link's medium"),
    "referral.campaign": _("the campaign"),
    "referral.host": _("the site you came from"),
    "user.authenticated": _("signed in"),
    "user.groups": _("your groups"),
    "visitor.visits": _("your visits"),
    "visitor.returning": _("returning visitor"),
    "visitor.days_since_first_visit": _("days since your first visit"),
    "visitor.score": _("your engagement score"),
    "visitor.stage": _("your journey stage"),
    "visitor.peak_stage": _("the furthest journey stage you reached"),
    "consent": _("what you allowed"),
    "gpc": _("Global Privacy Control"),
    "referral.term": _("the link's search term"),
    "referral.content": _("the link's content tag"),
    "user.staff": _("staff member"),
    "page.path": _("the page you are on"),
    "page.locale": _("the page's language"),
    "visitor.interests": _("your interests"),
    "visitor.prefs": _("your answers"),
}


#: The default journey stages in words; a site's own stages read as their names.
STAGE_LABELS: dict[str, Any] = {
    "awareness": _("awareness"),
    "interest": _("interest"),
    "consideration": _("consideration"),
    "intent": _("intent"),
}
#: The consent purposes in words.
PURPOSE_LABELS: dict[str, Any] = {
    "necessary": _("necessary"),
    "personalization": _("personalization"),
    "analytics": _("analytics"),
}


def readable_key(key: str) -> str:
    """A tag, preference key or stage name in words: ``ski-touring`` is "ski touring".

    Args:
        key: the key as stored (an interest is a page tag in lower case).

    Returns:
        The key with ``-`` and ``_`` read as spaces (the key itself when nothing is left).
    """
    words = " ".join(key.replace("-", " ").replace("_", " ").split())
    return words or key


def stage_label(name: str) -> str:
    """A journey stage in words: the default stages translated, a site's own by their name."""
    return str(STAGE_LABELS[name]) if name in STAGE_LABELS else readable_key(name)


def attribute_label(path: str) -> str:
    """A visitor-facing name for an attribute path: never the path itself.

    Args:
        path: a dotted attribute path (``visitor.interests.ski-touring``).

    Returns:
        Words such as "your interest in ski touring"; a path the package does not know reads
        as its last part in words.
    """
    if path in ATTRIBUTE_LABELS:
        return str(ATTRIBUTE_LABELS[path])
    group, _dot, rest = path.partition(".")
    if rest and group == "visitor" and rest.startswith("interests."):
        topic = readable_key(rest.removeprefix("interests."))
        return gettext("your interest in %(topic)s") % {"topic": topic}
    if rest and group == "visitor" and rest.startswith("prefs."):
        question = readable_key(rest.removeprefix("prefs."))
        return gettext("your answer to “%(question)s”") % {"question": question}
    if rest and group == "query":
        return gettext("the link's “%(name)s” parameter") % {"name": rest}
    if rest and group == "user":
        return gettext("your profile’s %(field)s") % {"field": readable_key(rest)}
    return readable_key(path.rpartition(".")[2])


def _choice_words(path: str) -> dict[str, str]:
    """Codes of an attribute and their words, as the rule builder names them to editors."""
    words = {
        # Words in the active language (the choices are lazy translations).
        "time.weekday": {code: str(text) for code, text in choices.WEEKDAYS},
        "device.type": {code: str(text) for code, text in choices.DEVICE_WORDS.items()},
        "referral.channel": {code: str(text) for code, text in choices.CHANNEL_WORDS.items()},
        "geo.continent": {code: str(text) for code, text in choices.CONTINENTS},
        "device.os": dict(choices.OPERATING_SYSTEMS),
        "device.browser": {code: str(text) for code, text in choices.BROWSERS},
        "referral.source": {"(direct)": gettext("none: you came directly")},
        "referral.medium": {"(none)": gettext("none")},
    }
    if path == "geo.country":
        return dict(choices.countries())
    if path == "consent":
        return {purpose: str(label) for purpose, label in PURPOSE_LABELS.items()}
    if path == "time.month":
        return {str(number): str(name) for number, name in MONTHS.items()}
    return words.get(path, {})


def format_value(value: Any, path: str = "") -> str:
    """A visitor-facing rendering of an attribute value.

    Codes become the words editors pick them by: weekday ``1`` is "Monday", channel
    ``organic_search`` "organic search", country ``AT`` "Austria", region ``AT-7`` "Tirol
    (Austria)"; a journey stage reads as its label and interest points as "12 points".

    Args:
        value: the attribute's value.
        path: the attribute's path, for codes that have words.
    """
    if path in ("visitor.stage", "visitor.peak_stage") and isinstance(value, str):
        return stage_label(value)
    if path == "geo.region" and isinstance(value, str):
        return region_label(value)
    if path and isinstance(value, str | int) and not isinstance(value, bool):
        words = _choice_words(path)
        if str(value) in words:
            return words[str(value)]
    if value is None:
        return gettext("unknown")
    if value is True:
        return gettext("yes")
    if value is False:
        return gettext("no")
    if isinstance(value, list | tuple):
        return ", ".join(format_value(item, path) for item in value) or gettext("none")
    if isinstance(value, dict):
        parts = [
            f"{readable_key(str(key))}: {format_value(item, f'{path}.{key}' if path else '')}"
            for key, item in value.items()
        ]
        return ", ".join(parts) or gettext("none")
    number = f"{value:g}" if isinstance(value, float) else str(value)
    if path.startswith("visitor.interests.") and isinstance(value, int | float):
        count = int(value) if float(value).is_integer() else 2
        return ngettext("%(points)s point", "%(points)s points", count) % {"points": number}
    return number


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
        phrases = active_phrases(segment_set, segment_id)
        rules = [
            {"summary": phrases.get(rule["summary"], rule["summary"]), "values": rule_values(rule)}
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
                {
                    **rule,
                    "summary": active_phrases(segment_set, segment.id).get(
                        rule["summary"], rule["summary"]
                    ),
                    "values": rule_values(rule),
                }
                for rule in segment_set.reasons(segment.id, attributes)
            ],
        }
        for segment in visitor.matches
    ]


#: (segment set version, segment id, language) → the segment's rule phrases in that language.
_phrases: dict[tuple[Any, int, str], dict[str, str]] = {}
_PHRASES_KEPT = 1000


def active_phrases(segment_set: Any, segment_id: int) -> dict[str, str]:
    """A segment's rule phrases in the active language, by their stored phrase.

    Compiled segments carry their rules' phrases in the site's language (``LANGUAGE_CODE``);
    a page served in another language says them again in its language, from the segment's
    rules. Remembered per segment set version and language.

    Returns:
        ``{stored phrase: phrase in the active language}``; empty in the site's language, or
        when the segment's rules cannot be read again.
    """
    language = translation.get_language()
    if not language or language == settings.LANGUAGE_CODE:
        return {}
    key = (segment_set.version, segment_id, language)
    if segment_set.version is not None and key in _phrases:
        return _phrases[key]
    segment = segment_set.get_by_id(segment_id)
    phrases = _rephrased(segment) if segment is not None else {}
    if segment_set.version is not None:
        if len(_phrases) >= _PHRASES_KEPT:
            _phrases.clear()
        _phrases[key] = phrases
    return phrases


def _rephrased(segment: Any) -> dict[str, str]:
    rule_parts = getattr(segment.obj, "rule_parts", None)
    if rule_parts is None:
        return {}
    try:
        phrases = [phrase for phrase, _condition in rule_parts()]
    except (ValueError, KeyError, TypeError):
        return {}
    stored = [text for text, _rule in segment.rules]
    return dict(zip(stored, phrases, strict=True)) if len(stored) == len(phrases) else {}
