"""The public API: compiled conditions, the paths they read, evaluation helpers."""

from __future__ import annotations

import ast
import functools
from pathlib import Path
from typing import Any

import pytest

import personalize.rules
from personalize.rules import (
    OPERATORS,
    CompiledCondition,
    ConditionError,
    compile_condition,
    evaluate_condition,
)
from personalize.rules import conditions as conditions_module


def test_compiled_condition_keeps_its_source_and_is_callable() -> None:
    condition = {"geo.country": {"$in": ["DE", "AT", "CH"]}, "device.type": "mobile"}

    compiled = compile_condition(condition)

    assert isinstance(compiled, CompiledCondition)
    assert compiled.condition is condition
    assert compiled({"geo": {"country": "CH"}, "device": {"type": "mobile"}}) is True
    assert compiled({"geo": {"country": "CH"}, "device": {"type": "desktop"}}) is False
    assert repr(compiled) == f"CompiledCondition({condition!r})"


@pytest.mark.parametrize(
    ("condition", "paths"),
    [
        ({}, set()),
        ({"geo.country": "DE"}, {"geo.country"}),
        (
            {"geo.country": {"$in": ["DE"]}, "$or": [{"user.groups": {"$size": 0}}, {}]},
            {"geo.country", "user.groups"},
        ),
        (
            {"$and": [{"a": 1}, {"$nor": [{"b.c": 2}]}], "$not": {"d": {"$not": 3}}},
            {"a", "b.c", "d"},
        ),
        (
            {"user.groups.length": {"$gt": 1}, "user.groups.0": "x"},
            {"user.groups.length", "user.groups.0"},
        ),
        # Inside $elemMatch, paths name the elements' fields, not attributes.
        ({"visitor.interests": {"$elemMatch": {"topic": "ski"}}}, {"visitor.interests"}),
        ({"tags": {"$all": [{"$elemMatch": {"x": 1}}]}}, {"tags"}),
    ],
)
def test_paths_lists_every_attribute_read(condition: dict[str, Any], paths: set[str]) -> None:
    assert compile_condition(condition).paths == frozenset(paths)


def test_evaluate_condition_reuses_compiled_conditions() -> None:
    conditions_module._compile_json.cache_clear()
    condition = {"time.hour": {"$gte": 6, "$lt": 11}}

    assert evaluate_condition(condition, {"time": {"hour": 9}}) is True
    assert evaluate_condition(dict(condition), {"time": {"hour": 12}}) is False
    assert evaluate_condition(condition, {}) is False

    info = conditions_module._compile_json.cache_info()
    assert (info.hits, info.misses) == (2, 1)


def test_evaluate_condition_tells_apart_objects_with_the_same_keys_in_another_order() -> None:
    attributes = {"o": {"a": 1, "b": 2}}

    assert evaluate_condition({"o": {"a": 1, "b": 2}}, attributes) is True
    assert evaluate_condition({"o": {"b": 2, "a": 1}}, attributes) is False


def test_evaluate_condition_tells_apart_a_tuple_from_the_list_with_the_same_json() -> None:
    assert evaluate_condition({"a": {"$in": ["x"]}}, {"a": "x"}) is True
    with pytest.raises(ConditionError, match=r'^at "a" → \$in: expected a list, got tuple'):
        evaluate_condition({"a": {"$in": ("x",)}}, {"a": "x"})


def test_evaluate_condition_accepts_conditions_that_are_not_json() -> None:
    condition = {"n": float("nan")}

    assert evaluate_condition(condition, {"n": 1}) is False
    assert evaluate_condition({"$or": [condition, {"n": 1}]}, {"n": 1}) is True


def test_compiled_conditions_are_functools_partials() -> None:
    # Calling a partial costs no Python frame of its own, which matters at a thousand
    # conditions per request.
    assert issubclass(CompiledCondition, functools.partial)


def test_operators_lists_the_whole_language() -> None:
    assert frozenset(
        {
            "$eq", "$ne", "$lt", "$lte", "$gt", "$gte",
            "$in", "$nin", "$ini", "$nini", "$all", "$alli",
            "$elemMatch", "$size", "$exists", "$type",
            "$regex", "$regexi", "$notRegex", "$notRegexi",
            "$not", "$and", "$or", "$nor",
            "$veq", "$vne", "$vgt", "$vgte", "$vlt", "$vlte",
        }
    ) == OPERATORS  # fmt: skip


def test_the_public_names() -> None:
    assert sorted(personalize.rules.__all__) == [
        "CompiledCondition",
        "ConditionError",
        "OPERATORS",
        "compile_condition",
        "evaluate_condition",
        "validate_condition",
    ]


def test_the_rule_engine_imports_nothing_outside_the_standard_library() -> None:
    package = Path(personalize.rules.__file__).parent
    imported: set[str] = set()
    for module in package.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.Import):
                imported.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])

    assert imported == {
        "__future__", "collections", "dataclasses", "decimal", "functools", "json", "math",
        "operator", "random", "re", "sys", "typing",
    }  # fmt: skip
