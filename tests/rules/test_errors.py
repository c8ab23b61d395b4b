"""Invalid conditions fail to compile, with a message naming where and why."""

from __future__ import annotations

import re
from typing import Any

import pytest

from personalize.rules import (
    ConditionError,
    compile_condition,
    evaluate_condition,
    validate_condition,
)
from personalize.rules.conditions import MAX_DEPTH


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ({"geo.country": {"$in": "DE"}}, 'at "geo.country" → $in: expected a list, got str'),
        ({"geo.country": {"$nin": None}}, 'at "geo.country" → $nin: expected a list, got None'),
        (
            {"geo.country": {"$in": ["DE", ["AT"]]}},
            'at "geo.country" → $in: expected a list of strings, numbers, booleans or nulls, '
            "got list at index 1",
        ),
        ({"tags": {"$all": "a"}}, 'at "tags" → $all: expected a list, got str'),
        ({"$and": {"a": 1}}, "at $and: expected a list of conditions, got dict"),
        ({"$or": "a"}, "at $or: expected a list of conditions, got str"),
        ({"$nor": [{"a": 1}, 2]}, "at $nor[1]: expected a condition object, got int"),
        ({"$not": ["a"]}, "at $not: expected a condition object, got list"),
        ({"tags": {"$size": "2"}}, 'at "tags" → $size: expected a number or operators'),
        ({"tags": {"$size": True}}, 'at "tags" → $size: expected a number or operators'),
        ({"tags": {"$size": {"a": 1}}}, 'at "tags" → $size: expected a number or operators'),
        ({"tags": {"$elemMatch": ["a"]}}, 'at "tags" → $elemMatch: expected an object'),
        ({"a": {"$exists": 1}}, 'at "a" → $exists: expected true or false, got int'),
        ({"a": {"$type": "int"}}, 'at "a" → $type: expected one of array, boolean, null'),
        ({"a": {"$type": 1}}, 'at "a" → $type: expected one of'),
        ({"a": {"$lt": None}}, 'at "a" → $lt: expected a number or a string, got None'),
        ({"a": {"$gte": [1]}}, 'at "a" → $gte: expected a number or a string, got list'),
        ({"a": {"$gt": True}}, 'at "a" → $gt: expected a number or a string, got bool'),
        ({"a": {"$eq": [1]}}, 'at "a" → $eq: expected a string, number, boolean or null'),
        ({"a": {"$ne": {"b": 1}}}, 'at "a" → $ne: expected a string, number, boolean or null'),
        ({"v": {"$vgt": None}}, 'at "v" → $vgt: expected a version string or a number'),
        ({"a": {"$regex": 1}}, 'at "a" → $regex: expected a regular expression string'),
        ({"a": {"$regx": "x"}}, 'at "a" → $regx: unknown operator'),
        ({"a": {"$or": [{"b": 1}]}}, 'at "a" → $or: $or combines conditions'),
        ({"$in": ["DE"]}, "at $in: $in tests a value; put it under an attribute path"),
        ({"geo..country": "DE"}, 'at "geo..country": an attribute path needs a name'),
        ({"": "DE"}, 'at "": an attribute path needs a name'),
        ({1: "DE"}, "at the top level: keys must be strings, got int"),
        (["geo.country"], "at the top level: expected a condition object, got list"),
        (None, "at the top level: expected a condition object, got None"),
        ({"a": {"b": {1: 2}}}, 'at "a": keys must be strings, got int'),
        ({"a": ("x", "y")}, 'at "a": expected a JSON value, got tuple'),
        ({"a": {"$in": ("x", "y")}}, 'at "a" → $in: expected a list, got tuple'),
    ],
)
def test_invalid_conditions_name_the_failing_path(condition: Any, message: str) -> None:
    with pytest.raises(ConditionError, match=f"^{re.escape(message)}"):
        compile_condition(condition)


@pytest.mark.parametrize("pattern", ["(", "[a-", "a**", "(?P<x>a)(?P<x>b)"])
def test_invalid_regular_expressions_fail_to_compile(pattern: str) -> None:
    with pytest.raises(ConditionError, match=r'^at "ua" → \$regex: invalid regular expression'):
        compile_condition({"ua": {"$regex": pattern}})


def test_nested_locations_render_every_step() -> None:
    condition = {
        "$or": [
            {"device.type": "mobile"},
            {"tags": {"$elemMatch": {"$not": {"$in": 3}}}},
        ]
    }

    with pytest.raises(ConditionError) as info:
        compile_condition(condition)

    assert info.value.path == '$or[1] → "tags" → $elemMatch → $not → $in'
    assert info.value.reason == "expected a list, got int"
    assert str(info.value) == (
        'at $or[1] → "tags" → $elemMatch → $not → $in: expected a list, got int'
    )


def test_locations_inside_all_name_the_entry() -> None:
    with pytest.raises(ConditionError, match=re.escape('at "tags" → $all[1] → $lt: expected')):
        compile_condition({"tags": {"$all": ["a", {"$lt": None}]}})


def test_condition_error_is_a_value_error_with_an_empty_path_at_the_top() -> None:
    with pytest.raises(ValueError, match="expected a condition object") as info:
        compile_condition("geo.country")  # type: ignore[arg-type]

    assert isinstance(info.value, ConditionError)
    assert info.value.path == ""


def test_conditions_nested_too_deeply_are_refused() -> None:
    condition: dict[str, Any] = {"a": 1}
    for _ in range(MAX_DEPTH + 1):
        condition = {"$not": condition}

    with pytest.raises(ConditionError, match=f"nested more than {MAX_DEPTH} levels deep"):
        compile_condition(condition)


def test_values_nested_too_deeply_are_refused() -> None:
    value: Any = 1
    for _ in range(MAX_DEPTH + 1):
        value = [value]

    with pytest.raises(ConditionError, match=f'^at "a": nested more than {MAX_DEPTH} levels'):
        compile_condition({"a": value})


def test_validate_and_evaluate_raise_the_same_error() -> None:
    condition = {"geo.country": {"$in": "DE"}}

    with pytest.raises(ConditionError, match=re.escape('at "geo.country" → $in')):
        validate_condition(condition)
    with pytest.raises(ConditionError, match=re.escape('at "geo.country" → $in')):
        evaluate_condition(condition, {"geo": {"country": "DE"}})


def test_validate_accepts_a_valid_condition_without_changing_it() -> None:
    condition = {"geo.country": {"$in": ["DE"]}, "$or": [{"time.hour": {"$lt": 9}}]}

    validate_condition(condition)

    assert condition == {"geo.country": {"$in": ["DE"]}, "$or": [{"time.hour": {"$lt": 9}}]}
