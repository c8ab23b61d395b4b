"""Visitor rule blocks: visits, new/returning, score, journey stage, interests, prefs, consent."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from wagtail.blocks.struct_block import StructBlockValidationError
from wagtail.test.utils.form_data import streamfield

from personalize.models import Segment
from personalize.rule_blocks import RuleGroup, SegmentRulesBlock, leaf_rule_blocks, visitor
from personalize.rule_blocks.consent import ConsentRule, GpcRule
from personalize.rule_blocks.interests import InterestRule, PreferenceRule
from personalize.rule_blocks.visitor import (
    DaysSinceFirstVisitRule,
    JourneyStageRule,
    ReturningRule,
    ScoreRule,
    VisitsRule,
    clean_key,
)
from personalize.rules import compile_condition

STAGES = ["awareness", "interest", "consideration", "intent"]
#: The real stage_names (the autouse fixture replaces it in the module).
REAL_STAGE_NAMES = visitor.stage_names

#: The attributes of a visitor without a profile (no consent given).
NO_PROFILE: dict[str, Any] = {
    "consent": ["necessary"],
    "gpc": False,
    "visitor": {
        "visits": None,
        "returning": None,
        "days_since_first_visit": None,
        "score": None,
        "stage": None,
        "peak_stage": None,
        "interests": {},
        "prefs": {},
    },
}


def _profile(**fields: Any) -> dict[str, Any]:
    """Attributes of a consenting visitor with a profile; ``fields`` override ``visitor.*``."""
    attributes: dict[str, Any] = {
        "consent": ["necessary", "personalization"],
        "gpc": False,
        "visitor": {
            "visits": 1,
            "returning": False,
            "days_since_first_visit": 0,
            "score": 0.0,
            "stage": "awareness",
            "peak_stage": "awareness",
            "interests": {},
            "prefs": {},
        },
    }
    attributes["visitor"].update(fields)
    return attributes


@pytest.fixture(autouse=True)
def _stages(monkeypatch: pytest.MonkeyPatch) -> None:
    """The default journey stages, independent of the scoring configuration."""
    monkeypatch.setattr(visitor, "stage_names", lambda: list(STAGES))


def _parts(block: Any, raw: dict[str, Any]) -> tuple[dict[str, Any], str]:
    value = block.to_python(raw)
    return block.condition(value), block.phrase(value)


def _errors(block: Any, raw: dict[str, Any]) -> dict[str, list[str]]:
    with pytest.raises(StructBlockValidationError) as info:
        block.clean(block.to_python(raw))
    return {name: list(error.messages) for name, error in info.value.block_errors.items()}


def _matches(segment: Segment, attributes: dict[str, Any]) -> bool:
    return compile_condition(segment.condition)(attributes)


# Registration


def test_visitor_blocks_registered_as_a_group_after_user_blocks() -> None:
    names = [name for name, _ in leaf_rule_blocks()]
    visitor_names = [
        "visits",
        "returning",
        "days_since_first_visit",
        "score",
        "journey_stage",
        "interest",
        "preference",
        "consent",
        "gpc",
    ]
    start = names.index("profile_field") + 1
    assert names[start : start + len(visitor_names)] == visitor_names
    groups = {
        group: [b.name for b in items]
        for group, items in SegmentRulesBlock().grouped_child_blocks()
    }
    assert list(groups) == ["", "Visitor"]
    assert groups["Visitor"] == visitor_names
    assert "rule_group" in groups[""]
    nested = RuleGroup().child_blocks["rules"]
    # Wagtail 7 hands out itertools.groupby's iterators: read each group while iterating.
    nested_groups = {g: [b.name for b in items] for g, items in nested.grouped_child_blocks()}
    assert nested_groups["Visitor"] == visitor_names


def test_every_visitor_block_has_label_and_icon() -> None:
    blocks = dict(leaf_rule_blocks())
    labels = {
        name: blocks[name].meta.label
        for name in ("visits", "returning", "score", "journey_stage", "consent", "gpc")
    }
    assert labels == {
        "visits": "Number of visits",
        "returning": "New or returning visitor",
        "score": "Engagement score",
        "journey_stage": "Journey stage",
        "consent": "Consent given for",
        "gpc": "Global Privacy Control sent",
    }
    assert all(blocks[name].meta.icon != "cog" for name in labels)


# Number of visits


@pytest.mark.parametrize(
    ("comparison", "number", "condition", "phrase"),
    [
        ("gte", 3, {"visitor.visits": {"$gte": 3}}, "who have visited at least 3 times"),
        ("lte", 1, {"visitor.visits": {"$lte": 1}}, "who have visited at most 1 time"),
        ("eq", 2, {"visitor.visits": {"$eq": 2}}, "who have visited exactly 2 times"),
    ],
)
def test_visits_condition_and_phrase(
    comparison: str, number: int, condition: dict[str, Any], phrase: str
) -> None:
    assert _parts(VisitsRule(), {"comparison": comparison, "number": number}) == (
        condition,
        phrase,
    )


def test_visits_needs_at_least_one() -> None:
    errors = _errors(VisitsRule(), {"comparison": "lte", "number": 0})
    assert errors == {"number": ["Ensure this value is greater than or equal to 1."]}
    assert _errors(VisitsRule(), {"comparison": "gte", "number": None}) == {
        "number": ["This field is required."]
    }


# New or returning


def test_returning_condition_and_phrase() -> None:
    assert _parts(ReturningRule(), {"state": "returning"}) == (
        {"visitor.returning": True},
        "who have visited before",
    )
    assert _parts(ReturningRule(), {"state": "new"}) == (
        {"visitor.returning": {"$in": [False, None]}},
        "on their first visit",
    )


def test_new_matches_visitors_without_profile_and_returning_does_not(
    segment_factory: Any,
) -> None:
    new = segment_factory(rules=[{"type": "returning", "value": {"state": "new"}}])
    back = segment_factory(rules=[{"type": "returning", "value": {"state": "returning"}}])
    assert new.summary == "Visitors on their first visit"
    assert back.summary == "Visitors who have visited before"
    cases = {
        "no profile": NO_PROFILE,
        "no attributes at all": {},
        "first visit": _profile(visits=1, returning=False),
        "third visit": _profile(visits=3, returning=True),
    }
    assert {name: _matches(new, attrs) for name, attrs in cases.items()} == {
        "no profile": True,
        "no attributes at all": True,
        "first visit": True,
        "third visit": False,
    }
    assert {name: _matches(back, attrs) for name, attrs in cases.items()} == {
        "no profile": False,
        "no attributes at all": False,
        "first visit": False,
        "third visit": True,
    }


def test_visits_segment_matches(segment_factory: Any) -> None:
    segment = segment_factory(
        rules=[{"type": "visits", "value": {"comparison": "gte", "number": 3}}]
    )
    assert segment.condition == {"$and": [{"visitor.visits": {"$gte": 3}}]}
    assert segment.summary == "Visitors who have visited at least 3 times"
    assert _matches(segment, _profile(visits=3)) is True
    assert _matches(segment, _profile(visits=2)) is False
    assert _matches(segment, NO_PROFILE) is False


# Days since first visit


@pytest.mark.parametrize(
    ("comparison", "days", "condition", "phrase"),
    [
        (
            "gte",
            7,
            {"visitor.days_since_first_visit": {"$gte": 7}},
            "whose first visit was at least 7 days ago",
        ),
        (
            "lte",
            1,
            {"visitor.days_since_first_visit": {"$lte": 1}},
            "whose first visit was at most 1 day ago",
        ),
        (
            "eq",
            0,
            {"visitor.days_since_first_visit": {"$eq": 0}},
            "whose first visit was today",
        ),
        (
            "lte",
            0,
            {"visitor.days_since_first_visit": {"$lte": 0}},
            "whose first visit was today",
        ),
        (
            "gte",
            0,
            {"visitor.days_since_first_visit": {"$gte": 0}},
            "whose first visit was at least 0 days ago",
        ),
    ],
)
def test_days_since_first_visit_condition_and_phrase(
    comparison: str, days: int, condition: dict[str, Any], phrase: str
) -> None:
    raw = {"comparison": comparison, "days": days}
    assert _parts(DaysSinceFirstVisitRule(), raw) == (condition, phrase)


def test_days_since_first_visit_rejects_negative() -> None:
    assert _errors(DaysSinceFirstVisitRule(), {"comparison": "gte", "days": -1}) == {
        "days": ["Ensure this value is greater than or equal to 0."]
    }


def test_days_since_first_visit_segment_matches(segment_factory: Any) -> None:
    segment = segment_factory(
        rules=[{"type": "days_since_first_visit", "value": {"comparison": "gte", "days": 30}}]
    )
    assert _matches(segment, _profile(days_since_first_visit=30)) is True
    assert _matches(segment, _profile(days_since_first_visit=29)) is False
    assert _matches(segment, NO_PROFILE) is False


# Engagement score


def test_score_condition_and_phrase() -> None:
    assert _parts(ScoreRule(), {"comparison": "gte", "score": 50.0}) == (
        {"visitor.score": {"$gte": 50}},
        "with an engagement score of at least 50",
    )
    assert _parts(ScoreRule(), {"comparison": "lt", "score": 12.5}) == (
        {"visitor.score": {"$lt": 12.5}},
        "with an engagement score below 12.5",
    )


def test_score_validation() -> None:
    assert _errors(ScoreRule(), {"comparison": "lt", "score": 0}) == {
        "score": ["No score is below 0: enter a number above 0."]
    }
    assert _errors(ScoreRule(), {"comparison": "gte", "score": -5}) == {
        "score": ["Ensure this value is greater than or equal to 0."]
    }


def test_score_segment_matches(segment_factory: Any) -> None:
    high = segment_factory(rules=[{"type": "score", "value": {"comparison": "gte", "score": 50}}])
    low = segment_factory(rules=[{"type": "score", "value": {"comparison": "lt", "score": 20}}])
    assert high.condition == {"$and": [{"visitor.score": {"$gte": 50}}]}
    assert [_matches(high, _profile(score=s)) for s in (49.99, 50.0, 80.25)] == [
        False,
        True,
        True,
    ]
    assert [_matches(low, _profile(score=s)) for s in (0.0, 19.99, 20.0)] == [True, True, False]
    # Unknown is not "low": a visitor without a profile has no score at all.
    assert _matches(low, NO_PROFILE) is False


# Journey stage


@pytest.mark.parametrize(
    ("raw", "condition", "phrase"),
    [
        (
            {"attribute": "stage", "operator": "in", "stages": ["consideration", "intent"]},
            {"visitor.stage": {"$in": ["consideration", "intent"]}},
            "whose journey stage is consideration or intent",
        ),
        (
            {"attribute": "stage", "operator": "at_least", "stage": "interest"},
            {"visitor.stage": {"$in": ["interest", "consideration", "intent"]}},
            "whose journey stage is interest or later",
        ),
        (
            {"attribute": "peak_stage", "operator": "at_least", "stage": "consideration"},
            {"visitor.peak_stage": {"$in": ["consideration", "intent"]}},
            "whose highest journey stage is consideration or later",
        ),
        (
            {"attribute": "peak_stage", "operator": "in", "stages": ["awareness"]},
            {"visitor.peak_stage": {"$in": ["awareness"]}},
            "whose highest journey stage is awareness",
        ),
    ],
)
def test_journey_stage_condition_and_phrase(
    raw: dict[str, Any], condition: dict[str, Any], phrase: str
) -> None:
    raw = {"stages": [], "stage": "", **raw}
    assert _parts(JourneyStageRule(), raw) == (condition, phrase)


def test_journey_stage_at_least_uses_stage_list_at_save_time(
    monkeypatch: pytest.MonkeyPatch, segment_factory: Any
) -> None:
    monkeypatch.setattr(visitor, "stage_names", lambda: ["cold", "warm", "hot", "customer"])
    rule = {
        "type": "journey_stage",
        "value": {"attribute": "stage", "operator": "at_least", "stages": [], "stage": "warm"},
    }
    segment = segment_factory(rules=[rule])
    assert segment.condition == {"$and": [{"visitor.stage": {"$in": ["warm", "hot", "customer"]}}]}
    assert segment.summary == "Visitors whose journey stage is warm or later"
    blank, *choices = JourneyStageRule().child_blocks["stage"].field.choices
    assert blank[0] == ""  # its label differs between Wagtail versions
    assert choices == [
        ("cold", "cold"),
        ("warm", "warm"),
        ("hot", "hot"),
        ("customer", "customer"),
    ]


def test_journey_stage_unknown_stage_compiles_to_itself() -> None:
    # A stage removed after the segment was saved: the condition still names only that stage.
    raw = {"attribute": "stage", "operator": "at_least", "stages": [], "stage": "gone"}
    assert _parts(JourneyStageRule(), raw)[0] == {"visitor.stage": {"$in": ["gone"]}}


def test_stage_names_reads_scoring_config_in_threshold_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import personalize.profiles.scoring
    from personalize.rules.scoring import Stage

    class Config:
        stages = (Stage("hot", 70), Stage("cold", 0), Stage("warm", 30))

    monkeypatch.setattr(personalize.profiles.scoring, "current_config", lambda: Config())
    assert REAL_STAGE_NAMES() == ["cold", "warm", "hot"]
    monkeypatch.setattr(visitor, "stage_names", REAL_STAGE_NAMES)
    assert visitor.stage_choices() == [("cold", "cold"), ("warm", "warm"), ("hot", "hot")]


def test_journey_stage_validation() -> None:
    block = JourneyStageRule()
    base = {"attribute": "stage", "stages": [], "stage": ""}
    assert _errors(block, {**base, "operator": "in"}) == {"stages": ["Choose at least one stage."]}
    assert _errors(block, {**base, "operator": "at_least"}) == {
        "stage": ["Choose the stage to compare with."]
    }
    assert _errors(block, {**base, "operator": "at_least", "stage": "gone"}) == {
        "stage": ["Select a valid choice. gone is not one of the available choices."]
    }


def test_journey_stage_segments_match(segment_factory: Any) -> None:
    current = segment_factory(
        rules=[
            {
                "type": "journey_stage",
                "value": {"attribute": "stage", "operator": "at_least", "stage": "consideration"},
            }
        ]
    )
    peak = segment_factory(
        rules=[
            {
                "type": "journey_stage",
                "value": {"attribute": "peak_stage", "operator": "in", "stages": ["intent"]},
            }
        ]
    )
    cooled_down = _profile(stage="interest", peak_stage="intent")
    assert _matches(current, _profile(stage="intent", peak_stage="intent")) is True
    assert _matches(current, _profile(stage="consideration")) is True
    assert _matches(current, cooled_down) is False
    assert _matches(peak, cooled_down) is True
    assert _matches(peak, _profile(stage="consideration", peak_stage="consideration")) is False
    assert _matches(current, NO_PROFILE) is False
    assert _matches(peak, NO_PROFILE) is False


# Interest in a topic


def test_interest_condition_and_phrase() -> None:
    assert _parts(InterestRule(), {"tag": "Skiing", "points": 1.0}) == (
        {"visitor.interests.skiing": {"$gte": 1}},
        "interested in “skiing”",
    )
    assert _parts(InterestRule(), {"tag": " Winter Sports ", "points": 2.5}) == (
        {"visitor.interests.winter sports": {"$gte": 2.5}},
        "interested in “winter sports” (at least 2.5 points)",
    )


def test_interest_points_default_to_one() -> None:
    assert InterestRule().get_default()["points"] == 1


@pytest.mark.parametrize(
    ("tag", "message"),
    [
        ("", "This field is required."),
        ("   ", "This field is required."),
        ("ski.touring", "A tag cannot contain “.” (it separates the parts of a path)."),
        ("x" * 101, "A tag has at most 100 characters."),
    ],
)
def test_interest_rejects_tags_that_are_no_path_segment(tag: str, message: str) -> None:
    assert _errors(InterestRule(), {"tag": tag, "points": 1}) == {"tag": [message]}


def test_interest_rejects_points_of_zero_or_less() -> None:
    assert _errors(InterestRule(), {"tag": "ski", "points": 0}) == {
        "points": ["Enter a number of points above 0."]
    }


def test_interest_clean_lower_cases_the_tag() -> None:
    block = InterestRule()
    cleaned = block.clean(block.to_python({"tag": "  Skiing ", "points": 3}))
    assert cleaned["tag"] == "skiing"


def test_interest_segment_matches(segment_factory: Any) -> None:
    segment = segment_factory(rules=[{"type": "interest", "value": {"tag": "Skiing", "points": 3}}])
    assert segment.condition == {"$and": [{"visitor.interests.skiing": {"$gte": 3}}]}
    assert _matches(segment, _profile(interests={"skiing": 3.2, "golf": 9.0})) is True
    assert _matches(segment, _profile(interests={"skiing": 2.99})) is False
    assert _matches(segment, _profile(interests={"golf": 9.0})) is False
    assert _matches(segment, NO_PROFILE) is False


def test_clean_key_returns_stripped_key() -> None:
    assert clean_key("  language ", "key") == "language"
    with pytest.raises(ValueError, match="Enter a key"):
        clean_key(None, "key")
    # Code that bypasses the form (rules set directly) still cannot compile a bad path.
    with pytest.raises(ValueError, match="Enter a tag"):
        InterestRule().condition(InterestRule().to_python({"tag": " ", "points": 1}))


# Stated preference


@pytest.mark.parametrize(
    ("raw", "condition", "phrase"),
    [
        (
            {"key": "language", "operator": "eq", "value": "de"},
            {"visitor.prefs.language": {"$eq": "de"}},
            "whose preference “language” is “de”",
        ),
        (
            {"key": "language", "operator": "in", "value": "de, fr,"},
            {"visitor.prefs.language": {"$in": ["de", "fr"]}},
            "whose preference “language” is “de” or “fr”",
        ),
        (
            {"key": " newsletter ", "operator": "exists", "value": ""},
            {"visitor.prefs.newsletter": {"$exists": True}},
            "who have set the preference “newsletter”",
        ),
    ],
)
def test_preference_condition_and_phrase(
    raw: dict[str, Any], condition: dict[str, Any], phrase: str
) -> None:
    assert _parts(PreferenceRule(), raw) == (condition, phrase)


@pytest.mark.parametrize(
    ("raw", "errors"),
    [
        (
            {"key": "lang.code", "operator": "eq", "value": "de"},
            {"key": ["A key cannot contain “.” (it separates the parts of a path)."]},
        ),
        (
            {"key": "k" * 101, "operator": "exists", "value": ""},
            {"key": ["A key has at most 100 characters."]},
        ),
        (
            {"key": "language", "operator": "eq", "value": ""},
            {"value": ["Enter a value to compare with."]},
        ),
        (
            {"key": "language", "operator": "in", "value": " , "},
            {"value": ["Enter a value to compare with."]},
        ),
    ],
)
def test_preference_validation(raw: dict[str, Any], errors: dict[str, list[str]]) -> None:
    assert _errors(PreferenceRule(), raw) == errors


def test_preference_segments_match(segment_factory: Any) -> None:
    one_of = segment_factory(
        rules=[
            {
                "type": "preference",
                "value": {"key": "language", "operator": "in", "value": "de, fr"},
            }
        ]
    )
    is_set = segment_factory(
        rules=[
            {
                "type": "preference",
                "value": {"key": "newsletter", "operator": "exists", "value": ""},
            }
        ]
    )
    assert _matches(one_of, _profile(prefs={"language": "fr"})) is True
    assert _matches(one_of, _profile(prefs={"language": "en"})) is False
    assert _matches(one_of, _profile(prefs={"language": "FR"})) is False
    assert _matches(is_set, _profile(prefs={"newsletter": "weekly"})) is True
    assert _matches(is_set, _profile(prefs={"language": "de"})) is False
    assert _matches(one_of, NO_PROFILE) is False
    assert _matches(is_set, NO_PROFILE) is False


# Consent and Global Privacy Control


def test_consent_condition_and_phrase() -> None:
    assert _parts(ConsentRule(), {"purpose": "analytics"}) == (
        {"consent": {"$all": ["analytics"]}},
        "who consented to analytics",
    )
    assert _parts(ConsentRule(), {"purpose": "personalization"})[1] == (
        "who consented to personalization"
    )


def test_consent_rejects_unknown_purpose() -> None:
    assert _errors(ConsentRule(), {"purpose": "necessary"}) == {
        "purpose": ["Select a valid choice. necessary is not one of the available choices."]
    }


def test_consent_segment_matches(segment_factory: Any) -> None:
    segment = segment_factory(rules=[{"type": "consent", "value": {"purpose": "analytics"}}])
    assert _matches(segment, {"consent": ["necessary", "analytics"]}) is True
    assert _matches(segment, {"consent": ["necessary", "personalization"]}) is False
    assert _matches(segment, NO_PROFILE) is False
    assert _matches(segment, {}) is False


def test_gpc_condition_and_phrase() -> None:
    assert _parts(GpcRule(), {"sent": "yes"}) == (
        {"gpc": True},
        "whose browser sends Global Privacy Control",
    )
    assert _parts(GpcRule(), {"sent": "no"}) == (
        {"gpc": {"$in": [False, None]}},
        "whose browser does not send Global Privacy Control",
    )


def test_gpc_segments_match(segment_factory: Any) -> None:
    sent = segment_factory(rules=[{"type": "gpc", "value": {"sent": "yes"}}])
    not_sent = segment_factory(rules=[{"type": "gpc", "value": {"sent": "no"}}])
    assert [_matches(sent, {"gpc": v}) for v in (True, False, None)] == [True, False, False]
    assert [_matches(not_sent, {"gpc": v}) for v in (True, False, None)] == [False, True, True]


# Segments combining visitor rules


def test_combined_visitor_rules_sentence_and_match(segment_factory: Any) -> None:
    segment = segment_factory(
        "Engaged skiers",
        rules=[
            {"type": "returning", "value": {"state": "returning"}},
            {"type": "interest", "value": {"tag": "skiing", "points": 1}},
            {"type": "consent", "value": {"purpose": "personalization"}},
        ],
    )
    assert segment.summary == (
        "Visitors who have visited before interested in “skiing” who consented to personalization"
    )
    skier = _profile(visits=4, returning=True, interests={"skiing": 1.5})
    assert _matches(segment, skier) is True
    assert _matches(segment, {**skier, "consent": ["necessary"]}) is False


def test_visitor_rules_inside_a_group(segment_factory: Any) -> None:
    group = {
        "type": "rule_group",
        "value": {
            "match": "any",
            "rules": [
                {"type": "visits", "value": {"comparison": "gte", "number": 5}},
                {"type": "score", "value": {"comparison": "gte", "score": 80}},
            ],
        },
    }
    segment = segment_factory(rules=[group])
    assert segment.condition == {
        "$and": [{"$or": [{"visitor.visits": {"$gte": 5}}, {"visitor.score": {"$gte": 80}}]}]
    }
    assert segment.summary == (
        "Visitors (who have visited at least 5 times, or with an engagement score of at least 80)"
    )
    assert _matches(segment, _profile(visits=5, score=0.0)) is True
    assert _matches(segment, _profile(visits=1, score=80.0)) is True
    assert _matches(segment, _profile(visits=1, score=10.0)) is False


def test_invalid_visitor_rule_rejected_on_save(segment_factory: Any) -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="cannot contain"):
        segment_factory(rules=[{"type": "interest", "value": {"tag": "a.b", "points": 1}}])
    assert not Segment.objects.exists()


# The admin form


@pytest.fixture
def editor_client(client: Any, db: Any) -> Any:
    admin = User.objects.create_superuser("admin", "admin@example.com", "pw")
    client.force_login(admin)
    return client


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Like wagtail's nested_form_data, but lists stay lists (multiple-choice fields)."""
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}-"))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _form(rules: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    return _flatten(
        {
            "name": "Hot leads",
            "slug": "hot-leads",
            "description": "",
            "enabled": "on",
            "match": "all",
            "rules": streamfield(rules),
        }
    )


