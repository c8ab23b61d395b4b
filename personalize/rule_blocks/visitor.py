"""Rules on the visitor's profile: visits, engagement, journey stage.

Interests and stated preferences are in :mod:`personalize.rule_blocks.interests`, consent and
Global Privacy Control in :mod:`personalize.rule_blocks.consent`.

These read the ``visitor.*``, ``consent`` and ``gpc`` attributes (see
``docs/reference/attributes.md``). A visitor without a profile (no consent, or never seen) has
no visit count, score or stage: the comparisons below fail for them, except "new visitor",
which is exactly what such a visitor is to us.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.utils.translation import gettext, ngettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from wagtail import blocks

from personalize.rule_blocks.base import Clause, RuleBlock, invalid
from personalize.rule_blocks.choices import join_or
from personalize.rule_blocks.widgets import CheckboxGroup
from personalize.rules.scoring import DEFAULT_STAGES, Stage

#: The longest interest tag or preference key a profile keeps (longer ones are cut on load).
MAX_KEY_LENGTH = 100

_COMPARISONS = {
    "gte": ("$gte", _("at least")),
    "lte": ("$lte", _("at most")),
    "eq": ("$eq", _("exactly")),
}
_COMPARISON_CHOICES = [(key, text) for key, (_operator, text) in _COMPARISONS.items()]

_SCORE_COMPARISONS = {"gte": ("$gte", _("at least")), "lt": ("$lt", _("below"))}


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


def _plural_count(number: int | float) -> int:
    """The count that chooses a plural form: 1.5 points are plural, like 2."""
    return int(number) if float(number).is_integer() else 2


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
    messages = {
        "tag": (
            gettext("Enter a tag."),
            gettext("A tag cannot contain “.” (it separates the parts of a path)."),
            gettext("A tag has at most %(count)d characters."),
        ),
        "key": (
            gettext("Enter a key."),
            gettext("A key cannot contain “.” (it separates the parts of a path)."),
            gettext("A key has at most %(count)d characters."),
        ),
    }
    empty, dotted, too_long = messages["tag" if what == "tag" else "key"]
    if not key:
        raise ValueError(empty)
    if "." in key:
        raise ValueError(dotted)
    if len(key) > MAX_KEY_LENGTH:
        raise ValueError(too_long % {"count": MAX_KEY_LENGTH})
    return key


class VisitorRule(RuleBlock):
    """Base class of the rules on the visitor's profile (grouped as "Visitor" for editors)."""

    class Meta:
        group = pgettext_lazy("rule group heading", "Visitor")
        icon = "user"


class VisitsRule(VisitorRule):
    """The visitor has visited at least / at most / exactly N times."""

    comparison = blocks.ChoiceBlock(choices=_COMPARISON_CHOICES, default="gte")
    number = blocks.IntegerBlock(min_value=1, label=_("Visits"))

    def condition(self, value: Any) -> dict[str, Any]:
        operator = _COMPARISONS[value["comparison"]][0]
        return {"visitor.visits": {operator: int(value["number"])}}

    def phrase(self, value: Any) -> str:
        count = int(value["number"])
        # Translators: rule phrases after "Visitors" (relative clauses).
        phrases = {
            "gte": ngettext(
                "who have visited at least %(count)s time",
                "who have visited at least %(count)s times",
                count,
            ),
            "lte": ngettext(
                "who have visited at most %(count)s time",
                "who have visited at most %(count)s times",
                count,
            ),
            "eq": ngettext(
                "who have visited exactly %(count)s time",
                "who have visited exactly %(count)s times",
                count,
            ),
        }
        return Clause(phrases[value["comparison"]] % {"count": count})

    class Meta:
        label = _("Number of visits")
        icon = "history"


