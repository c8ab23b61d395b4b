"""The inline fast paths: right for the exact types they are about, the closures for the rest.

Generated functions test the most common operators inline for values of exact types (``str``,
``int``, ``float``, lists of them) and call the operator's closure for anything else. These
tests pin the results of the fast paths on the edges (``True`` against ``1``, ``1.0`` against
``1``, subclasses, non-ASCII text, lone surrogates and astral characters, arrays holding
objects or ``None``), check that they agree with the general closures on any value, and that
the shapes the rule builder emits still mean what they mean in GrowthBook.
"""

from __future__ import annotations

import copy
import itertools
import math
import re
from collections.abc import Callable
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from personalize.rules import ConditionError, compile_condition
from personalize.rules.checks import BUILDERS
from personalize.rules.errors import ROOT

from .helpers import DIFFERENTIAL, source_of
from .strategies import SCALARS, json_values


class Text(str):
    """A str subclass: never on an inline path."""


class Number(int):
    """An int subclass, likewise."""


class Real(float):
    """A float subclass, likewise."""


def matches(condition: dict[str, Any], attributes: Any) -> bool:
    return compile_condition(condition)(attributes)


def passes(condition: Any, value: Any) -> bool:
    """Whether ``{"x": value}`` passes ``{"x": condition}``."""
    return compile_condition({"x": condition})({"x": value})


def closure(op: str, operand: Any) -> Callable[[Any], bool]:
    """The operator's general test, which the inline tests must agree with."""
    return BUILDERS[op](op, operand, ROOT)


# Values for the exactness checks: each JSON type, the numbers and booleans that Python
# confuses, subclasses, non-finite numbers, non-ASCII and astral text, lone surrogates, arrays
# holding objects, arrays and None, and a few things that are not JSON at all.
VALUES: list[Any] = [
    None, True, False, 0, 1, -1, 2, 3, 5, 1.0, 3.0, 2.5, -0.0, math.nan, math.inf, 10**30,
    Number(1), Number(3), Real(1.0), Real(3.0),
    "", "a", "A", "1", "3", "~", "06:00", "05:59", "10:59", "11:00", "22:00", "23:30",
    "01:59", "02:00", "2026-12-01", "2026-12-24", "2026-12-24T23", "2026-11-30",
    "é", "É", "\ue000", "\uffff", "\U0001f600", "\ud83d", "\udfff", "06:00\U0001f600",
    "06:0\U0001f600", "2026-12-2\ud800", "Customers", "customers", "CUSTOMERS", "sale", "SALE",
    "spring-sale", "Spring-LAUNCH", "İ", "ſale", Text("06:30"), Text("Customers"), Text("sale"),
    Text("a"), [], ["Customers"], [None], [None, "Customers"], [{"a": 1}, "Customers"],
    [["Customers"]], ("Customers",), ["a", 1], [True], [False], [1], [1.0], [0], [Number(1)],
    [Text("Customers")], [math.nan], [3, "a"], [{"x": 1}], [[1, 2]], [None, None], {"x": 1},
    {}, MappingProxyType({"x": 1}), b"sale", (1, 2), frozenset({"a"}),
]  # fmt: skip

# Operators with an inline test, and operands that exercise each of its forms.
OPERATORS: list[tuple[str, Any]] = [
    ("$lt", "11:00"), ("$lte", "2026-12-24"), ("$gt", "a"), ("$gte", "06:00"),
    ("$gte", ""), ("$lt", "~"), ("$gt", "\x7f"), ("$lt", "é"), ("$gt", "\U0001f600"),
    ("$lt", 3), ("$gte", 2.5), ("$eq", 1), ("$ne", 3.0), ("$eq", "Customers"), ("$ne", "a"),
    ("$eq", True), ("$ne", None), ("$eq", math.nan),
    ("$in", [1, 2, 3, 4, 5]), ("$in", ["a", 1, None, False]), ("$in", [1.0, "3"]),
    ("$in", []), ("$in", [True]), ("$in", ["Customers"]), ("$in", [math.nan]),
    ("$nin", [1, 2.5]), ("$nin", ["a", 3]), ("$nin", ["a"]),
    ("$ini", ["Sale", "launch"]), ("$ini", ["A", 2]), ("$ini", ["i̇"]), ("$nini", ["é", "É"]),
    ("$nini", ["CUSTOMERS", 1]),
    ("$regex", "^Cust"), ("$regexi", "sale|launch"), ("$notRegex", "a"), ("$notRegexi", "SALE"),
    ("$regex", ""), ("$regexi", "[\ue000-\uffff]"),
]  # fmt: skip


