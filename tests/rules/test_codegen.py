"""The generated functions: data stays data, shapes share code, size has no limit."""

from __future__ import annotations

from typing import Any

import pytest

from personalize.rules import codegen, compile_condition
from personalize.rules.codegen import Module, inline_test

from .helpers import source_of

HOSTILE = [
    "'); import os; os.system('true') #",
    '"""',
    "\\",
    "a\nb",
    "{value}",
    "__import__('os')",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_condition_text_is_data_never_code(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    key = text.replace(".", "")
    condition = {key: text, "x": {"$in": [text]}, "y": {"$ne": text}}

    compiled = compile_condition(condition)

    assert compiled({key: text, "x": text, "y": "other"}) is True
    assert compiled({key: text + "!", "x": text, "y": "other"}) is False
    assert compiled.paths == {key, "x", "y"}
    source = source_of(condition, monkeypatch)
    assert "def _make(" in source
    assert text not in source
    assert key not in source


def test_conditions_of_the_same_shape_share_their_code() -> None:
    first = compile_condition({"geo.country": {"$in": ["DE"]}, "time.hour": {"$gte": 6}})
    second = compile_condition({"geo.country": {"$in": ["FR", "IT"]}, "time.hour": {"$gte": 9}})
    other = compile_condition({"geo.country": {"$in": ["DE"]}, "time.hour": {"$lt": 6}})

    assert first.func.__code__ is second.func.__code__
    assert first.func.__code__ is not other.func.__code__
    assert first({"geo": {"country": "DE"}, "time": {"hour": 7}}) is True
    assert second({"geo": {"country": "DE"}, "time": {"hour": 7}}) is False


def test_large_conditions_compile() -> None:
    condition = {f"a{index}.b": {"$in": [str(index)], "$ne": "x"} for index in range(400)}
    attributes = {f"a{index}": {"b": str(index)} for index in range(400)}

    compiled = compile_condition(condition)

    assert compiled(attributes) is True
    assert compiled({**attributes, "a399": {"b": "x"}}) is False
    assert len(compiled.paths) == 400


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        ({"a": {"b": {"c": {"d": {"e": 1}}}}}, True),
        ({"a": {"b": [{"c": {"d": {"e": 1}}}]}}, False),
        ({"a": {"b": [0, {"c": [{"e": 1}]}]}}, False),
        ({"a": None}, False),
    ],
)
def test_long_paths(attributes: dict[str, Any], expected: bool) -> None:
    assert compile_condition({"a.b.c.d.e": 1})(attributes) is expected


def test_long_paths_through_arrays() -> None:
    compiled = compile_condition({"a.b.1.c.0": "x", "a.b.length": 2})

    assert compiled({"a": {"b": [{}, {"c": ["x"]}]}}) is True
    assert compiled({"a": {"b": [{}, {"c": ("x",)}]}}) is True
    assert compiled({"a": {"b": [{}, {"c": "x"}]}}) is False


def test_inline_tests_fall_back_on_the_operator_closure() -> None:
    module = Module()

    assert inline_test(module, "$regex", "^a", "_v1", "_k9") == (
        "(_k0(_v1) is not None if type(_v1) is str else _k9(_v1))"
    )
    assert inline_test(module, "$in", ["a"], "_v1", "_k9") == (
        "(_v1 in _k1 if type(_v1) is str else _k9(_v1))"
    )
    assert inline_test(module, "$gte", 6, "_v1", "_k9") == (
        "(_v1 >= _k2 if type(_v1) in _NUMBER else _k9(_v1))"
    )
    assert inline_test(module, "$eq", None, "_v1", "_k9") == "_v1 is _k3"
    assert inline_test(module, "$exists", False, "_v1", "_k9") == "_v1 is None"
    assert inline_test(module, "$in", ["a", 1], "_v1", "_k9") == (
        "(_v1 in _k4 if type(_v1) is str else _v1 in _k5 if type(_v1) in _NUMBER else _k9(_v1))"
    )
    assert inline_test(module, "$nini", ["A"], "_v1", "_k9") == (
        "(_v1.lower() not in _k6 if type(_v1) is str else _k9(_v1))"
    )
    assert inline_test(module, "$lt", "11:00", "_v1", "_k9") == (
        "(_v1 < _k7 if type(_v1) is str else _k9(_v1))"
    )
    # Only code points of ASCII strings are sure to order like UTF-16 code units.
    assert inline_test(module, "$lt", "é", "_v1", "_k9") == "_k9(_v1)"
    assert inline_test(module, "$vgt", "1.2", "_v1", "_k9") == "_k9(_v1)"
    assert inline_test(module, "$in", [True, None], "_v1", "_k9") == (
        "(_v1 in _k8 if type(_v1) is str else _k9(_v1))"
    )


class Text(str):
    """A str subclass, which the inline tests leave to the closures."""


class Number(int):
    """An int subclass, likewise."""


def test_subclasses_of_str_and_int_take_the_general_path() -> None:
    compiled = compile_condition(
        {"a": "x", "b": {"$in": ["y"]}, "c": 3, "d": {"$gt": 2}, "e": {"$ne": "z"}}
    )
    attributes = {"a": Text("x"), "b": Text("y"), "c": Number(3), "d": Number(3), "e": Text("z")}

    assert compiled({**attributes, "e": Text("w")}) is True
    assert compiled(attributes) is False


def test_wide_or_and_deep_nesting_compile() -> None:
    wide = compile_condition({"$or": [{f"a.b{index}": index} for index in range(3000)]})
    deep: dict[str, Any] = {"x": 1}
    for level in range(20):
        # Twenty negations in all, 30 levels deep: the result is the innermost condition's.
        deep = {"$nor": [deep]} if level % 2 else {"$not": {"$or": [deep]}}
    nested = compile_condition(deep)

    assert wide({"a": {"b2999": 2999}}) is True
    assert wide({"a": {"b2999": 2998}}) is False
    assert nested({"x": 1}) is True
    assert nested({"x": 2}) is False


def test_the_module_documentation_shows_the_generated_source(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    documented = codegen.__doc__ or ""
    example = documented.split("(long lines wrapped here)::")[1].split("and ``_make``")[0]
    condition = {
        "geo.country": {"$in": ["DE", "AT"]},
        "$or": [{"geo.city": "Wien"}, {"time.hour": {"$gte": 6, "$lt": 11}}],
    }

    source = source_of(condition, monkeypatch)

    assert "".join(example.split()) == "".join(source.split())
