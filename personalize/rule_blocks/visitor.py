"""Rules on the visitor's profile: visits, engagement, journey stage, interests, consent.

These read the ``visitor.*``, ``consent`` and ``gpc`` attributes (see
``docs/reference/attributes.md``). A visitor without a profile (no consent, or never seen) has
no visit count, score or stage: the comparisons below fail for them, except "new visitor",
which is exactly what such a visitor is to us.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from wagtail import blocks

from personalize.rule_blocks.base import RuleBlock, invalid, split_values
from personalize.rule_blocks.choices import join_or, label
from personalize.rules.scoring import DEFAULT_STAGES, Stage

#: The longest interest tag or preference key a profile keeps (longer ones are cut on load).
MAX_KEY_LENGTH = 100

_COMPARISONS = {"gte": ("$gte", "at least"), "lte": ("$lte", "at most"), "eq": ("$eq", "exactly")}
_COMPARISON_CHOICES = [(key, text) for key, (_, text) in _COMPARISONS.items()]

_SCORE_COMPARISONS = {"gte": ("$gte", "at least"), "lt": ("$lt", "below")}
_SCORE_PHRASES = {"gte": "of at least", "lt": "below"}

_PURPOSES = [("personalization", "Personalization"), ("analytics", "Analytics")]


#: Where the journey stages come from. The rule builder sits below the models that store the
#: stages, so the scoring configuration registers itself here (:func:`set_stage_source`).
def _default_stages() -> Iterable[Stage]:
    return DEFAULT_STAGES


_stage_source: Callable[[], Iterable[Stage]] = _default_stages


def set_stage_source(source: Callable[[], Iterable[Stage]]) -> None:
    """Read the journey stages from ``source`` (called by :mod:`personalize.profiles.scoring`)."""
    global _stage_source
    _stage_source = source


def stage_names() -> list[str]:
    """The journey stages' names, lowest threshold first (read when a form renders or saves)."""
    stages = sorted(_stage_source(), key=lambda stage: stage.threshold)
    return [stage.name for stage in stages]


def stage_choices() -> list[tuple[str, str]]:
    """The journey stages as editor choices."""
    return [(name, name) for name in stage_names()]


def _number(value: Any) -> int | float:
    """``3.0`` → ``3``: whole numbers read (and compare) as integers in conditions."""
    number = float(value)
    return int(number) if number.is_integer() else number