@pytest.mark.parametrize(("op", "operand"), OPERATORS)
def test_inline_tests_agree_with_the_closures_on_any_value(op: str, operand: Any) -> None:
    general = closure(op, operand)
    compiled = compile_condition({"x": {op: operand}})

    for value in VALUES:
        assert compiled({"x": value}) is general(value), value


@pytest.mark.parametrize(
    "operators",
    [
        {"$gte": "06:00", "$lt": "11:00"},
        {"$gte": "2026-12-01", "$lte": "2026-12-24"},
        {"$gte": 2, "$lt": 5},
        {"$gt": "a", "$lt": "é"},
        {"$gte": 1, "$in": [1, 3]},
        {"$regexi": "sale", "$ne": "SALE"},
        {"$exists": True, "$lt": "b"},
    ],
)
def test_operators_sharing_a_type_test_agree_with_the_closures(operators: dict[str, Any]) -> None:
    checks = [closure(op, operand) for op, operand in operators.items()]
    compiled = compile_condition({"x": operators})

    for value in VALUES:
        assert compiled({"x": value}) is all(check(value) for check in checks), value


# Ordering against an ASCII string


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("06:00", True),
        ("10:59", True),
        ("06:00:01", True),
        ("05:59", False),
        ("11:00", False),
        ("", False),
        ("0", False),
        # The first character that differs is ASCII on the constant's side, so any non-ASCII
        # character, astral or lone surrogate, sorts after it in either order.
        ("06:00\U0001f600", True),
        ("06:0\U0001f600", True),
        ("1\U0001f600", False),
        ("1\ud83d", False),
        ("06:00\udfff", True),
        ("é", False),
        (Text("07:00"), True),
        (Text("12:00"), False),
        (6, False),
        (6.5, False),
        (True, False),
        (None, False),
        (["07:00"], False),
        ({"a": "07:00"}, False),
    ],
)
def test_a_time_window_orders_strings(value: Any, expected: bool) -> None:
    assert passes({"$gte": "06:00", "$lt": "11:00"}, value) is expected


@pytest.mark.parametrize(
    ("condition", "value", "expected"),
    [
        ({"$gt": "z"}, "\U0001f600", True),
        ({"$gt": "z"}, "\ue000", True),
        ({"$gt": "z"}, "\ud800", True),
        ({"$lt": "~"}, "\U0001f600", False),
        ({"$lte": "a"}, "a", True),
        ({"$lte": "a"}, "a\x00", False),
        ({"$gte": "a"}, "a\U0001f600", True),
        ({"$gt": ""}, "\udfff", True),
        ({"$lt": ""}, "", False),
        ({"$gte": "2026-12-01", "$lte": "2026-12-24"}, "2026-12-24", True),
        ({"$gte": "2026-12-01", "$lte": "2026-12-24"}, "2026-12-24T00:00", False),
        ({"$gte": "2026-12-01", "$lte": "2026-12-24"}, "2026-12-1\U0001f600", True),
        ({"$gte": "2026-12-01", "$lte": "2026-12-24"}, 20261201, False),
    ],
)
def test_ascii_orderings(condition: dict[str, Any], value: Any, expected: bool) -> None:
    assert passes(condition, value) is expected


def utf16(text: str) -> bytes:
    return text.encode("utf-16-be", "surrogatepass")


# Any code point, lone surrogates included, which st.text() leaves out.
ANY_TEXT = st.text(
    st.one_of(st.characters(codec=None, exclude_categories=[]), st.sampled_from("\ud83d\udfff")),
    max_size=4,
)
ASCII_TEXT = st.text(st.characters(max_codepoint=0x7F), max_size=4)
PROPERTY = settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@PROPERTY
@given(ANY_TEXT, ASCII_TEXT, st.sampled_from(["$lt", "$lte", "$gt", "$gte"]))
def test_ascii_orderings_follow_utf16_code_units(value: str, bound: str, op: str) -> None:
    expected = {
        "$lt": utf16(value) < utf16(bound),
        "$lte": utf16(value) <= utf16(bound),
        "$gt": utf16(value) > utf16(bound),
        "$gte": utf16(value) >= utf16(bound),
    }[op]

    assert passes({op: bound}, value) is expected
    assert passes({op: bound}, Text(value)) is expected


