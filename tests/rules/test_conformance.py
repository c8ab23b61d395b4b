"""Conditions mean what they mean in GrowthBook.

Every condition here is evaluated both by the compiled engine and by the ``growthbook``
package's own evaluator, over a spread of visitors, and the results must agree. The few places
where this engine deliberately differs are tested separately at the end, with the reason.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from personalize.rules import compile_condition

from .helpers import DIFFERENTIAL
from .strategies import ATTRIBUTES, SCALARS, json_values, valid_conditions, value_conditions

growthbook_core = pytest.importorskip("growthbook.core")


def growthbook(condition: dict[str, Any], attributes: dict[str, Any]) -> bool:
    result: bool = growthbook_core.evalCondition(attributes, condition)
    return result


VISITORS: list[dict[str, Any]] = [
    {},
    {
        "geo": {"country": "DE", "city": "Berlin", "continent": "EU"},
        "device": {"type": "desktop", "os": "Windows", "os_version": "10.0"},
        "time": {"hour": 6, "weekday": 0},
        "user": {"groups": [], "is_authenticated": False},
        "tags": [],
    },
    {
        "geo": {"country": "AT", "city": "Wien", "continent": "EU"},
        "device": {"type": "mobile", "os": "iOS", "os_version": "17.4.1"},
        "time": {"hour": 10.5, "weekday": 5},
        "user": {"groups": ["editors", "members"], "is_authenticated": True, "id": 7},
        "visits": 3,
        "tags": ["a", "B", "c"],
        "interests": [{"topic": "ski", "score": 7}, {"topic": "golf", "score": None}],
    },
    {
        "geo": {"country": "ch", "city": None},
        "device": {"type": "tablet", "os": "Android", "os_version": "v14.0.0-beta.2+build7"},
        "time": {"hour": 11},
        "user": {"groups": ["Members"], "is_authenticated": 1, "id": "7"},
        "visits": 0,
        "tags": [0, 1, False, True, None, ""],
        "interests": [None, {"topic": "ski"}, "ski"],
    },
    {
        "geo": None,
        "device": "mobile",
        "time": {"hour": "9"},
        "user": {"groups": "editors", "is_authenticated": None, "id": None},
        "visits": -1.5,
        "tags": [["a"], {"a": 1}, "a"],
        "interests": [],
    },
    {
        "geo": {"country": ["DE", "AT"], "city": {"name": "Wien"}},
        "device": {"type": "", "os_version": 17},
        "time": {"hour": 23, "weekday": 6},
        "user": {"groups": ["admins", "editors", "members", "staff"], "id": 0},
        "visits": 1000000,
        "tags": ["é", "É", "\U0001f600", "\ue000"],
        "interests": [{"topic": "golf", "score": 9}],
    },
    {
        "geo": {"country": "US", "city": "Ünterstadt"},
        "device": {"type": "mobile", "os_version": "1.2.3-rc.1"},
        "time": {"hour": 0, "weekday": 3},
        "user": {"groups": ["members"], "is_authenticated": True},
        "visits": 2,
        "tags": ["spring-sale", "SALE"],
        "interests": [{"topic": ["ski", "golf"]}],
    },
]

# Conditions that pass or fail whatever the attributes.
CONSTANT: list[dict[str, Any]] = [{}, {"$or": []}, {"$nor": []}, {"geo.country": {}}]

CONDITIONS: list[dict[str, Any]] = [
    *CONSTANT,
    {"geo.country": "DE"},
    {"geo.country": "AT", "device.type": "mobile"},
    {"geo.country": {"$in": ["DE", "AT", "CH"]}},
    {"geo.country": {"$nin": ["DE", "AT", "CH"]}},
    {"geo.country": {"$ini": ["de", "at", "ch"]}},
    {"geo.country": {"$nini": ["CH"]}},
    {"geo.country": {"$eq": "AT"}},
    {"geo.country": {"$ne": "AT"}},
    {"geo.country": {"$exists": True}},
    {"geo.city": {"$exists": False}},
    {"geo.city": None},
    {"geo.city": {"$type": "null"}},
    {"geo.city": {"$type": "string"}},
    {"geo.city": {"$type": "object"}},
    {"geo.city": {"$gt": "M"}},
    {"geo.city": {"$lt": "Z"}},
    {"geo.city": {"$regex": "^W"}},
    {"geo.city": {"$regexi": "^w"}},
    {"geo.city": {"$notRegex": "^W"}},
    {"geo.city": {"name": "Wien"}},
    {"geo": {"country": "AT", "city": "Wien", "continent": "EU"}},
    {"time.hour": {"$gte": 6, "$lt": 11}},
    {"time.hour": {"$gt": 10, "$lte": 23}},
    {"time.hour": {"$in": [0, 6, 23]}},
    {"time.hour": {"$type": "number"}},
    {"time.weekday": {"$nin": [0, 6]}},
    {"$or": [{"time.hour": {"$lt": 6}}, {"time.hour": {"$gte": 22}}]},
    {"device.os_version": {"$vgte": "14.0.0"}},
    {"device.os_version": {"$vlt": "10.0.1"}},
    {"device.os_version": {"$veq": "14.0.0-beta.2"}},
    {"device.os_version": {"$vne": "17.4.1"}},
    {"device.os_version": {"$vgt": 16}},
    {"device.os_version": {"$vgt": "1.2.3-beta"}},
    {"device.type": {"$in": ["mobile", "tablet"]}, "geo.continent": "EU"},
    {"user.is_authenticated": True},
    {"user.is_authenticated": {"$ne": True}},
    {"user.is_authenticated": {"$in": [True]}},
    {"user.is_authenticated": {"$in": [1]}},
    {"user.id": {"$in": [7, None]}},
    {"user.id": {"$exists": True}},
    {"user.groups": {"$in": ["editors", "admins"]}},
    {"user.groups": {"$ini": ["MEMBERS"]}},
    {"user.groups": {"$nin": ["admins"]}},
    {"user.groups": {"$all": ["editors", "members"]}},
    {"user.groups": {"$alli": ["EDITORS"]}},
    {"user.groups": {"$size": 0}},
    {"user.groups": {"$size": {"$gte": 2}}},
    {"user.groups.length": {"$gt": 1}},
    {"user.groups.0": "editors"},
    {"user.groups": {"$elemMatch": {"$regex": "^m"}}},
    {"user.groups": {"$elemMatch": {"$eq": "staff"}}},
    {"user.groups": ["editors", "members"]},
    {"user.groups": {"$not": {"$size": 0}}},
    {"visits": {"$gt": 0}},
    {"visits": {"$lte": 0}},
    {"visits": 3.0},
    {"visits": {"$type": "number"}, "visits.length": {"$exists": False}},
    {"tags": {"$in": [0, "a"]}},
    {"tags": {"$in": [False]}},
    {"tags": {"$in": [None]}},
    {"tags": {"$all": [True, 1]}},
    {"tags": {"$all": [["a"]]}},
    {"tags": {"$elemMatch": {"$gt": "d"}}},
    {"tags": {"$elemMatch": {"$lt": "\ue001"}}},
    {"tags": {"$elemMatch": {"$type": "array"}}},
    {"tags": {"$elemMatch": {"a": 1}}},
    {"tags": {"$elemMatch": {}}},
    {"tags": {"$size": {"$in": [3, 4]}}},
    {"tags": {"$alli": ["sale"]}},
    {"tags": {"$all": [{"$regexi": "sale"}, {"$regex": "^spring"}]}},
    {"interests": {"$elemMatch": {"topic": "ski"}}},
    {"interests": {"$elemMatch": {"topic": "golf", "score": {"$gte": 8}}}},
    {"interests": {"$elemMatch": {"score": {"$exists": False}}}},
    {"interests": {"$elemMatch": {"topic": {"$in": ["golf"]}}}},
    {"interests": {"$elemMatch": {"$or": [{"topic": "golf"}, {"score": 7}]}}},
    {"interests.0.topic": "ski"},
    {"$and": [{"geo.country": "AT"}, {"time.hour": {"$gte": 10}}]},
    {"$or": [{"geo.country": "DE"}, {"user.groups": {"$in": ["editors"]}}]},
    {"$nor": [{"device.type": "desktop"}, {"geo.country": None}]},
    {"$not": {"device.type": "mobile"}},
    {"$not": {"$or": [{"visits": {"$gt": 2}}, {"tags": {"$size": 0}}]}},
    {"$and": [], "geo.country": {"$exists": True}},
    {"geo.country": {"$not": {"$in": ["DE"]}}},
    {"geo.country": {"$not": {"$exists": True}}},
]

CASES = list(itertools.product(CONDITIONS, VISITORS))


@pytest.mark.parametrize(("condition", "attributes"), CASES)
def test_agrees_with_growthbook(condition: dict[str, Any], attributes: dict[str, Any]) -> None:
    assert compile_condition(condition)(attributes) is growthbook(condition, attributes)


def test_the_cases_are_not_trivial() -> None:
    outcomes = [growthbook(condition, attributes) for condition, attributes in CASES]

    assert len(CASES) == len(CONDITIONS) * len(VISITORS) == 616
    assert 150 < outcomes.count(True) < 466
    for condition in CONDITIONS[len(CONSTANT) :]:
        results = {growthbook(condition, visitor) for visitor in VISITORS}
        assert results == {True, False}, condition


@DIFFERENTIAL
@given(valid_conditions(), ATTRIBUTES)
def test_random_conditions_agree_with_growthbook(
    condition: dict[str, Any], attributes: dict[str, Any]
) -> None:
    assert compile_condition(condition)(attributes) is growthbook(condition, attributes)


@DIFFERENTIAL
@given(value_conditions(), json_values(st.one_of(SCALARS, st.integers(), st.floats())))
def test_random_operators_agree_with_growthbook(value_condition: Any, value: Any) -> None:
    condition = {"x": value_condition}
    attributes = {"x": value}

    assert compile_condition(condition)(attributes) is growthbook(condition, attributes)


# Where growthbook's Python SDK differs from its JavaScript SDK, the JavaScript SDK (the
# reference implementation) is followed.


def test_only_ascii_digits_are_padded_in_versions() -> None:
    # JavaScript pads parts matching /^[0-9]+$/; growthbook's Python SDK uses str.isdigit(),
    # which also accepts "²", and pads it so that "1.²" sorts below "1.10".
    condition = {"v": {"$vgt": "1.10"}}
    attributes = {"v": "1.²"}

    assert compile_condition(condition)(attributes) is True
    assert growthbook(condition, attributes) is False


def test_build_suffix_stops_at_line_terminators() -> None:
    # JavaScript's "." does not match "\r", so /\+.*$/ cannot drop "+b\r1" as a build suffix;
    # growthbook's Python SDK uses Python's ".", which does, and finds the versions equal.
    condition = {"v": {"$veq": "1.0.0"}}
    attributes = {"v": "1.0.0+b\r1"}

    assert compile_condition(condition)(attributes) is False
    assert growthbook(condition, attributes) is True


# GrowthBook's shared test cases were written against JavaScript's loose comparisons, where
# null < 10 and "8" > 5. Its Python SDK compares strictly (numbers with numbers, strings with
# strings, nothing with a missing value), and so does this engine: an unknown hour must not
# fall inside every time window.


def test_a_missing_attribute_is_never_in_a_range() -> None:
    condition = {"age": {"$gt": -10, "$lt": 10, "$gte": -9, "$lte": 9, "$ne": 10}}

    assert compile_condition(condition)({}) is False
    assert growthbook(condition, {}) is False


def test_numbers_and_strings_are_never_ordered_against_each_other() -> None:
    assert compile_condition({"n": {"$gt": 5, "$lt": 10}})({"n": "8"}) is False
    assert compile_condition({"n": {"$gt": "5", "$lt": "10"}})({"n": 8}) is False