def test_admin_form_offers_visitor_group(editor_client: Any) -> None:
    html = editor_client.get(reverse("wagtailsnippets_personalize_segment:add")).content.decode()
    assert "Journey stage" in html
    assert "Interested in topic" in html
    assert "Global Privacy Control sent" in html
    assert "consideration" in html


def test_admin_saves_visitor_rules(editor_client: Any) -> None:
    url = reverse("wagtailsnippets_personalize_segment:add")
    response = editor_client.post(
        url,
        _form(
            [
                (
                    "journey_stage",
                    {"attribute": "peak_stage", "operator": "at_least", "stage": "intent"},
                ),
                ("interest", {"tag": "Pricing", "points": "2"}),
            ]
        ),
    )
    assert response.status_code == 302
    segment = Segment.objects.get(slug="hot-leads")
    assert segment.condition == {
        "$and": [
            {"visitor.peak_stage": {"$in": ["intent"]}},
            {"visitor.interests.pricing": {"$gte": 2}},
        ]
    }
    assert segment.summary == (
        "Visitors whose highest journey stage is intent or later interested in “pricing” "
        "(at least 2 points)"
    )


def test_admin_shows_tag_error(editor_client: Any) -> None:
    url = reverse("wagtailsnippets_personalize_segment:add")
    response = editor_client.post(url, _form([("interest", {"tag": "ski.touring", "points": "1"})]))
    assert response.status_code == 200
    error = response.context["form"].errors.as_data()["rules"][0]
    assert error.block_errors[0].block_errors["tag"].messages == [
        "A tag cannot contain “.” (it separates the parts of a path)."
    ]
    assert "A tag cannot contain \\u201c.\\u201d" in response.content.decode()
    assert not Segment.objects.filter(slug="hot-leads").exists()