# Membership


@pytest.mark.parametrize(
    ("condition", "value", "expected"),
    [
        ({"$in": [1, 2, 3, 4, 5]}, 3, True),
        ({"$in": [1, 2, 3, 4, 5]}, 3.0, True),
        ({"$in": [1, 2, 3, 4, 5]}, 3.5, False),
        ({"$in": [1, 2, 3, 4, 5]}, True, False),
        ({"$in": [1, 2, 3, 4, 5]}, "3", False),
        ({"$in": [1, 2, 3, 4, 5]}, Number(3), True),
        ({"$in": [1, 2, 3, 4, 5]}, Real(3.0), True),
        ({"$in": [1, 2, 3, 4, 5]}, [7, 3.0], True),
        ({"$in": [1, 2, 3, 4, 5]}, [True, None, {"a": 1}], False),
        ({"$in": [1, 2, 3, 4, 5]}, [[3]], False),
        ({"$in": [1, 2, 3, 4, 5]}, None, False),
        ({"$in": [0]}, False, False),
        ({"$in": [0]}, -0.0, True),
        ({"$in": [True]}, 1, False),
        ({"$in": [True]}, True, True),
        ({"$in": ["a", 1, None, False]}, "a", True),
        ({"$in": ["a", 1, None, False]}, 1.0, True),
        ({"$in": ["a", 1, None, False]}, True, False),
        ({"$in": ["a", 1, None, False]}, False, True),
        ({"$in": ["a", 1, None, False]}, 0, False),
        ({"$in": ["a", 1, None, False]}, None, True),
        ({"$in": ["a", 1, None, False]}, "1", False),
        ({"$in": ["a", 1, None, False]}, Text("a"), True),
        ({"$in": ["a", 1, None, False]}, ["b", {"a": 1}, 1.0], True),
        ({"$nin": [1, 2.5]}, 1.0, False),
        ({"$nin": [1, 2.5]}, True, True),
        ({"$nin": [1, 2.5]}, 2.5, False),
        ({"$nin": [1, 2.5]}, "1", True),
        ({"$nin": [1, 2.5]}, [2, 3], True),
        ({"$nin": [1, 2.5]}, [2, 1], False),
    ],
)
def test_membership_keeps_numbers_and_booleans_apart(
    condition: dict[str, Any], value: Any, expected: bool
) -> None:
    assert passes(condition, value) is expected


@pytest.mark.parametrize(
    ("condition", "value", "expected"),
    [
        ({"$ini": ["Sale", "LAUNCH"]}, "sale", True),
        ({"$ini": ["Sale", "LAUNCH"]}, "SALE", True),
        ({"$ini": ["Sale", "LAUNCH"]}, "Launch", True),
        ({"$ini": ["Sale", "LAUNCH"]}, "sales", False),
        ({"$ini": ["Sale", "LAUNCH"]}, Text("SaLe"), True),
        ({"$ini": ["Sale", "LAUNCH"]}, ["x", "sALE"], True),
        ({"$ini": ["Sale", "LAUNCH"]}, [["sale"]], False),
        ({"$ini": ["Sale", "LAUNCH"]}, None, False),
        ({"$ini": ["Sale", "LAUNCH"]}, 1, False),
        # Python's lower(), like JavaScript's toLowerCase(), has no special cases for "ſ".
        ({"$ini": ["Sale", "LAUNCH"]}, "ſale", False),
        ({"$ini": ["É"]}, "é", True),
        ({"$ini": ["A", 2]}, 2.0, True),
        ({"$ini": ["A", 2]}, "a", True),
        ({"$ini": ["A", 2]}, "2", False),
        ({"$ini": ["A", 2]}, True, False),
        ({"$nini": ["CUSTOMERS", 1]}, "customers", False),
        ({"$nini": ["CUSTOMERS", 1]}, "guests", True),
        ({"$nini": ["CUSTOMERS", 1]}, 1.0, False),
        ({"$nini": ["CUSTOMERS", 1]}, True, True),
        ({"$nini": ["CUSTOMERS", 1]}, None, True),
    ],
)
def test_case_insensitive_membership(condition: dict[str, Any], value: Any, expected: bool) -> None:
    assert passes(condition, value) is expected


# Regular expressions