def _plural(count: int | float, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def clean_key(text: str | None, what: str) -> str:
    """Check that a tag or key can be the last part of an attribute path.

    Args:
        text: What the editor typed (surrounding spaces are ignored).
        what: "tag" or "key", for the messages.

    Returns:
        The stripped text.

    Raises:
        ValueError: The text is empty, too long, or contains ``.`` (which separates the parts of
            a path, so ``visitor.interests.a.b`` would read a nested ``b``).
    """
    key = (text or "").strip()
    if not key:
        raise ValueError(f"Enter a {what}.")
    if "." in key:
        raise ValueError(f"A {what} cannot contain “.” (it separates the parts of a path).")
    if len(key) > MAX_KEY_LENGTH:
        raise ValueError(f"A {what} has at most {MAX_KEY_LENGTH} characters.")
    return key


class VisitorRule(RuleBlock):
    """Base class of the rules on the visitor's profile (grouped as "Visitor" for editors)."""

    class Meta:
        group = "Visitor"
        icon = "user"


class VisitsRule(VisitorRule):
    """The visitor has visited at least / at most / exactly N times."""

    comparison = blocks.ChoiceBlock(choices=_COMPARISON_CHOICES, default="gte")
    number = blocks.IntegerBlock(min_value=1, label="Visits")

    def condition(self, value: Any) -> dict[str, Any]:
        operator = _COMPARISONS[value["comparison"]][0]
        return {"visitor.visits": {operator: int(value["number"])}}

    def phrase(self, value: Any) -> str:
        text = _COMPARISONS[value["comparison"]][1]
        return f"who have visited {text} {_plural(int(value['number']), 'time')}"

    class Meta:
        label = "Number of visits"
        icon = "history"


class ReturningRule(VisitorRule):
    """The visitor is new (or has no profile) or returning (more than one visit)."""

    state = blocks.ChoiceBlock(
        choices=[("new", "New"), ("returning", "Returning")],
        default="returning",
        label="Visitor is",
    )

    def condition(self, value: Any) -> dict[str, Any]:
        if value["state"] == "returning":
            return {"visitor.returning": True}
        # A visitor without a profile has returning = None: to us they are new.
        return {"visitor.returning": {"$in": [False, None]}}

    def phrase(self, value: Any) -> str:
        return (
            "who have visited before" if value["state"] == "returning" else "on their first visit"
        )

    class Meta:
        label = "New or returning visitor"
        icon = "user"


class DaysSinceFirstVisitRule(VisitorRule):
    """The visitor's first visit was at least / at most / exactly N whole days ago."""

    comparison = blocks.ChoiceBlock(choices=_COMPARISON_CHOICES, default="gte")
    days = blocks.IntegerBlock(min_value=0)

    def condition(self, value: Any) -> dict[str, Any]:
        operator = _COMPARISONS[value["comparison"]][0]
        return {"visitor.days_since_first_visit": {operator: int(value["days"])}}

    def phrase(self, value: Any) -> str:
        days = int(value["days"])
        if days == 0 and value["comparison"] in ("lte", "eq"):
            return "whose first visit was today"
        text = _COMPARISONS[value["comparison"]][1]
        return f"whose first visit was {text} {_plural(days, 'day')} ago"

    class Meta:
        label = "Days since first visit"
        icon = "calendar"


class ScoreRule(VisitorRule):
    """The visitor's (decayed) engagement score is at least / below a number."""

    comparison = blocks.ChoiceBlock(
        choices=[(key, text) for key, (_, text) in _SCORE_COMPARISONS.items()], default="gte"
    )
    score = blocks.FloatBlock(
        min_value=0, help_text="Scores decay over time and are never negative"
    )

    def condition(self, value: Any) -> dict[str, Any]:
        operator = _SCORE_COMPARISONS[value["comparison"]][0]
        return {"visitor.score": {operator: _number(value["score"])}}

    def phrase(self, value: Any) -> str:
        text = _SCORE_PHRASES[value["comparison"]]
        return f"with an engagement score {text} {_number(value['score'])}"

    def clean(self, value: Any) -> Any:
        value = super().clean(value)
        if value["comparison"] == "lt" and value["score"] <= 0:
            raise invalid("score", "No score is below 0: enter a number above 0.")
        return value

    class Meta:
        label = "Engagement score"
        icon = "sliders"


_STAGE_ATTRIBUTES = {"stage": "visitor.stage", "peak_stage": "visitor.peak_stage"}


class JourneyStageRule(VisitorRule):
    """The visitor's current (or highest reached) journey stage is one of / at least a stage."""

    attribute = blocks.ChoiceBlock(
        choices=[("stage", "Current stage"), ("peak_stage", "Highest stage reached")],
        default="stage",
        label="Compare",
    )
    operator = blocks.ChoiceBlock(
        choices=[("in", "is one of"), ("at_least", "is at least")], default="in"
    )
    stages = blocks.MultipleChoiceBlock(
        choices=stage_choices, required=False, help_text="For “is one of”"
    )
    stage = blocks.ChoiceBlock(
        choices=stage_choices,
        required=False,
        help_text="For “is at least”: this stage or any later one",
    )

    def _names(self, value: Any) -> list[str]:
        if value["operator"] != "at_least":
            return list(value["stages"])
        # The stage list as it is now (when the segment is saved) decides what "later" means.
        names = stage_names()
        if value["stage"] not in names:
            return [value["stage"]]
        return names[names.index(value["stage"]) :]

    def condition(self, value: Any) -> dict[str, Any]:
        return {_STAGE_ATTRIBUTES[value["attribute"]]: {"$in": self._names(value)}}

    def phrase(self, value: Any) -> str:
        subject = "journey stage" if value["attribute"] == "stage" else "highest journey stage"
        if value["operator"] == "at_least":
            return f"whose {subject} is {value['stage']} or later"
        return f"whose {subject} is {join_or(list(value['stages']))}"

    def clean(self, value: Any) -> Any:
        value = super().clean(value)
        if value["operator"] == "at_least" and not value["stage"]:
            raise invalid("stage", "Choose the stage to compare with.")
        if value["operator"] == "in" and not value["stages"]:
            raise invalid("stages", "Choose at least one stage.")
        return value

    class Meta:
        label = "Journey stage"
        icon = "order"


class InterestRule(VisitorRule):
    """The visitor's interest points for a tag are at least N."""

    tag = blocks.CharBlock(help_text="A page tag, e.g. skiing (compared in lower case)")
    points = blocks.FloatBlock(
        default=1,
        label="At least (points)",
        help_text="Each view of a page with the tag adds a point; points decay over time",
    )

    def _tag(self, value: Any) -> str:
        return clean_key(value["tag"], "tag").lower()

    def condition(self, value: Any) -> dict[str, Any]:
        return {f"visitor.interests.{self._tag(value)}": {"$gte": _number(value["points"])}}

    def phrase(self, value: Any) -> str:
        points = _number(value["points"])
        text = f"interested in “{self._tag(value)}”"
        return text if points == 1 else f"{text} (at least {_plural(points, 'point')})"

    def clean(self, value: Any) -> Any:
        value = super().clean(value)
        try:
            value["tag"] = self._tag(value)
        except ValueError as exc:
            raise invalid("tag", str(exc)) from exc
        if value["points"] <= 0:
            raise invalid("points", "Enter a number of points above 0.")
        return value

    class Meta:
        label = "Interested in topic"
        icon = "tag"


_PREFERENCE_OPERATORS = [("eq", "is"), ("in", "is one of"), ("exists", "is set")]


class PreferenceRule(VisitorRule):
    """A preference the visitor stated is a value, one of several, or set at all."""

    key = blocks.CharBlock(label="Preference", help_text="The preference's key, e.g. language")
    operator = blocks.ChoiceBlock(choices=_PREFERENCE_OPERATORS, default="eq")
    value = blocks.CharBlock(
        required=False,
        help_text="Comma separated for “is one of”; not needed for “is set”; case matters",
    )

    def _key(self, value: Any) -> str:
        return clean_key(value["key"], "key")

    def _values(self, value: Any) -> list[str]:
        if value["operator"] == "in":
            return split_values(value["value"])
        return [(value["value"] or "").strip()]

    def condition(self, value: Any) -> dict[str, Any]:
        path = f"visitor.prefs.{self._key(value)}"
        if value["operator"] == "exists":
            return {path: {"$exists": True}}
        if value["operator"] == "in":
            return {path: {"$in": self._values(value)}}
        return {path: {"$eq": self._values(value)[0]}}

    def phrase(self, value: Any) -> str:
        key = self._key(value)
        if value["operator"] == "exists":
            return f"who have set the preference “{key}”"
        items = join_or([f"“{item}”" for item in self._values(value)])
        return f"whose preference “{key}” is {items}"

    def clean(self, value: Any) -> Any:
        value = super().clean(value)
        try:
            value["key"] = self._key(value)
        except ValueError as exc:
            raise invalid("key", str(exc)) from exc
        items = self._values(value)
        if value["operator"] != "exists" and not (items and all(items)):
            raise invalid("value", "Enter a value to compare with.")
        return value

    class Meta:
        label = "Stated preference"
        icon = "form"


class ConsentRule(VisitorRule):
    """The visitor gave consent for a purpose."""

    purpose = blocks.ChoiceBlock(choices=_PURPOSES, default="personalization")

    def condition(self, value: Any) -> dict[str, Any]:
        # ``consent`` is the list of granted purposes: $all of one purpose is "contains".
        return {"consent": {"$all": [value["purpose"]]}}

    def phrase(self, value: Any) -> str:
        return f"who consented to {label(_PURPOSES, value['purpose']).lower()}"

    class Meta:
        label = "Consent given for"
        icon = "lock-open"


class GpcRule(VisitorRule):
    """The visitor's browser sends (or does not send) Global Privacy Control."""

    sent = blocks.ChoiceBlock(
        choices=[("yes", "Yes"), ("no", "No")], default="yes", label="Signal sent"
    )

    def condition(self, value: Any) -> dict[str, Any]:
        if value["sent"] == "yes":
            return {"gpc": True}
        return {"gpc": {"$in": [False, None]}}

    def phrase(self, value: Any) -> str:
        if value["sent"] == "yes":
            return "whose browser sends Global Privacy Control"
        return "whose browser does not send Global Privacy Control"

    class Meta:
        label = "Global Privacy Control sent"
        icon = "lock"
