"""Value types and equality in the condition language.

Values are compared as JSON values, without type coercion: ``1`` never equals ``"1"`` or
``True``, while ``1`` equals ``1.0``. Arrays and objects are equal when their JSON forms are, so
element order and object key order matter (keys that look like array indices come first, in
numeric order, as in JavaScript), and a non-finite number nested inside them compares like
``null``.

Every equality test is built from a constant when a condition is compiled; the tests only look
at the attribute value they are given.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from .paths import Check

#: The names ``$type`` accepts, one per JSON type.
TYPE_NAMES = frozenset({"null", "boolean", "number", "string", "array", "object"})

#: The Python types read as an array.
ARRAY_TYPES = (list, tuple)

# The largest array index in JavaScript; keys up to it sort first in an object.
_MAX_JS_INDEX = 2**32 - 2
# Checked before int(), which refuses very long digit strings.
_MAX_INDEX_DIGITS = len(str(_MAX_JS_INDEX))


def is_number(value: Any) -> bool:
    """Tell whether a value is a number (``bool`` is not one).

    Args:
        value: Any value.

    Returns:
        True for ``int`` and ``float`` values other than booleans.
    """
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def type_name(value: Any) -> str:
    """Name the JSON type of a value, as ``$type`` sees it.

    Args:
        value: Any value.

    Returns:
        One of :data:`TYPE_NAMES`, or ``"unknown"`` for a value that is not JSON-like.
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, ARRAY_TYPES):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return "unknown"


def type_check(name: str) -> Check:
    """Build the test for ``$type``.

    Args:
        name: One of :data:`TYPE_NAMES`.

    Returns:
        A test that is true for values of that JSON type.
    """
    return _TYPE_CHECKS[name]


_TYPE_CHECKS: dict[str, Check] = {
    "null": lambda value: value is None,
    "boolean": lambda value: isinstance(value, bool),
    "number": is_number,
    "string": lambda value: isinstance(value, str),
    "array": lambda value: isinstance(value, ARRAY_TYPES),
    "object": lambda value: isinstance(value, Mapping),
}


def js_key_order(obj: Mapping[Any, Any]) -> list[Any]:
    """List an object's keys in JavaScript property order.

    Args:
        obj: A mapping.

    Returns:
        Keys that are canonical array indices in numeric order, then the others in
        insertion order.
    """
    indices: list[str] = []
    others: list[Any] = []
    for key in obj:
        (indices if _is_index_key(key) else others).append(key)
    indices.sort(key=int)
    return [*indices, *others]


def _is_index_key(key: Any) -> bool:
    return (
        isinstance(key, str)
        and len(key) <= _MAX_INDEX_DIGITS
        and key.isascii()
        and key.isdigit()
        and (key == "0" or key[0] != "0")
        and int(key) <= _MAX_JS_INDEX
    )


def json_value(value: Any) -> Any:
    """Map a value to what JSON would keep of it: non-finite numbers become ``None``.

    Args:
        value: Any value.

    Returns:
        ``None`` for NaN and infinities, otherwise the value itself.
    """
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def scalar_check(expected: Any) -> Check:
    """Build a strict equality test against a constant scalar.

    Args:
        expected: ``None``, a boolean, a number or a string.

    Returns:
        A test that is true for values of the same JSON type that are equal to ``expected``.
    """
    if expected is None:
        return lambda value: value is None
    if isinstance(expected, bool):
        return lambda value: value is expected
    if isinstance(expected, str):
        return lambda value: value == expected and isinstance(value, str)
    return lambda value: value == expected and is_number(value)


def literal_check(expected: Any, insensitive: bool = False) -> Check:
    """Build the test for a plain (non-operator) value in a condition.

    Args:
        expected: A JSON-like constant, already validated.
        insensitive: Compare a constant string with a string ignoring case (``$alli``).

    Returns:
        A test that is true for values deep-equal to ``expected``.
    """
    if insensitive and isinstance(expected, str):
        folded = expected.lower()
        return lambda value: isinstance(value, str) and value.lower() == folded
    if isinstance(expected, list):
        return _array_check(expected)
    if isinstance(expected, Mapping):
        return _object_check(expected)
    return scalar_check(expected)