@pytest.mark.parametrize(
    ("condition", "value", "expected"),
    [
        ({"$regexi": "sale|launch"}, "spring-SALE", True),
        ({"$regexi": "sale|launch"}, "Launch-week", True),
        ({"$regexi": "sale|launch"}, "spring", False),
        ({"$regexi": "sale|launch"}, "", False),
        ({"$regexi": "sale|launch"}, Text("SALE"), True),
        ({"$regexi": "sale|launch"}, ["sale"], False),
        ({"$regexi": "sale|launch"}, None, False),
        ({"$regexi": "sale|launch"}, b"sale", False),
        # Python's IGNORECASE matches "ſ" with "s".
        ({"$regexi": "sale|launch"}, "ſale", True),
        ({"$regex": "sale"}, "SALE", False),
        ({"$regex": "^$"}, "", True),
        ({"$regex": "\U0001f600"}, "a\U0001f600", True),
        ({"$notRegex": "sale"}, "spring", True),
        ({"$notRegex": "sale"}, "sale", False),
        ({"$notRegex": "sale"}, None, True),
        ({"$notRegex": "sale"}, ["sale"], True),
        ({"$notRegexi": "SALE"}, "sale", False),
        ({"$notRegexi": "SALE"}, Text("sale"), False),
        ({"$notRegexi": "SALE"}, 5, True),
    ],
)
def test_regular_expressions(condition: dict[str, Any], value: Any, expected: bool) -> None:
    assert passes(condition, value) is expected


# $elemMatch of a scalar test


@pytest.mark.parametrize(
    ("operand", "value", "expected"),
    [
        ({"$eq": "Customers"}, ["Customers"], True),
        ({"$eq": "Customers"}, ["Staff", "Customers"], True),
        ({"$eq": "Customers"}, ["customers"], False),
        ({"$eq": "Customers"}, [None, "Customers"], True),
        ({"$eq": "Customers"}, [{"name": "Customers"}, "Customers"], True),
        ({"$eq": "Customers"}, [{"name": "Customers"}], False),
        ({"$eq": "Customers"}, [["Customers"]], False),
        ({"$eq": "Customers"}, [Text("Customers")], True),
        ({"$eq": "Customers"}, ("Customers",), True),
        ({"$eq": "Customers"}, "Customers", False),
        ({"$eq": "Customers"}, [], False),
        ({"$eq": "Customers"}, None, False),
        ({"$eq": "Customers"}, {"0": "Customers"}, False),
        ({"$eq": 1}, [1], True),
        ({"$eq": 1}, [1.0], True),
        ({"$eq": 1}, [True], False),
        ({"$eq": 1}, ["1"], False),
        ({"$eq": 1}, [Number(1)], True),
        ({"$eq": 1}, [Real(1.0)], True),
        ({"$eq": 1}, [None, [1], {"a": 1}], False),
        ({"$eq": 1.5}, [0, 1.5], True),
        ({"$eq": True}, [1, 1.0], False),
        ({"$eq": True}, [False, True], True),
        ({"$eq": 0}, [False, None, ""], False),
        ({"$eq": math.nan}, [math.nan], False),
        ({"$eq": None}, [None], False),
        ({"$in": ["a", 1]}, [True], False),
        ({"$in": ["a", 1]}, [1.0], True),
        ({"$in": ["a", 1]}, ["A"], False),
        ({"$in": ["a", 1]}, [None, "a"], True),
        ({"$in": ["a", 1]}, [{"a": 1}], False),
        # An element that is an array is in the list if one of its elements is.
        ({"$in": ["a", 1]}, [["b", "a"]], True),
        ({"$in": ["a", 1]}, [[True]], False),
        ({"$in": [1, 2]}, [True, False, "1"], False),
        ({"$in": [1, 2]}, [Number(2)], True),
        ({"$in": [True, None]}, [None], False),
        ({"$in": [True, None]}, [1, True], True),
        ({"$in": [math.nan]}, [math.nan], True),
        ({"$in": []}, ["a", 1], False),
    ],
)
def test_elem_match_of_a_scalar_test(operand: dict[str, Any], value: Any, expected: bool) -> None:
    assert passes({"$elemMatch": operand}, value) is expected


