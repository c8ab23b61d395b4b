"""Interaction scoring: decay, caps, visits, stages, identity merge and stored profiles."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from personalize.rules.scoring import (
    DEFAULT_HALF_LIFE_DAYS,
    DEFAULT_STAGES,
    INTEREST_POINTS,
    MAX_INTERESTS,
    MAX_MERGES,
    MAX_PREFS,
    TRIGGERS,
    VISIT_TIMEOUT,
    Event,
    ProfileState,
    ScoringRule,
    Stage,
    apply_event,
    decay,
    decayed,
    empty_visitor_attributes,
    merge,
    needs_write,
    profile_attributes,
    stage_for,
)

PROPERTY = settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

DAY = 86400.0
T0 = 1_700_000_000.0
VIEW = Event("page_view", page_id=7, page_type="blog.blogpage", tags=("Ski",))


def rule(
    trigger: str = "page", target: str = "7", points: float = 10, **kwargs: Any
) -> ScoringRule:
    return ScoringRule(
        key=f"rule:{trigger}", trigger=trigger, target=target, points=points, **kwargs
    )


def apply(state: ProfileState, event: Event, rules: list[ScoringRule], now: float) -> ProfileState:
    return apply_event(state, event, rules, {}, now)


# Constants and rules.


def test_defaults() -> None:
    assert DEFAULT_HALF_LIFE_DAYS == 30.0
    assert VISIT_TIMEOUT == 1800
    assert INTEREST_POINTS == 1.0
    assert TRIGGERS == ("page", "page_type", "tag", "form", "download", "event", "attribute")
    assert [(stage.name, stage.threshold) for stage in DEFAULT_STAGES] == [
        ("awareness", 0),
        ("interest", 20),
        ("consideration", 50),
        ("intent", 80),
    ]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"trigger": "click"}, "Unknown scoring trigger 'click'"),
        ({"points": math.nan}, "needs finite points"),
        ({"points": math.inf}, "needs finite points"),
        ({"cap_per_visit": -1}, "negative cap"),
        ({"cap_per_visitor": math.nan}, "negative cap"),
    ],
)
def test_scoring_rules_refuse_bad_configuration(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        rule(**kwargs)


# Decay.


@pytest.mark.parametrize(
    ("elapsed_days", "half_life_days", "expected"),
    [
        (30, 30, 50.0),
        (60, 30, 25.0),
        (90, 30, 12.5),
        (7, 7, 50.0),
        (15, 30, 70.71067811865476),
        (0, 30, 100.0),
        (-10, 30, 100.0),
        (30, 0, 100.0),
        (30, -1, 100.0),
        (math.inf, 30, 0.0),
        (math.nan, 30, 100.0),
    ],
)
def test_decay(elapsed_days: float, half_life_days: float, expected: float) -> None:
    assert decay(100.0, elapsed_days * DAY, half_life_days) == pytest.approx(expected)


def test_decayed_fades_score_and_interests_but_not_the_peak() -> None:
    state = ProfileState(
        score=40,
        peak_score=90,
        decayed_at=T0,
        interests={"ski": 8.0, "golf": 0.015},
    )

    faded = decayed(state, T0 + 30 * DAY, 30)

    assert faded.score == 20.0
    assert faded.peak_score == 90
    # 0.015 halves to 0.0075, below 0.01: forgotten.
    assert faded.interests == {"ski": 4.0}
    assert faded.decayed_at == T0 + 30 * DAY
    assert state.interests == {"ski": 8.0, "golf": 0.015}


def test_decayed_starts_the_clock_on_a_profile_never_decayed() -> None:
    faded = decayed(ProfileState(score=10), T0, 30)

    assert (faded.score, faded.decayed_at) == (10, T0)


def test_decayed_never_moves_back_in_time() -> None:
    faded = decayed(ProfileState(score=10, decayed_at=T0), T0 - DAY, 30)

    assert (faded.score, faded.decayed_at) == (10, T0)


# Stages.


@pytest.mark.parametrize(
    ("score", "stage"),
    [
        (-5, "awareness"),
        (0, "awareness"),
        (19.99, "awareness"),
        (20, "interest"),
        (49.99, "interest"),
        (50, "consideration"),
        (79.99, "consideration"),
        (80, "intent"),
        (10_000, "intent"),
        (math.nan, "awareness"),
    ],
)
def test_stage_for_the_default_stages(score: float, stage: str) -> None:
    assert stage_for(score, DEFAULT_STAGES) == stage


def test_stage_for_takes_stages_in_any_order() -> None:
    stages = [Stage("hot", 100), Stage("cold", 10), Stage("warm", 40)]

    assert stage_for(5, stages) == "cold"
    assert stage_for(40, stages) == "warm"
    assert stage_for(100, stages) == "hot"
    assert stage_for(50, iter(stages)) == "warm"


def test_stage_for_without_stages_is_empty() -> None:
    assert stage_for(50, ()) == ""


# Applying events.


def test_first_page_view_starts_a_profile() -> None:
    state = apply(ProfileState(), VIEW, [rule()], T0)

    assert state == ProfileState(
        visits=1,
        first_seen=T0,
        last_seen=T0,
        score=10,
        peak_score=10,
        decayed_at=T0,
        interests={"ski": 1.0},
        visit_points={"rule:page": 10},
        total_points={"rule:page": 10},
    )


@pytest.mark.parametrize(
    ("gap", "visits"),
    [(1, 1), (VISIT_TIMEOUT - 1, 1), (VISIT_TIMEOUT, 1), (VISIT_TIMEOUT + 0.5, 2), (DAY, 2)],
)
def test_a_visit_ends_after_thirty_minutes_of_inactivity(gap: float, visits: int) -> None:
    state = apply(ProfileState(), VIEW, [], T0)

    state = apply(state, VIEW, [], T0 + gap)

    assert state.visits == visits
    assert (state.first_seen, state.last_seen) == (T0, T0 + gap)


def test_visits_are_measured_from_the_last_event() -> None:
    state = ProfileState()
    for minute in range(0, 120, 20):
        state = apply(state, VIEW, [], T0 + minute * 60)

    assert state.visits == 1
    assert state.last_seen == T0 + 100 * 60


def test_visit_timeout_is_configurable() -> None:
    state = apply(ProfileState(), VIEW, [], T0)

    state = apply_event(state, VIEW, [], {}, T0 + 120, visit_timeout=60)

    assert state.visits == 2


def test_cap_per_visit_limits_a_visit_and_resets_on_the_next() -> None:
    capped = rule(points=10, cap_per_visit=25)
    state = ProfileState()
    scores = []
    for now in (T0, T0 + 60, T0 + 120, T0 + 180, T0 + DAY, T0 + DAY + 60, T0 + DAY + 120):
        state = apply_event(state, VIEW, [capped], {}, now, half_life_days=0)
        scores.append(state.score)

    assert scores == [10, 20, 25, 25, 35, 45, 50]
    assert state.visit_points == {"rule:page": 25}
    assert state.total_points == {"rule:page": 50}
    assert state.visits == 2


def test_cap_per_visitor_never_resets() -> None:
    capped = rule(points=10, cap_per_visitor=15)
    state = ProfileState()
    for now in (T0, T0 + DAY, T0 + 2 * DAY):
        state = apply_event(state, VIEW, [capped], {}, now, half_life_days=0)

    assert state.score == 15
    assert state.total_points == {"rule:page": 15}
    # The rule gave nothing in the third visit, so it has no points there.
    assert state.visit_points == {}


def test_negative_points_lower_the_score_and_the_score_stays_at_least_zero() -> None:
    up = rule(points=30)
    down = ScoringRule(key="rule:unsubscribe", trigger="event", target="unsubscribe", points=-20)
    state = apply_event(ProfileState(), VIEW, [up, down], {}, T0, half_life_days=0)

    state = apply_event(state, Event("unsubscribe"), [up, down], {}, T0 + 60, half_life_days=0)
    assert (state.score, state.peak_score) == (10, 30)

    state = apply_event(state, Event("unsubscribe"), [up, down], {}, T0 + 120, half_life_days=0)
    assert (state.score, state.peak_score) == (0, 30)
    assert state.total_points == {"rule:page": 30, "rule:unsubscribe": -40}


def test_caps_bound_the_absolute_value_of_negative_points() -> None:
    down = ScoringRule(
        key="rule:bounce", trigger="event", target="bounce", points=-20, cap_per_visitor=30
    )
    state = ProfileState(score=100, decayed_at=T0)
    for now in (T0, T0 + DAY, T0 + 2 * DAY):
        state = apply_event(state, Event("bounce"), [down], {}, now, half_life_days=0)

    assert state.score == 70
    assert state.total_points == {"rule:bounce": -30}


def test_the_score_is_clamped_after_all_rules_of_an_event() -> None:
    rules = [
        ScoringRule(key="minus", trigger="page", target="7", points=-50),
        ScoringRule(key="plus", trigger="tag", target="ski", points=30),
    ]
    state = ProfileState(score=10, decayed_at=T0)

    state = apply_event(state, VIEW, rules, {}, T0, half_life_days=0)

    assert state.score == 0
    assert state.total_points == {"minus": -50, "plus": 30}


def test_attribute_rules_award_once_per_visitor_when_their_condition_first_holds() -> None:
    def from_germany(attributes: Any) -> bool:
        return bool(attributes.get("geo", {}).get("country") == "DE")

    german = ScoringRule(
        key="rule:de", trigger="attribute", target="", points=5, condition=from_germany
    )
    state = ProfileState()
    state = apply_event(state, VIEW, [german], {"geo": {"country": "FR"}}, T0)
    assert (state.score, state.total_points) == (0, {})

    for now in (T0 + 60, T0 + 120, T0 + DAY):
        state = apply_event(
            state, VIEW, [german], {"geo": {"country": "DE"}}, now, half_life_days=0
        )

    assert state.score == 5
    assert state.total_points == {"rule:de": 5}


def test_an_attribute_rule_that_earns_nothing_is_still_spent() -> None:
    calls: list[int] = []

    def always(attributes: Any) -> bool:
        calls.append(1)
        return True

    spent = ScoringRule(
        key="rule:a", trigger="attribute", target="", points=5, cap_per_visitor=0, condition=always
    )
    state = apply_event(ProfileState(), VIEW, [spent], {}, T0)
    state = apply_event(state, VIEW, [spent], {}, T0 + 60)

    assert state.total_points == {"rule:a": 0}
    assert state.score == 0
    assert len(calls) == 1


def test_an_attribute_rule_without_a_condition_never_awards() -> None:
    state = apply(ProfileState(), VIEW, [rule("attribute", "")], T0)

    assert (state.score, state.total_points) == (0, {})


@pytest.mark.parametrize(
    ("trigger", "target", "event", "points"),
    [
        ("page", "7", VIEW, 10),
        ("page", "8", VIEW, 0),
        ("page", "7", Event("page_view"), 0),
        ("page", "7", Event("form_submit", page_id=7), 0),
        ("page_type", "blog.blogpage", VIEW, 10),
        ("page_type", "blog.blogpage", replace(VIEW, page_type="Blog.BlogPage"), 10),
        ("page_type", "home.homepage", VIEW, 0),
        ("tag", "ski", VIEW, 10),
        ("tag", "SKI", VIEW, 10),
        ("tag", "golf", VIEW, 0),
        ("tag", "ski", Event("download", tags=("ski",)), 0),
        ("form", "contact", Event("form_submit", target="contact"), 10),
        ("form", "contact", Event("form_submit", target="newsletter"), 0),
        ("form", "", Event("form_submit", target="newsletter"), 10),
        ("form", "", Event("form_submit"), 10),
        ("form", "", VIEW, 0),
        ("download", "12", Event("download", target="12"), 10),
        ("download", "12", Event("download", target="13"), 0),
        ("download", "", Event("download", target="13"), 10),
        ("download", "", Event("form_submit", target="13"), 0),
        ("event", "video_play", Event("video_play"), 10),
        ("event", "video_play", Event("video_pause"), 0),
        ("event", "page_view", VIEW, 10),
    ],
)
def test_which_events_each_trigger_matches(
    trigger: str, target: str, event: Event, points: float
) -> None:
    state = apply(ProfileState(), event, [rule(trigger, target)], T0)

    assert state.score == points


def test_page_views_add_interest_per_distinct_lower_case_tag() -> None:
    event = Event("page_view", tags=("Ski", "ski", " Alps ", "", "  "))

    state = apply(ProfileState(), event, [], T0)
    state = apply_event(state, event, [], {}, T0 + 60, interest_points=2.5, half_life_days=0)

    assert state.interests == {"ski": 3.5, "alps": 3.5}


def test_only_page_views_add_interest() -> None:
    state = apply(ProfileState(), Event("download", tags=("ski",), target="3"), [], T0)

    assert state.interests == {}


def test_interests_decay_between_events() -> None:
    state = apply(ProfileState(), VIEW, [rule(points=40)], T0)

    state = apply(state, Event("page_view", tags=("ski",)), [], T0 + 30 * DAY)

    assert state.interests == {"ski": 1.5}
    assert (state.score, state.peak_score) == (20, 40)


def test_tags_are_bounded_and_only_the_strongest_interests_are_kept() -> None:
    interests = {f"tag{index}": index + 0.5 for index in range(MAX_INTERESTS)}
    state = ProfileState(interests=interests, decayed_at=T0, last_seen=T0)

    state = apply(state, Event("page_view", tags=("x" * 150,)), [], T0)

    assert len(state.interests) == MAX_INTERESTS
    assert "tag0" not in state.interests
    assert state.interests["x" * 100] == 1.0


# Skipping writes.


@pytest.mark.parametrize(
    ("event", "rules", "now", "expected"),
    [
        (Event("page_view", page_id=1), [], T0 + 30, False),
        (Event("page_view", page_id=1), [], T0 + 59, False),
        (Event("page_view", page_id=1), [], T0 + 60, True),
        (Event("page_view", page_id=1), [], T0 + VISIT_TIMEOUT + 1, True),
        (Event("page_view", tags=("ski",)), [], T0 + 30, True),
        (Event("page_view", tags=("", " ")), [], T0 + 30, False),
        (Event("download", tags=("ski",)), [], T0 + 30, False),
        (Event("page_view", page_id=7), [rule()], T0 + 30, True),
        (Event("page_view", page_id=8), [rule()], T0 + 30, False),
        # The rule's cap is used up in this visit.
        (Event("page_view", page_id=7), [rule(cap_per_visit=10)], T0 + 30, False),
        (Event("page_view", page_id=7), [rule(cap_per_visit=20)], T0 + 30, True),
    ],
)
def test_needs_write(event: Event, rules: list[ScoringRule], now: float, expected: bool) -> None:
    state = ProfileState(
        visits=1, last_seen=T0, visit_points={"rule:page": 10}, total_points={"rule:page": 10}
    )

    assert needs_write(state, event, rules, now) is expected


def test_needs_write_for_a_new_profile() -> None:
    assert needs_write(ProfileState(), Event("page_view"), [], T0) is True


def test_needs_write_with_custom_intervals() -> None:
    state = ProfileState(visits=1, last_seen=T0)

    assert needs_write(state, Event("page_view"), [], T0 + 100, touch_interval=300) is False
    assert needs_write(state, Event("page_view"), [], T0 + 100, visit_timeout=50) is True


def test_needs_write_for_attribute_rules() -> None:
    holds = ScoringRule(
        key="rule:a", trigger="attribute", target="", points=5, condition=lambda a: "x" in a
    )
    state = ProfileState(visits=1, last_seen=T0)
    spent = replace(state, total_points={"rule:a": 5})

    assert needs_write(state, Event("page_view"), [holds], T0 + 1) is True
    assert needs_write(state, Event("page_view"), [holds], T0 + 1, attributes={"x": 1}) is True
    assert needs_write(state, Event("page_view"), [holds], T0 + 1, attributes={}) is False
    assert needs_write(spent, Event("page_view"), [holds], T0 + 1) is False


def test_skipping_a_write_loses_nothing_but_last_seen() -> None:
    state = apply(ProfileState(), VIEW, [rule()], T0)
    event = Event("page_view", page_id=9)

    applied = apply_event(state, event, [rule()], {}, T0 + 30, half_life_days=0)

    assert needs_write(state, event, [rule()], T0 + 30) is False
    assert replace(applied, last_seen=T0, decayed_at=T0) == state


# Merging.


def test_merge_joins_an_anonymous_profile_into_a_known_one() -> None:
    anonymous = ProfileState(
        visits=2,
        first_seen=T0 - 5 * DAY,
        last_seen=T0,
        score=30,
        peak_score=30,
        decayed_at=T0,
        interests={"ski": 2.0, "golf": 1.0},
        visit_points={"rule:1": 10},
        total_points={"rule:1": 20, "rule:2": 10},
    )
    known = ProfileState(
        visits=5,
        first_seen=T0 - 100 * DAY,
        last_seen=T0 - 30 * DAY,
        score=40,
        peak_score=120,
        decayed_at=T0 - 30 * DAY,
        interests={"ski": 6.0},
        total_points={"rule:1": 15},
    )

    merged = merge(anonymous, known, T0, half_life_days=30, audit={"at": T0})

    assert merged == ProfileState(
        visits=7,
        first_seen=T0 - 100 * DAY,
        last_seen=T0,
        score=50,
        peak_score=120,
        decayed_at=T0,
        interests={"ski": 5.0, "golf": 1.0},
        visit_points={"rule:1": 10},
        total_points={"rule:1": 35, "rule:2": 10},
        merges=({"at": T0},),
    )


def test_merge_raises_the_peak_to_the_merged_score() -> None:
    anonymous = ProfileState(score=60, peak_score=60, decayed_at=T0)
    known = ProfileState(score=50, peak_score=70, decayed_at=T0)

    merged = merge(anonymous, known, T0, audit={})

    assert (merged.score, merged.peak_score) == (110, 110)


def test_merge_of_empty_profiles() -> None:
    merged = merge(ProfileState(), ProfileState(), T0, audit={"id": 1})

    assert merged == ProfileState(decayed_at=T0, merges=({"id": 1},))


@pytest.mark.parametrize(
    ("anonymous_at", "known_at", "winner"),
    [
        (T0 + 1, T0, "anonymous"),
        (T0, T0 + 1, "known"),
        (T0, T0, "known"),
        (None, T0, "known"),
        (T0, None, "anonymous"),
        (None, None, "known"),
    ],
)
def test_merge_keeps_the_more_recent_consent(
    anonymous_at: float | None, known_at: float | None, winner: str
) -> None:
    anonymous = ProfileState(consent=("necessary", "analytics"), consent_at=anonymous_at)
    known = ProfileState(consent=("necessary",), consent_at=known_at)

    merged = merge(anonymous, known, T0, audit={})

    expected = anonymous if winner == "anonymous" else known
    assert (merged.consent, merged.consent_at) == (expected.consent, expected.consent_at)


def test_merge_keeps_the_newest_preference_per_key() -> None:
    anonymous = ProfileState(
        prefs={"lang": "de", "unit": "metric", "theme": "dark", "new": "1", "bare": "a"},
        prefs_at={"lang": T0 + 5, "unit": T0, "theme": T0, "new": T0},
    )
    known = ProfileState(
        prefs={"lang": "en", "unit": "imperial", "theme": "light", "bare": "k", "old": "2"},
        prefs_at={"lang": T0, "unit": T0 + 5, "theme": T0, "old": T0},
    )

    merged = merge(anonymous, known, T0, audit={})

    assert merged.prefs == {
        "lang": "de",
        "unit": "imperial",
        "theme": "light",
        "bare": "k",
        "old": "2",
        "new": "1",
    }
    assert merged.prefs_at == {
        "lang": T0 + 5,
        "unit": T0 + 5,
        "theme": T0,
        "old": T0,
        "new": T0,
    }


def test_a_dated_preference_beats_an_undated_one() -> None:
    anonymous = ProfileState(prefs={"lang": "de"}, prefs_at={"lang": T0})
    known = ProfileState(prefs={"lang": "en"})

    merged = merge(anonymous, known, T0, audit={})

    assert (merged.prefs, merged.prefs_at) == ({"lang": "de"}, {"lang": T0})


def test_merge_audit_entries_are_kept_in_order_for_the_caller_to_check() -> None:
    audit = {"from": "anon:abc", "at": T0}
    anonymous = ProfileState(merges=({"from": "anon:older"},))
    known = ProfileState(merges=({"from": "anon:oldest"},))

    merged = merge(anonymous, known, T0, audit=audit)
    audit["from"] = "changed later"

    assert merged.merges == (
        {"from": "anon:oldest"},
        {"from": "anon:older"},
        {"from": "anon:abc", "at": T0},
    )
    assert any(entry.get("from") == "anon:abc" for entry in merged.merges)
    assert ProfileState.from_json(json.loads(json.dumps(merged.to_json()))) == merged


def test_merge_keeps_the_newest_merge_entries() -> None:
    known = ProfileState(merges=tuple({"n": index} for index in range(MAX_MERGES)))

    merged = merge(ProfileState(), known, T0, audit={"n": "new"})

    assert len(merged.merges) == MAX_MERGES
    assert merged.merges[0] == {"n": 1}
    assert merged.merges[-1] == {"n": "new"}


def test_merge_leaves_its_inputs_alone() -> None:
    anonymous = ProfileState(interests={"ski": 1.0}, total_points={"r": 1.0}, decayed_at=T0)
    known = ProfileState(interests={"ski": 2.0}, total_points={"r": 2.0}, decayed_at=T0)

    merge(anonymous, known, T0, audit={})

    assert (anonymous.interests, anonymous.total_points) == ({"ski": 1.0}, {"r": 1.0})
    assert (known.interests, known.total_points) == ({"ski": 2.0}, {"r": 2.0})


# Attributes.


def test_profile_attributes_describe_a_decayed_profile() -> None:
    state = ProfileState(
        visits=3,
        first_seen=T0 - 10.5 * DAY,
        last_seen=T0 - DAY,
        score=123.456,
        peak_score=123.456,
        decayed_at=T0 - 30 * DAY,
        interests={"ski": 10.0, "golf": 3.333},
        prefs={"lang": "de"},
    )

    attributes = profile_attributes(state, T0, DEFAULT_STAGES, 30)

    assert attributes == {
        "visits": 3,
        "returning": True,
        "days_since_first_visit": 10,
        "score": 61.73,
        "stage": "consideration",
        "peak_stage": "intent",
        "interests": {"ski": 5.0, "golf": 1.67},
        "prefs": {"lang": "de"},
    }
    assert state.score == 123.456
    attributes["prefs"]["lang"] = "fr"
    assert state.prefs == {"lang": "de"}


def test_profile_attributes_of_a_first_visit() -> None:
    state = apply(ProfileState(), VIEW, [rule(points=25)], T0)

    assert profile_attributes(state, T0 + 60) == {
        "visits": 1,
        "returning": False,
        "days_since_first_visit": 0,
        "score": 25.0,
        "stage": "interest",
        "peak_stage": "interest",
        "interests": {"ski": 1.0},
        "prefs": {},
    }


def test_profile_attributes_without_stages_or_first_visit() -> None:
    attributes = profile_attributes(ProfileState(), T0, (), 30)

    assert attributes["stage"] == attributes["peak_stage"] == ""
    assert attributes["days_since_first_visit"] is None
    assert attributes["returning"] is False


def test_empty_visitor_attributes_are_fresh_and_have_the_same_keys() -> None:
    first = empty_visitor_attributes()
    first["interests"]["ski"] = 1.0

    assert empty_visitor_attributes() == {
        "visits": None,
        "returning": None,
        "days_since_first_visit": None,
        "score": None,
        "stage": None,
        "peak_stage": None,
        "interests": {},
        "prefs": {},
    }
    assert set(empty_visitor_attributes()) == set(profile_attributes(ProfileState(), T0))


# Stored profiles.

FULL = ProfileState(
    visits=4,
    first_seen=T0 - DAY,
    last_seen=T0,
    score=12.5,
    peak_score=40.0,
    decayed_at=T0,
    interests={"ski": 2.5},
    prefs={"lang": "de"},
    prefs_at={"lang": T0 - 60},
    consent=("necessary", "personalization"),
    consent_at=T0 - 120,
    visit_points={"rule:1": 5.0},
    total_points={"rule:1": 15.0, "rule:2": -2.5},
    merges=({"from": "anon:1", "at": T0 - 3600},),
)


def test_to_json_writes_plain_data() -> None:
    assert FULL.to_json() == {
        "visits": 4,
        "first_seen": T0 - DAY,
        "last_seen": T0,
        "score": 12.5,
        "peak_score": 40.0,
        "decayed_at": T0,
        "interests": {"ski": 2.5},
        "prefs": {"lang": "de"},
        "prefs_at": {"lang": T0 - 60},
        "consent": ["necessary", "personalization"],
        "consent_at": T0 - 120,
        "visit_points": {"rule:1": 5.0},
        "total_points": {"rule:1": 15.0, "rule:2": -2.5},
        "merges": [{"from": "anon:1", "at": T0 - 3600}],
    }


@pytest.mark.parametrize("state", [FULL, ProfileState()])
def test_to_json_and_from_json_round_trip(state: ProfileState) -> None:
    stored = json.dumps(state.to_json(), allow_nan=False)

    assert ProfileState.from_json(json.loads(stored)) == state


def test_to_json_copies_the_profile() -> None:
    data = FULL.to_json()
    data["interests"]["ski"] = 99.0
    data["merges"][0]["from"] = "x"

    assert FULL.interests == {"ski": 2.5}
    assert FULL.merges == ({"from": "anon:1", "at": T0 - 3600},)


@pytest.mark.parametrize("data", [None, 1, "profile", [], ["visits", 3], b"{}", {}])
def test_from_json_of_anything_but_a_dict_is_an_empty_profile(data: Any) -> None:
    assert ProfileState.from_json(data) == ProfileState()


def test_from_json_replaces_each_bad_field_by_its_default() -> None:
    data = {
        "visits": True,
        "first_seen": "yesterday",
        "last_seen": math.nan,
        "score": -5,
        "peak_score": 10**400,
        "decayed_at": math.inf,
        "interests": {"ski": 2, "golf": "a lot", "surf": -1, "": 1, "x" * 101: 1, 3: 1},
        "prefs": {"lang": "de", "unit": 3, "theme": "d" * 600},
        "prefs_at": {"lang": T0, "unit": T0, "gone": T0, "theme": None},
        "consent": ["necessary", 5, "necessary", "analytics", None],
        "consent_at": False,
        "visit_points": ["rule:1"],
        "total_points": {"rule:1": 3, "rule:2": None},
        "merges": [{"from": "a"}, "b", {1: "c"}, None],
        "unknown": "ignored",
    }

    assert ProfileState.from_json(data) == ProfileState(
        interests={"ski": 2.0},
        prefs={"lang": "de", "theme": "d" * 500},
        prefs_at={"lang": T0},
        consent=("necessary", "analytics"),
        total_points={"rule:1": 3.0},
        merges=({"from": "a"},),
    )


def test_from_json_of_negative_visits() -> None:
    assert ProfileState.from_json({"visits": -3, "score": 1.5}) == ProfileState(score=1.5)


def test_from_json_bounds_collections() -> None:
    data = {
        "interests": {f"t{index}": index + 1 for index in range(300)},
        "prefs": {f"p{index}": "v" for index in range(60)},
        "prefs_at": {f"p{index}": T0 + index for index in range(60)},
        "merges": [{"n": index} for index in range(150)],
    }

    state = ProfileState.from_json(data)

    assert len(state.interests) == MAX_INTERESTS
    assert min(state.interests.values()) == 101
    assert len(state.prefs) == MAX_PREFS
    assert set(state.prefs) == {f"p{index}" for index in range(10, 60)}
    assert set(state.prefs_at) == set(state.prefs)
    assert len(state.merges) == MAX_MERGES
    assert (state.merges[0], state.merges[-1]) == ({"n": 50}, {"n": 149})


_JSON = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(),
        st.text(max_size=8),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(max_size=8), children, max_size=4),
    ),
    max_leaves=20,
)
_FIELDS = [name for name in ProfileState.__dataclass_fields__]
_PROFILE_LIKE = st.fixed_dictionaries({}, optional=dict.fromkeys(_FIELDS, _JSON))


@PROPERTY
@given(st.one_of(_JSON, _PROFILE_LIKE))
def test_from_json_never_raises_and_gives_storable_profiles(data: Any) -> None:
    state = ProfileState.from_json(data)

    stored = json.dumps(state.to_json(), allow_nan=False)
    assert ProfileState.from_json(json.loads(stored)) == state
    assert state.visits >= 0
    assert state.score >= 0
    assert all(value > 0 for value in state.interests.values())
    assert all(0 < len(key) <= 100 for key in [*state.interests, *state.prefs])
    assert set(state.prefs_at) <= set(state.prefs)


_EVENTS = st.builds(
    Event,
    name=st.sampled_from(["page_view", "form_submit", "download", "video_play"]),
    page_id=st.sampled_from([None, 1, 2]),
    page_type=st.sampled_from([None, "blog.blogpage"]),
    tags=st.lists(st.sampled_from(["ski", "Ski", "golf"]), max_size=3).map(tuple),
    target=st.sampled_from([None, "", "contact", "1"]),
)
_RULES = [
    ScoringRule("r:page", "page", "1", 10, cap_per_visit=15, cap_per_visitor=40),
    ScoringRule("r:tag", "tag", "ski", 3, cap_per_visitor=10),
    ScoringRule("r:form", "form", "", 25),
    ScoringRule("r:neg", "event", "video_play", -7, cap_per_visit=14),
]


@PROPERTY
@given(st.lists(st.tuples(_EVENTS, st.floats(min_value=0, max_value=3 * DAY)), max_size=12))
def test_event_sequences_respect_caps_and_keep_the_score_non_negative(
    steps: list[tuple[Event, float]],
) -> None:
    state = ProfileState()
    now = T0
    for event, gap in steps:
        now += gap
        state = apply_event(state, event, _RULES, {}, now)
        assert state.score >= 0
        assert state.peak_score >= state.score
        assert abs(state.visit_points.get("r:page", 0)) <= 15
        assert abs(state.visit_points.get("r:neg", 0)) <= 14
        assert abs(state.total_points.get("r:page", 0)) <= 40
        assert abs(state.total_points.get("r:tag", 0)) <= 10
    assert state.visits <= len(steps)
    assert ProfileState.from_json(json.loads(json.dumps(state.to_json()))) == state