def _nested_check(expected: Any) -> Check:
    """Test an element of an array or object constant, both sides seen as JSON."""
    inner = literal_check(json_value(expected))
    return lambda value: inner(json_value(value))


def _array_check(expected: list[Any]) -> Check:
    checks = tuple(_nested_check(item) for item in expected)
    size = len(checks)

    def check(value: Any) -> bool:
        if not isinstance(value, ARRAY_TYPES) or len(value) != size:
            return False
        return all(item_check(item) for item_check, item in zip(checks, value, strict=True))

    return check


def _object_check(expected: Mapping[str, Any]) -> Check:
    keys = js_key_order(expected)
    checks = tuple((key, _nested_check(expected[key])) for key in keys)

    def check(value: Any) -> bool:
        if not isinstance(value, Mapping) or js_key_order(value) != keys:
            return False
        return all(item_check(value[key]) for key, item_check in checks)

    return check


def membership_check(items: list[Any], insensitive: bool) -> Check:
    """Build the test for ``$in`` (and ``$ini``): is the value one of the scalar items?

    An array value passes if any of its elements is one of the items. Items are grouped by
    JSON type into sets, so that ``1`` matches ``1.0`` but never ``True`` or ``"1"``.

    Args:
        items: Scalars (``None``, booleans, numbers, strings), already validated.
        insensitive: Compare strings ignoring case.

    Returns:
        The membership test.
    """
    scalar_in = _scalar_membership(items, insensitive)
    if not insensitive and all(isinstance(item, str) for item in items):
        return _strings_membership(frozenset(items), scalar_in)

    def check(value: Any) -> bool:
        if isinstance(value, ARRAY_TYPES):
            return _any_element_in(value, scalar_in)
        return scalar_in(value)

    return check


def _strings_membership(strings: frozenset[str], scalar_in: Check) -> Check:
    """The common case of a list of strings, where a set operation tests a whole array."""

    def check(value: Any) -> bool:
        if isinstance(value, str):
            return value in strings
        if isinstance(value, ARRAY_TYPES):
            try:
                # Only strings are in the set, so no other element can be taken for one.
                return not strings.isdisjoint(value)
            except TypeError:
                # An unhashable element (an array or object) never matches a string.
                return _any_element_in(value, scalar_in)
        return False

    return check


def _any_element_in(value: Any, scalar_in: Check) -> bool:
    for element in value:  # noqa: SIM110 (a loop is cheaper than any() over a generator)
        if scalar_in(element):
            return True
    return False


def membership_sets(items: list[Any], insensitive: bool) -> tuple[frozenset[Any], frozenset[Any]]:
    """The sets that :func:`membership_check` looks strings and numbers up in.

    A value of exactly type ``str`` is in the list when it (lowered, if ``insensitive``) is in
    the first set; a value of exactly type ``int`` or ``float`` when it is in the second.

    Args:
        items: Scalars, already validated.
        insensitive: Whether strings compare ignoring case.

    Returns:
        ``(strings, numbers)``; the strings are lowered if ``insensitive``.
    """
    strings = frozenset(item for item in items if isinstance(item, str))
    numbers = frozenset(item for item in items if is_number(item))
    if insensitive:
        strings = frozenset(item.lower() for item in strings)
    return strings, numbers


def _scalar_membership(items: list[Any], insensitive: bool) -> Check:
    strings, numbers = membership_sets(items, insensitive)
    booleans = frozenset(item for item in items if isinstance(item, bool))
    has_null = any(item is None for item in items)
    if insensitive:

        def folded_in(value: Any) -> bool:
            if isinstance(value, str):
                return value.lower() in strings
            return _other_in(value, numbers, booleans, has_null)

        return folded_in

    def scalar_in(value: Any) -> bool:
        if isinstance(value, str):
            return value in strings
        return _other_in(value, numbers, booleans, has_null)

    return scalar_in


def _other_in(
    value: Any, numbers: frozenset[Any], booleans: frozenset[Any], has_null: bool
) -> bool:
    if isinstance(value, bool):
        return value in booleans
    if isinstance(value, (int, float)):
        return value in numbers
    return value is None and has_null