@pytest.mark.parametrize(
    "operand",
    [
        {"$eq": "Customers"},
        {"$eq": "a"},
        {"$eq": 1},
        {"$eq": 3.0},
        {"$eq": True},
        {"$eq": math.nan},
        {"$in": ["a", 1]},
        {"$in": [1, 2]},
        {"$in": [None, "Customers", False]},
        {"$in": [math.nan]},
        {"$in": []},
    ],
)
def test_elem_match_agrees_with_testing_each_element(operand: dict[str, Any]) -> None:
    compiled = compile_condition({"x": {"$elemMatch": operand}})
    element = compile_condition({"x": operand})

    for value in [*VALUES, VALUES, [[value] for value in VALUES]]:
        expected = isinstance(value, (list, tuple)) and any(
            element({"x": item}) for item in value if item is not None
        )
        assert compiled({"x": value}) is expected, value


# The shape of the generated code


def test_and_wrappers_are_flattened() -> None:
    part = {"device.type": "mobile"}
    other = {"geo.country": {"$in": ["AT"]}}

    plain = compile_condition(part)
    both = compile_condition({**part, **other})

    assert compile_condition({"$and": [part]}).func.__code__ is plain.func.__code__
    assert compile_condition({"$and": [{"$and": [part]}]}).func.__code__ is plain.func.__code__
    assert compile_condition({"$and": [part, other]}).func.__code__ is both.func.__code__
    assert compile_condition({"$and": [part, {"$and": [other]}]}).func.__code__ is (
        both.func.__code__
    )


CALL = re.compile(r"_k\d+\(a\)")


@pytest.mark.parametrize(
    "condition",
    [
        {"$or": [{"a.b": {"$in": ["x", "y"]}}, {"a.c": {"$regexi": "sale|launch"}}]},
        {"$or": [{"t": {"$gte": "22:00"}}, {"t": {"$lt": "02:00"}}]},
        {"$nor": [{"a": 1}, {"b": 2, "c": 3}]},
        {"$not": {"a": 1, "b": {"$gt": 2}}},
        {"$or": [{"$not": {"a": 1}}, {"$and": [{"b": 1}, {"c": 2}]}]},
    ],
)
def test_small_logical_operators_are_inlined(
    condition: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    source = source_of(condition, monkeypatch)

    assert source.count("def _make(") == 1
    assert not CALL.search(source)


def test_large_logical_operators_are_functions_and_read_lazily(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    condition = {"$or": [{f"a.b{index}": index} for index in range(7)]}
    reads: list[str] = []

    class Recording(dict[str, Any]):
        def get(self, key: str, default: Any = None) -> Any:
            reads.append(key)
            return super().get(key, default)

    source = source_of(condition, monkeypatch)
    # A mapping other than a dict takes the general reader, which records each read.
    compiled = compile_condition(condition)
    result = compiled(MappingProxyType({"a": Recording({"b0": 9, "b1": 1})}))

    assert len(CALL.findall(source)) == 7
    assert result is True
    assert reads == ["b0", "b1"]


def test_a_path_is_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    condition = {"$or": [{"time.time": {"$gte": "22:00"}}, {"time.time": {"$lt": "02:00"}}]}

    source = source_of(condition, monkeypatch)

    assert source.count("_get(") == 2
    assert source.count("_read(") == 1


def test_paths_share_their_common_start(monkeypatch: pytest.MonkeyPatch) -> None:
    condition = {"time.time": {"$gte": "06:00"}, "time.weekday": {"$in": [1, 2]}, "a.b.c": 1}

    source = source_of(condition, monkeypatch)

    assert source.count("_get(") == 6


def test_operators_on_one_path_share_a_type_test(monkeypatch: pytest.MonkeyPatch) -> None:
    assert source_of({"t": {"$gte": "06:00", "$lt": "11:00"}}, monkeypatch).count("type(") == 1
    assert source_of({"h": {"$gte": 6, "$lt": 11}}, monkeypatch).count("type(") == 1
    assert source_of({"h": {"$gte": 6, "$lt": "é"}}, monkeypatch).count("type(") == 1
    assert source_of({"h": {"$gte": 6, "$lt": "a"}}, monkeypatch).count("type(") == 2


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        ({"a": {"b": {"c": 1, "d": 2}, "e": 3}}, True),
        ({"a": {"b": {"c": 1, "d": 2}, "e": 4}}, False),
        ({"a": {"b": {"c": 1, "d": 3}, "e": 3}}, False),
        ({"a": {"b": MappingProxyType({"c": 1, "d": 2}), "e": 3}}, True),
        ({"a": MappingProxyType({"b": {"c": 1, "d": 2}, "e": 3})}, True),
        (MappingProxyType({"a": {"b": {"c": 1, "d": 2}, "e": 3}}), True),
        ({"a": {"b": [1, 2], "e": 3}}, False),
        ({"a": {"b": None, "e": 3}}, False),
        ({"a": None}, False),
        ({}, False),
        (None, False),
        ([1], False),
    ],
)
def test_shared_path_starts_fall_back_when_they_are_not_dicts(
    attributes: Any, expected: bool
) -> None:
    assert matches({"a.b.c": 1, "a.b.d": 2, "a.e": 3}, attributes) is expected


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        ({"t": ["x"]}, True),
        ({"t": ("x",)}, True),
        ({"t": ["y"]}, False),
        ({"t": ["x", "y"]}, False),
        ({"t": {"0": "x", "length": 1}}, True),
        ({"t": "x"}, False),
    ],
)
def test_a_shared_start_that_is_an_array_reads_through_it(
    attributes: dict[str, Any], expected: bool
) -> None:
    assert matches({"t.0": "x", "t.length": 1}, attributes) is expected


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        (
            {"$or": [{"a": 1}, {"b": {"$lt": None}}]},
            'at $or[1] → "b" → $lt: expected a number or a string, got None',
        ),
        (
            {"$or": [{"a": index} for index in range(12)] + [{"b": {"$lt": None}}]},
            'at $or[12] → "b" → $lt: expected a number or a string, got None',
        ),
        ({"$not": {"b": {"$in": 1}}}, 'at $not → "b" → $in: expected a list, got int'),
        ({"$nor": [{"$or": [{"a": {"$regex": 1}}]}]}, 'at $nor[0] → $or[0] → "a" → $regex'),
        ({"$or": [{"a": 1}, "b"]}, "at $or[1]: expected a condition object, got str"),
        ({"$or": [{"$not": [1]}]}, "at $or[0] → $not: expected a condition object, got list"),
        ({"$not": {"$or": {"a": 1}}}, "at $not → $or: expected a list of conditions, got dict"),
    ],
)
def test_inlined_conditions_report_errors_where_they_are(
    condition: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConditionError, match=f"^{re.escape(message)}"):
        compile_condition(condition)


