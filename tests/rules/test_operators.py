"""What each operator means, case by case, including the edges."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

import pytest

from personalize.rules import compile_condition

VISITOR = {
    "geo": {"country": "AT", "city": "Wien", "continent": "EU"},
    "device": {"type": "mobile", "os": "iOS", "os_version": "17.4.1"},
    "time": {"hour": 9, "weekday": 2},
    "user": {"groups": ["members", "editors"], "is_authenticated": True, "id": None},
    "visitor": {"visits": 3, "interests": [{"topic": "ski", "score": 7}, {"topic": "golf"}]},
    "query": {"utm_campaign": "Spring-Sale"},
    "scores": [0, 5, -20, 15],
}


def matches(condition: dict[str, Any], attributes: Any = VISITOR) -> bool:
    return compile_condition(condition)(attributes)


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({}, True),
        ({"geo.country": "AT"}, True),
        ({"geo.country": "at"}, False),
        ({"geo.country": "AT", "device.type": "desktop"}, False),
        ({"time.hour": 9}, True),
        ({"time.hour": 9.0}, True),
        ({"time.hour": "9"}, False),
        ({"user.is_authenticated": True}, True),
        ({"user.is_authenticated": 1}, False),
        ({"user.id": None}, True),
        ({"user.missing": None}, True),
        ({"user.missing": False}, False),
        ({"user.groups": ["members", "editors"]}, True),
        ({"user.groups": ["editors", "members"]}, False),
        ({"user.groups": ["members"]}, False),
        ({"visitor.interests.1": {"topic": "golf"}}, True),
        ({"geo": {"country": "AT", "city": "Wien", "continent": "EU"}}, True),
        ({"geo": {"city": "Wien", "country": "AT", "continent": "EU"}}, False),
        ({"geo": {"country": "AT"}}, False),
    ],
)
def test_plain_values_mean_equality(condition: dict[str, Any], expected: bool) -> None:
    assert matches(condition) is expected


def test_an_empty_object_under_a_path_passes_anything() -> None:
    assert matches({"nowhere": {}}) is True
    assert matches({"geo.country": {}}) is True


def test_object_equality_orders_index_keys_first_like_json() -> None:
    attributes = {"o": {"b": 1, "10": 2, "2": 3}}

    assert matches({"o": {"2": 3, "10": 2, "b": 1}}, attributes) is True
    assert matches({"o": {"b": 1, "2": 3, "10": 2}}, attributes) is True
    assert matches({"o": {"10": 2, "2": 3, "b": 1}}, attributes) is True


def test_non_finite_numbers_nested_in_arrays_compare_like_null() -> None:
    attributes = {"a": [float("nan"), float("inf")], "n": float("nan")}

    assert matches({"a": [None, None]}, attributes) is True
    assert matches({"a": [float("nan"), None]}, attributes) is True
    assert matches({"n": float("nan")}, attributes) is False


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"geo.country": {"$eq": "AT"}}, True),
        ({"geo.country": {"$eq": "DE"}}, False),
        ({"time.hour": {"$eq": 9.0}}, True),
        ({"time.hour": {"$eq": True}}, False),
        ({"user.id": {"$eq": None}}, True),
        ({"user.nothing": {"$eq": None}}, True),
        ({"geo.country": {"$ne": "DE"}}, True),
        ({"geo.country": {"$ne": "AT"}}, False),
        ({"user.nothing": {"$ne": "x"}}, True),
        ({"user.groups": {"$ne": "members"}}, True),
    ],
)
def test_eq_and_ne_compare_strictly(condition: dict[str, Any], expected: bool) -> None:
    assert matches(condition) is expected


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"time.hour": {"$gte": 6, "$lt": 11}}, True),
        ({"time.hour": {"$gte": 10, "$lt": 11}}, False),
        ({"time.hour": {"$gt": 9}}, False),
        ({"time.hour": {"$gte": 9}}, True),
        ({"time.hour": {"$lt": 9}}, False),
        ({"time.hour": {"$lte": 9}}, True),
        ({"time.hour": {"$lt": 9.5}}, True),
        ({"geo.city": {"$gt": "Vienna"}}, True),
        ({"geo.city": {"$lt": "wien"}}, True),
        # A number is never ordered against a string, nor a missing value against anything.
        ({"time.hour": {"$gt": "8"}}, False),
        ({"geo.city": {"$gt": 1}}, False),
        ({"user.nothing": {"$lt": 10}}, False),
        ({"user.nothing": {"$gte": -10}}, False),
        ({"user.is_authenticated": {"$gte": 0}}, False),
    ],
)
def test_ordering(condition: dict[str, Any], expected: bool) -> None:
    assert matches(condition) is expected


def test_strings_order_by_utf16_code_units_as_in_javascript() -> None:
    # U+1F600 is a surrogate pair (0xD83D...) in UTF-16, so it sorts below U+E000.
    attributes = {"s": "\U0001f600"}

    assert matches({"s": {"$lt": "\ue000"}}, attributes) is True
    assert matches({"s": {"$gt": "\ue000"}}, attributes) is False
    assert matches({"s": {"$gt": "a"}}, attributes) is True


def test_nan_is_not_ordered() -> None:
    attributes = {"n": float("nan")}

    assert matches({"n": {"$lt": 1}}, attributes) is False
    assert matches({"n": {"$gte": 1}}, attributes) is False
    assert matches({"n": {"$lt": 1}}, attributes) is False


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"geo.country": {"$in": ["DE", "AT", "CH"]}}, True),
        ({"geo.country": {"$in": ["DE", "CH"]}}, False),
        ({"geo.country": {"$in": []}}, False),
        ({"geo.country": {"$in": ["at"]}}, False),
        ({"geo.country": {"$ini": ["at"]}}, True),
        ({"time.hour": {"$in": [9]}}, True),
        ({"time.hour": {"$in": [9.0]}}, True),
        ({"time.hour": {"$in": ["9"]}}, False),
        ({"user.is_authenticated": {"$in": [1]}}, False),
        ({"user.is_authenticated": {"$in": [True]}}, True),
        ({"scores": {"$in": [False]}}, False),
        ({"scores": {"$in": [0]}}, True),
        ({"user.id": {"$in": [None]}}, True),
        ({"user.nothing": {"$in": [None]}}, True),
        ({"user.nothing": {"$in": ["x"]}}, False),
        # An array attribute passes when any element is in the list.
        ({"user.groups": {"$in": ["admins", "editors"]}}, True),
        ({"user.groups": {"$in": ["admins"]}}, False),
        ({"user.groups": {"$in": ["EDITORS"]}}, False),
        ({"user.groups": {"$ini": ["EDITORS"]}}, True),
        ({"user.groups": {"$ini": []}}, False),
        ({"geo": {"$in": ["AT"]}}, False),
        ({"geo.country": {"$nin": ["DE", "CH"]}}, True),
        ({"geo.country": {"$nin": ["AT"]}}, False),
        ({"user.nothing": {"$nin": ["x"]}}, True),
        ({"user.groups": {"$nin": ["admins"]}}, True),
        ({"user.groups": {"$nin": ["members"]}}, False),
        ({"user.groups": {"$nini": ["MEMBERS"]}}, False),
        ({"geo.country": {"$nini": ["de"]}}, True),
    ],
)
def test_membership(condition: dict[str, Any], expected: bool) -> None:
    assert matches(condition) is expected


def test_membership_of_arrays_holding_objects_and_arrays() -> None:
    attributes = {"tags": [{"a": 1}, ["x"], "x"], "other": [["x"]]}

    assert matches({"tags": {"$in": ["x"]}}, attributes) is True
    assert matches({"other": {"$in": ["x"]}}, attributes) is False
    assert matches({"other": {"$in": ["x", 1]}}, attributes) is False


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"user.groups": {"$all": ["editors", "members"]}}, True),
        ({"user.groups": {"$all": ["editors", "admins"]}}, False),
        ({"user.groups": {"$all": []}}, True),
        ({"geo.country": {"$all": []}}, False),
        ({"user.groups": {"$all": ["EDITORS"]}}, False),
        ({"user.groups": {"$alli": ["EDITORS", "Members"]}}, True),
        # Entries of $all may be operators, each matched by some element.
        ({"scores": {"$all": [{"$gt": 10}, {"$lt": 0}]}}, True),
        ({"scores": {"$all": [{"$gt": 100}]}}, False),
        ({"visitor.interests": {"$all": [{"topic": "golf"}]}}, True),
    ],
)
def test_all(condition: dict[str, Any], expected: bool) -> None:
    assert matches(condition) is expected


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        # Operators test each element itself.
        ({"scores": {"$elemMatch": {"$gt": 10}}}, True),
        ({"scores": {"$elemMatch": {"$gt": 15}}}, False),
        ({"scores": {"$elemMatch": {"$gte": -20, "$lt": -10}}}, True),
        ({"user.groups": {"$elemMatch": {"$regex": "^edit"}}}, True),
        # A condition tests each element's fields.
        ({"visitor.interests": {"$elemMatch": {"topic": "ski", "score": {"$gt": 5}}}}, True),
        ({"visitor.interests": {"$elemMatch": {"topic": "golf", "score": {"$gt": 5}}}}, False),
        ({"visitor.interests": {"$elemMatch": {"$or": [{"topic": "golf"}]}}}, True),
        # Scalars have no fields: "topic" reads as missing.
        ({"scores": {"$elemMatch": {"topic": {"$exists": False}}}}, True),
        ({"scores": {"$elemMatch": {"topic": "ski"}}}, False),
        ({"geo.country": {"$elemMatch": {"$eq": "AT"}}}, False),
        ({"user.nothing": {"$elemMatch": {}}}, False),
    ],
)
def test_elem_match(condition: dict[str, Any], expected: bool) -> None:
    assert matches(condition) is expected


def test_elem_match_skips_null_elements_but_not_other_falsy_ones() -> None:
    assert matches({"a": {"$elemMatch": {}}}, {"a": [None]}) is False
    assert matches({"a": {"$elemMatch": {}}}, {"a": [0]}) is True
    assert matches({"a": {"$elemMatch": {"$exists": False}}}, {"a": [None, 1]}) is False
    assert matches({"a": {"$elemMatch": {"$eq": ""}}}, {"a": [""]}) is True


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"user.groups": {"$size": 2}}, True),
        ({"user.groups": {"$size": 3}}, False),
        ({"user.groups": {"$size": {"$gt": 1}}}, True),
        ({"user.groups": {"$size": {"$gt": 1, "$lt": 2}}}, False),
        ({"user.groups": {"$size": {"$in": [0, 2]}}}, True),
        ({"user.groups": {"$size": {"$not": {"$eq": 2}}}}, False),
        ({"geo.country": {"$size": 2}}, False),
        ({"user.nothing": {"$size": 0}}, False),
        ({"user.groups.length": 2}, True),
        ({"user.groups.length": {"$gte": 1}}, True),
        ({"user.groups.0": "members"}, True),
        ({"user.groups.2": {"$exists": False}}, True),
        ({"user.groups.01": {"$exists": False}}, True),
    ],
)
def test_size_and_array_paths(condition: dict[str, Any], expected: bool) -> None:
    assert matches(condition) is expected


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"geo.country": {"$exists": True}}, True),
        ({"geo.region": {"$exists": True}}, False),
        ({"geo.region": {"$exists": False}}, True),
        ({"geo.country": {"$exists": False}}, False),
        # null reads like missing.
        ({"user.id": {"$exists": True}}, False),
        ({"user.id": {"$exists": False}}, True),
        ({"nowhere.at.all": {"$exists": False}}, True),
        ({"time.hour.value": {"$exists": False}}, True),
    ],
)
def test_exists(condition: dict[str, Any], expected: bool) -> None:
    assert matches(condition) is expected


@pytest.mark.parametrize(
    ("value", "type_name"),
    [
        (None, "null"),
        (True, "boolean"),
        (False, "boolean"),
        (0, "number"),
        (1.5, "number"),
        ("", "string"),
        ([], "array"),
        ((1, 2), "array"),
        ({}, "object"),
        (MappingProxyType({"a": 1}), "object"),
    ],
)
def test_type_names_each_json_type(value: Any, type_name: str) -> None:
    names = ["null", "boolean", "number", "string", "array", "object"]

    results = {name: matches({"v": {"$type": name}}, {"v": value}) for name in names}

    assert results == {name: name == type_name for name in names}


def test_type_of_a_missing_attribute_is_null() -> None:
    assert matches({"v": {"$type": "null"}}, {}) is True


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"device.os_version": {"$regex": r"^17\."}}, True),
        ({"device.os_version": {"$regex": r"^16\."}}, False),
        ({"query.utm_campaign": {"$regex": "sale"}}, False),
        ({"query.utm_campaign": {"$regexi": "sale"}}, True),
        # re.search, not re.match: the pattern may match anywhere.
        ({"query.utm_campaign": {"$regex": "Sale$"}}, True),
        ({"time.hour": {"$regex": "9"}}, False),
        ({"user.nothing": {"$regex": ""}}, False),
        ({"query.utm_campaign": {"$notRegex": "^Spring"}}, False),
        ({"query.utm_campaign": {"$notRegexi": "^summer"}}, True),
        ({"user.nothing": {"$notRegex": "x"}}, True),
    ],
)
def test_regex(condition: dict[str, Any], expected: bool) -> None:
    assert matches(condition) is expected


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"geo.country": {"$not": {"$in": ["DE", "CH"]}}}, True),
        ({"geo.country": {"$not": "AT"}}, False),
        ({"geo.country": {"$not": {"$not": "AT"}}}, True),
        ({"user.nothing": {"$not": {"$exists": True}}}, True),
        ({"$not": {"geo.country": "DE"}}, True),
        ({"$not": {"geo.country": "AT", "device.type": "mobile"}}, False),
        ({"$not": {}}, False),
    ],
)
def test_not(condition: dict[str, Any], expected: bool) -> None:
    assert matches(condition) is expected


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"$and": [{"geo.country": "AT"}, {"device.type": "mobile"}]}, True),
        ({"$and": [{"geo.country": "AT"}, {"device.type": "tablet"}]}, False),
        ({"$and": []}, True),
        ({"$or": [{"geo.country": "DE"}, {"device.type": "mobile"}]}, True),
        ({"$or": [{"geo.country": "DE"}, {"device.type": "tablet"}]}, False),
        ({"$or": []}, True),
        ({"$nor": [{"geo.country": "DE"}, {"device.type": "tablet"}]}, True),
        ({"$nor": [{"geo.country": "AT"}]}, False),
        # An empty $or passes, so an empty $nor fails.
        ({"$nor": []}, False),
        ({"$or": [{"geo.country": "DE"}], "device.type": "mobile"}, False),
        ({"$or": [{}, {"geo.country": "DE"}]}, True),
        (
            {
                "$and": [
                    {"time.hour": {"$gte": 6, "$lt": 11}},
                    {"$or": [{"geo.country": "AT"}, {"$not": {"user.groups": {"$size": 0}}}]},
                ],
                "$nor": [{"device.type": "desktop"}],
            },
            True,
        ),
    ],
)
def test_logical_operators(condition: dict[str, Any], expected: bool) -> None:
    assert matches(condition) is expected


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"device.os_version": {"$vgte": "17.0.0"}}, True),
        ({"device.os_version": {"$vgt": "17.4.1"}}, False),
        ({"device.os_version": {"$veq": "v17.4.1+build5"}}, True),
        ({"device.os_version": {"$vne": "17.4.1"}}, False),
        ({"device.os_version": {"$vlt": "17.10.0"}}, True),
        ({"device.os_version": {"$vlte": "17.4.1-rc.1"}}, False),
        # A version string never compares with a number, except that $vne passes.
        ({"time.hour": {"$vgt": "1.0.0"}}, False),
        ({"time.hour": {"$vne": "1.0.0"}}, True),
        ({"time.hour": {"$vgt": 8}}, True),
        ({"user.nothing": {"$vlt": "1.0.0"}}, False),
        ({"user.nothing": {"$vne": "1.0.0"}}, True),
    ],
)
def test_version_operators(condition: dict[str, Any], expected: bool) -> None:
    assert matches(condition) is expected


@pytest.mark.parametrize(
    ("lower", "higher"),
    [
        ("1.2.3-beta", "1.2.3"),
        ("1.2.3-alpha", "1.2.3-beta"),
        ("1.2.3-beta.2", "1.2.3-beta.11"),
        ("0.9.99", "1.0.0"),
        ("1.9.0", "1.10.0"),
        ("v2.0.0", "10.0.0"),
    ],
)
def test_versions_order(lower: str, higher: str) -> None:
    assert matches({"v": {"$vlt": higher}}, {"v": lower}) is True
    assert matches({"v": {"$vgt": lower}}, {"v": higher}) is True
    assert matches({"v": {"$vgte": higher}}, {"v": lower}) is False


@pytest.mark.parametrize(
    ("path", "attributes", "expected"),
    [
        ("a.b.c", {"a": {"b": {"c": 1}}}, True),
        ("a.b.c", {"a": {"b": [1]}}, False),
        ("a.b.c", {"a": None}, False),
        ("a.b.c", {"a": "b"}, False),
        ("a.1.c", {"a": [{}, {"c": 1}]}, True),
        ("a.1.c", {"a": ({}, {"c": 1})}, True),
        ("a.b.c", {"a": MappingProxyType({"b": {"c": 1}})}, True),
        ("a", {"a.b": 1}, False),
    ],
)
def test_nested_paths(path: str, attributes: dict[str, Any], expected: bool) -> None:
    assert matches({path: 1}, attributes) is expected


def test_attributes_need_not_be_a_dict() -> None:
    condition = compile_condition({"geo.country": "AT", "x": {"$exists": False}})

    assert condition(MappingProxyType({"geo": MappingProxyType({"country": "AT"})})) is True
    assert condition(MappingProxyType({})) is False


def test_object_keys_of_any_length_are_ordered_without_error() -> None:
    long_digits = "9" * 5000
    attributes = {"o": {long_digits: 1, "4294967294": 2, "4294967295": 3}}

    assert matches({"o": {"4294967294": 2, long_digits: 1, "4294967295": 3}}, attributes) is True
    assert matches({"o": {"4294967295": 3, long_digits: 1, "4294967294": 2}}, attributes) is False