class ReturningRule(VisitorRule):
    """The visitor is new (or has no profile) or returning (more than one visit)."""

    state = blocks.ChoiceBlock(
        choices=[("new", _("New")), ("returning", _("Returning"))],
        default="returning",
        label=_("Visitor is"),
    )

    def condition(self, value: Any) -> dict[str, Any]:
        if value["state"] == "returning":
            return {"visitor.returning": True}
        # A visitor without a profile has returning = None: to us they are new.
        return {"visitor.returning": {"$in": [False, None]}}

    def phrase(self, value: Any) -> str:
        if value["state"] == "returning":
            # Translators: a rule phrase after "Visitors" (a relative clause).
            return Clause(gettext("who have visited before"))
        # Translators: a rule phrase after "Visitors".
        return gettext("on their first visit")

    class Meta:
        label = _("New or returning visitor")
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
            # Translators: a rule phrase after "Visitors" (a relative clause).
            return Clause(gettext("whose first visit was today"))
        # Translators: rule phrases after "Visitors" (relative clauses).
        phrases = {
            "gte": ngettext(
                "whose first visit was at least %(count)s day ago",
                "whose first visit was at least %(count)s days ago",
                days,
            ),
            "lte": ngettext(
                "whose first visit was at most %(count)s day ago",
                "whose first visit was at most %(count)s days ago",
                days,
            ),
            "eq": ngettext(
                "whose first visit was exactly %(count)s day ago",
                "whose first visit was exactly %(count)s days ago",
                days,
            ),
        }
        return Clause(phrases[value["comparison"]] % {"count": days})

    class Meta:
        label = _("Days since first visit")
        icon = "calendar"


class ScoreRule(VisitorRule):
    """The visitor's (decayed) engagement score is at least / below a number."""

    comparison = blocks.ChoiceBlock(
        choices=[(key, text) for key, (_operator, text) in _SCORE_COMPARISONS.items()],
        default="gte",
    )
    score = blocks.FloatBlock(
        min_value=0, help_text=_("Scores decay over time and are never negative")
    )

    def condition(self, value: Any) -> dict[str, Any]:
        operator = _SCORE_COMPARISONS[value["comparison"]][0]
        return {"visitor.score": {operator: _number(value["score"])}}

    def phrase(self, value: Any) -> str:
        score = _number(value["score"])
        if value["comparison"] == "lt":
            # Translators: a rule phrase after "Visitors", e.g. "with an engagement score below 20".
            return gettext("with an engagement score below %(score)s") % {"score": score}
        # Translators: a rule phrase after "Visitors", e.g. "with an engagement score of at least
        # 80".
        return gettext("with an engagement score of at least %(score)s") % {"score": score}

    def clean(self, value: Any) -> Any:
        value = super().clean(value)
        if value["comparison"] == "lt" and value["score"] <= 0:
            raise invalid("score", gettext("No score is below 0: enter a number above 0."))
        return value

    class Meta:
        label = _("Engagement score")
        icon = "sliders"


_STAGE_ATTRIBUTES = {"stage": "visitor.stage", "peak_stage": "visitor.peak_stage"}


class JourneyStageRule(VisitorRule):
    """The visitor's current (or highest reached) journey stage is one of / at least a stage."""

    attribute = blocks.ChoiceBlock(
        choices=[("stage", _("Current stage")), ("peak_stage", _("Highest stage reached"))],
        default="stage",
        label=_("Compare"),
    )
    operator = blocks.ChoiceBlock(
        choices=[("in", _("is one of")), ("at_least", _("is at least"))], default="in"
    )
    stages = blocks.MultipleChoiceBlock(
        choices=stage_choices,
        required=False,
        help_text=_("For “is one of”"),
        widget=CheckboxGroup(label=_("Stages")),
    )
    stage = blocks.ChoiceBlock(
        choices=stage_choices,
        required=False,
        help_text=_("For “is at least”: this stage or any later one"),
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
        current = value["attribute"] == "stage"
        # Translators: rule phrases after "Visitors" (relative clauses); %(stage)s and
        # %(stages)s are the names of journey stages, e.g. "whose journey stage is intent or
        # later".
        if value["operator"] == "at_least":
            if current:
                text = gettext("whose journey stage is %(stage)s or later")
            else:
                text = gettext("whose highest journey stage is %(stage)s or later")
            return Clause(text % {"stage": value["stage"]})
        if current:
            text = gettext("whose journey stage is %(stages)s")
        else:
            text = gettext("whose highest journey stage is %(stages)s")
        return Clause(text % {"stages": join_or(list(value["stages"]))})

    def clean(self, value: Any) -> Any:
        value = super().clean(value)
        if value["operator"] == "at_least" and not value["stage"]:
            raise invalid("stage", gettext("Choose the stage to compare with."))
        if value["operator"] == "in" and not value["stages"]:
            raise invalid("stages", gettext("Choose at least one stage."))
        return value

    class Meta:
        label = _("Journey stage")
        icon = "order"