# The shapes of the rule builder, against GrowthBook


RULE_BUILDER: list[dict[str, Any]] = [
    {"geo.country": {"$in": ["DE", "AT", "CH"]}},
    {"geo.country": {"$ini": ["de", "at"]}},
    {"device.type": "mobile"},
    {"device.type": {"$in": ["mobile", "tablet"]}},
    {"user.authenticated": True},
    {"user.authenticated": False},
    {"time.hour": {"$gte": 6, "$lt": 11}},
    {"time.weekday": {"$in": [1, 2, 3, 4, 5]}},
    {"time.time": {"$gte": "06:00", "$lt": "11:00"}, "time.weekday": {"$in": [1, 2, 3, 4, 5]}},
    {"time.date": {"$gte": "2026-12-01", "$lte": "2026-12-24"}},
    {"$or": [{"time.time": {"$gte": "22:00"}}, {"time.time": {"$lt": "02:00"}}]},
    {"referral.campaign": {"$regexi": "sale|launch"}},
    {"referral.channel": {"$in": ["email", "paid_search"]}},
    {
        "$or": [
            {"referral.channel": {"$in": ["email", "direct"]}},
            {"referral.campaign": {"$regexi": "sale|launch"}},
        ]
    },
    {"user.groups": {"$elemMatch": {"$eq": "Customers"}}},
    {"user.groups": {"$elemMatch": {"$in": ["Customers", "Staff"]}}},
    {"$and": [{"device.type": "mobile"}]},
    {"$and": [{"geo.country": {"$in": ["AT"]}}, {"user.groups": {"$elemMatch": {"$eq": "Staff"}}}]},
    {
        "$and": [
            {"$or": [{"time.time": {"$gte": "22:00"}}, {"time.time": {"$lt": "02:00"}}]},
            {"time.date": {"$gte": "2026-12-01", "$lte": "2026-12-24"}},
            {"user.authenticated": True},
        ]
    },
    {
        "$or": [
            {"$and": [{"device.type": "mobile"}, {"time.hour": {"$lt": 12}}]},
            {"query.ref": "ad"},
        ]
    },
    {"$nor": [{"geo.country": {"$in": ["DE"]}}, {"referral.campaign": {"$regexi": "^$"}}]},
    {"$not": {"user.groups": {"$elemMatch": {"$eq": "Customers"}}}},
]

BASE_VISITOR: dict[str, Any] = {
    "geo": {"country": "AT"},
    "time": {"hour": 9, "weekday": 3, "date": "2026-12-05", "time": "09:30"},
    "device": {"type": "mobile"},
    "referral": {"channel": "paid_search", "campaign": "spring-sale"},
    "query": {"ref": "ad"},
    "user": {"authenticated": True, "groups": ["Customers"]},
}

# (section, key, value) replacements of the base visitor; a None key replaces the section.
CHANGES: list[tuple[str, str | None, Any]] = [
    ("geo", "country", "at"), ("geo", "country", "DE"), ("geo", "country", ["AT"]),
    ("geo", "country", "É"), ("geo", None, None), ("geo", None, ["AT"]),
    ("time", "hour", 6.0), ("time", "hour", True), ("time", "hour", "9"), ("time", "hour", 11),
    ("time", "weekday", 5.0), ("time", "weekday", True), ("time", "weekday", 6),
    ("time", "time", "23:15"), ("time", "time", "01:59"), ("time", "time", "02:00"),
    ("time", "time", "22:00"), ("time", "time", "21:59"), ("time", "time", "06:00"),
    ("time", "time", "2\U0001f600"), ("time", "time", "\ud83d"), ("time", "time", 930),
    ("time", "date", "2026-11-30"), ("time", "date", "2026-12-24"), ("time", "date", "2026-12-25"),
    ("time", "date", "2026-12-24\U0001f600"), ("time", "date", None), ("time", None, None),
    ("time", None, ["09:30"]), ("time", None, "09:30"),
    ("device", "type", "desktop"), ("device", "type", ["mobile"]), ("device", None, "mobile"),
    ("referral", "campaign", "LAUNCH-week"), ("referral", "campaign", ""),
    ("referral", "campaign", None), ("referral", "campaign", 5), ("referral", "campaign", ["sale"]),
    ("referral", "channel", "email"), ("referral", "channel", ["direct"]),
    ("query", "ref", "Ad"), ("query", None, None),
    ("user", "authenticated", 1), ("user", "authenticated", None), ("user", "authenticated", False),
    ("user", "groups", []), ("user", "groups", ["customers"]), ("user", "groups", [None, "Staff"]),
    ("user", "groups", [["Customers"]]), ("user", "groups", "Customers"),
    ("user", "groups", [{"name": "Customers"}, "Staff"]), ("user", "groups", [1, True, None]),
    ("user", None, None),
]  # fmt: skip


def visitor(section: str, key: str | None, value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(BASE_VISITOR)
    if key is None:
        changed[section] = value
    else:
        changed[section][key] = value
    return changed


VISITORS = [BASE_VISITOR, {}, *(visitor(*change) for change in CHANGES)]


@pytest.fixture(scope="module")
def growthbook() -> Callable[[dict[str, Any], dict[str, Any]], bool]:
    core = pytest.importorskip("growthbook.core")

    def evaluate(condition: dict[str, Any], attributes: dict[str, Any]) -> bool:
        result: bool = core.evalCondition(attributes, condition)
        return result

    return evaluate


@pytest.mark.parametrize("condition", RULE_BUILDER)
def test_rule_builder_shapes_agree_with_growthbook(
    condition: dict[str, Any], growthbook: Callable[[dict[str, Any], dict[str, Any]], bool]
) -> None:
    compiled = compile_condition(condition)
    results = set()

    for attributes in VISITORS:
        expected = growthbook(condition, attributes)
        assert compiled(attributes) is expected, attributes
        results.add(expected)

    assert results == {True, False}


@pytest.mark.parametrize(("op", "operand"), OPERATORS)
def test_inline_operators_agree_with_growthbook(
    op: str, operand: Any, growthbook: Callable[[dict[str, Any], dict[str, Any]], bool]
) -> None:
    condition = {"x": {op: operand}}
    compiled = compile_condition(condition)

    for value in VALUES:
        # GrowthBook takes only JSON values, and reads only lists as arrays.
        if isinstance(value, (bytes, tuple, frozenset, MappingProxyType, Text, Number, Real)):
            continue
        if isinstance(value, list) and any(isinstance(item, (Text, Number)) for item in value):
            continue
        assert compiled({"x": value}) is growthbook(condition, {"x": value}), value


# Random rule-builder shapes and random values, against GrowthBook and the closures

_TEXT = st.one_of(
    st.sampled_from(["", "a", "A", "Customers", "sale", "06:00", "22:00", "é", "\U0001f600"]),
    ASCII_TEXT,
)
_NUMBERS = st.one_of(st.integers(-3, 6), st.sampled_from([0.0, 1.0, 2.5, -0.0, math.inf]))
_SCALARS = st.one_of(st.none(), st.booleans(), _NUMBERS, _TEXT, st.sampled_from(["\ud83d"]))
_ORDERED = st.one_of(_NUMBERS, ASCII_TEXT, _TEXT)
_FAST_OPERATORS = st.one_of(
    st.tuples(st.sampled_from(["$lt", "$lte", "$gt", "$gte"]), _ORDERED),
    st.tuples(st.sampled_from(["$eq", "$ne"]), _SCALARS),
    st.tuples(st.sampled_from(["$in", "$nin", "$ini", "$nini"]), st.lists(_SCALARS, max_size=4)),
    st.tuples(
        st.sampled_from(["$regex", "$regexi", "$notRegex", "$notRegexi"]),
        st.sampled_from(["", "a", "^A", "sale|launch", "[é\U0001f600]", "\\d"]),
    ),
    st.tuples(
        st.just("$elemMatch"),
        st.one_of(
            st.builds(lambda x: {"$eq": x}, _SCALARS),
            st.builds(lambda x: {"$in": x}, st.lists(_SCALARS, max_size=3)),
        ),
    ),
)
_VALUE_TESTS = st.one_of(_SCALARS, st.lists(_FAST_OPERATORS, min_size=1, max_size=2).map(dict))
_PATHS = st.sampled_from(["x", "y", "s.x", "s.y", "s.t.x"])
_LEAVES = st.dictionaries(_PATHS, _VALUE_TESTS, min_size=1, max_size=2)
_CONDITIONS = st.recursive(
    _LEAVES,
    lambda children: st.one_of(
        st.builds(lambda items: {"$and": items}, st.lists(children, min_size=1, max_size=3)),
        st.builds(lambda items: {"$or": items}, st.lists(children, max_size=3)),
        st.builds(lambda items: {"$nor": items}, st.lists(children, max_size=2)),
        st.builds(lambda item: {"$not": item}, children),
        st.builds(lambda a, b: {**a, **b}, children, _LEAVES),
    ),
    max_leaves=5,
)
_VALUES = json_values(st.one_of(_SCALARS, SCALARS))
_ATTRIBUTES = st.fixed_dictionaries(
    {},
    optional={
        "x": _VALUES,
        "y": _VALUES,
        "s": st.one_of(
            st.fixed_dictionaries(
                {},
                optional={
                    "x": _VALUES,
                    "y": _VALUES,
                    "t": st.one_of(st.fixed_dictionaries({}, optional={"x": _VALUES}), _VALUES),
                },
            ),
            _VALUES,
        ),
    },
)


@DIFFERENTIAL
@given(_CONDITIONS, _ATTRIBUTES)
def test_random_rule_builder_shapes_agree_with_growthbook(
    condition: dict[str, Any], attributes: dict[str, Any]
) -> None:
    core = pytest.importorskip("growthbook.core")

    assert compile_condition(condition)(attributes) is core.evalCondition(attributes, condition)


_WILD = st.one_of(
    _VALUES,
    st.builds(Text, _TEXT),
    st.builds(Number, st.integers(-2, 6)),
    st.builds(Real, _NUMBERS),
    st.lists(st.one_of(_SCALARS, st.builds(Text, _TEXT), st.builds(Number, st.integers(0, 3)))),
    st.tuples(_SCALARS),
    st.just(math.nan),
)


@DIFFERENTIAL
@given(_FAST_OPERATORS, _WILD)
def test_random_inline_operators_agree_with_the_closures(
    operator: tuple[str, Any], value: Any
) -> None:
    op, operand = operator
    if op == "$elemMatch":
        element = compile_condition({"x": operand})
        expected = isinstance(value, (list, tuple)) and any(
            element({"x": item}) for item in value if item is not None
        )
    else:
        expected = closure(op, operand)(value)

    assert passes({op: operand}, value) is expected


def test_the_rule_builder_cases_are_not_trivial() -> None:
    pairs = itertools.product(RULE_BUILDER, VISITORS)
    outcomes = [compile_condition(condition)(attributes) for condition, attributes in pairs]

    assert 0.2 < outcomes.count(True) / len(outcomes) < 0.8
