"""Builders for the operators that test a value directly, without nested conditions.

Each builder validates its operand, raising :class:`ConditionError` for one the operator cannot
use, and returns a test of the attribute value. Everything the test needs from the operand (a
compiled regular expression, a padded version, a set of accepted values) is prepared here, once.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from typing import Any

from .errors import ConditionError, Location, type_label
from .paths import Check
from .values import TYPE_NAMES, is_number, membership_check, scalar_check, type_check
from .versions import padded_number_version, padded_version

#: A builder: (operator, operand, location) -> test of the attribute value.
Builder = Callable[[str, Any, Location], Check]

Compare = Callable[[Any, Any], bool]

#: The ``search`` method of a compiled regular expression.
Search = Callable[[str], re.Match[str] | None]

_ORDERINGS: dict[str, Compare] = {
    "$lt": operator.lt,
    "$lte": operator.le,
    "$gt": operator.gt,
    "$gte": operator.ge,
}

_VERSION_ORDERINGS: dict[str, Compare] = {
    "$veq": operator.eq,
    "$vne": operator.ne,
    "$vlt": operator.lt,
    "$vlte": operator.le,
    "$vgt": operator.gt,
    "$vgte": operator.ge,
}

# Exact types take the fast path; subclasses of int and float still count as numbers.
_NUMBER_TYPES = (int, float)


def is_scalar(value: Any) -> bool:
    """Tell whether a constant is a JSON scalar.

    Args:
        value: A value from a condition.

    Returns:
        True for ``None``, booleans, numbers and strings.
    """
    return value is None or isinstance(value, (bool, int, float, str))


def equality(op: str, operand: Any, location: Location) -> Check:
    """Build ``$eq`` or ``$ne``: strict equality with a scalar.

    Args:
        op: ``"$eq"`` or ``"$ne"``.
        operand: A string, number, boolean or ``None``.
        location: Where the operator is, for errors.

    Returns:
        The test.

    Raises:
        ConditionError: If the operand is an array or an object.
    """
    if not is_scalar(operand):
        raise ConditionError(
            location, f"expected a string, number, boolean or null, got {type_label(operand)}"
        )
    check = scalar_check(operand)
    if op == "$eq":
        return check
    return lambda value: not check(value)


def ordering(op: str, operand: Any, location: Location) -> Check:
    """Build ``$lt``, ``$lte``, ``$gt`` or ``$gte``.

    Numbers compare with numbers and strings with strings (in UTF-16 code unit order, as in
    JavaScript); any other value fails.

    Args:
        op: The operator.
        operand: A number or a string.
        location: Where the operator is, for errors.

    Returns:
        The test.

    Raises:
        ConditionError: If the operand is neither a number nor a string.
    """
    compare = _ORDERINGS[op]
    if is_number(operand):
        return _number_ordering(compare, operand)
    if isinstance(operand, str):
        return _string_ordering(compare, operand)
    raise ConditionError(location, f"expected a number or a string, got {type_label(operand)}")


def _number_ordering(compare: Compare, bound: float) -> Check:
    # One closure per operator: calling operator.lt & co. would cost a call per test.
    if compare is operator.lt:
        return lambda value: (
            value < bound
            if type(value) in _NUMBER_TYPES
            else _compare_number(value, compare, bound)
        )
    if compare is operator.le:
        return lambda value: (
            value <= bound
            if type(value) in _NUMBER_TYPES
            else _compare_number(value, compare, bound)
        )
    if compare is operator.gt:
        return lambda value: (
            value > bound
            if type(value) in _NUMBER_TYPES
            else _compare_number(value, compare, bound)
        )
    return lambda value: (
        value >= bound if type(value) in _NUMBER_TYPES else _compare_number(value, compare, bound)
    )


def _compare_number(value: Any, compare: Compare, bound: float) -> bool:
    """Compare a value whose type is not exactly int or float (a subclass, or not a number)."""
    return is_number(value) and compare(value, bound)


def _string_ordering(compare: Compare, bound: str) -> Check:
    # Code point and UTF-16 orders only differ between two non-ASCII strings.
    if bound.isascii():
        return lambda value: isinstance(value, str) and compare(value, bound)
    units = _utf16(bound)

    def check(value: Any) -> bool:
        if not isinstance(value, str):
            return False
        if value.isascii():
            return compare(value, bound)
        return compare(_utf16(value), units)

    return check


def _utf16(text: str) -> bytes:
    return text.encode("utf-16-be", "surrogatepass")


def version(op: str, operand: Any, location: Location) -> Check:
    """Build ``$veq``, ``$vne``, ``$vgt``, ``$vgte``, ``$vlt`` or ``$vlte``.

    A string operand compares with string values, a number with numbers. A value of the other
    kind fails, except for ``$vne`` which passes.

    Args:
        op: The operator.
        operand: A version string such as ``"1.2.3-beta"``, or a number.
        location: Where the operator is, for errors.

    Returns:
        The test.

    Raises:
        ConditionError: If the operand is neither a string nor a number.
    """
    compare = _VERSION_ORDERINGS[op]
    mismatch = op == "$vne"
    if isinstance(operand, str):
        expected = padded_version(operand)

        def string_check(value: Any) -> bool:
            if isinstance(value, str):
                return compare(padded_version(value), expected)
            return mismatch

        return string_check
    if is_number(operand):
        expected = padded_number_version(operand)

        def number_check(value: Any) -> bool:
            if is_number(value):
                return compare(padded_number_version(value), expected)
            return mismatch

        return number_check
    raise ConditionError(
        location, f"expected a version string or a number, got {type_label(operand)}"
    )


def regex(op: str, operand: Any, location: Location) -> Check:
    """Build ``$regex``, ``$regexi``, ``$notRegex`` or ``$notRegexi``.

    ``$regex`` passes string values in which ``re.search`` finds the pattern; the ``i`` forms
    ignore case and the ``not`` forms pass exactly the values ``$regex`` fails.

    Args:
        op: The operator.
        operand: A Python regular expression.
        location: Where the operator is, for errors.

    Returns:
        The test; values that are not strings fail ``$regex`` and pass ``$notRegex``.

    Raises:
        ConditionError: If the operand is not a string or not a valid regular expression.
    """
    if not isinstance(operand, str):
        raise ConditionError(
            location, f"expected a regular expression string, got {type_label(operand)}"
        )
    try:
        search = regex_search(op, operand)
    except (re.error, OverflowError, RecursionError) as exc:
        raise ConditionError(location, f"invalid regular expression {operand!r}: {exc}") from None
    if op.startswith("$not"):
        return lambda value: not (isinstance(value, str) and search(value) is not None)
    return lambda value: isinstance(value, str) and search(value) is not None


def regex_search(op: str, operand: str) -> Search:
    """Compile the pattern of a regex operator.

    Args:
        op: ``"$regex"``, ``"$regexi"``, ``"$notRegex"`` or ``"$notRegexi"``.
        operand: The regular expression.

    Returns:
        The ``search`` method of the compiled pattern, ignoring case for the ``i`` forms.

    Raises:
        re.error: If the pattern is not valid (or ``OverflowError``, ``RecursionError``).
    """
    flags = re.IGNORECASE if op.endswith("i") else 0
    return re.compile(operand, flags).search


def membership(op: str, operand: Any, location: Location) -> Check:
    """Build ``$in``, ``$nin``, ``$ini`` or ``$nini``.

    An array value passes ``$in`` when any of its elements is in the list.

    Args:
        op: The operator; the ``i`` forms compare strings ignoring case.
        operand: A list of strings, numbers, booleans or nulls.
        location: Where the operator is, for errors.

    Returns:
        The test.

    Raises:
        ConditionError: If the operand is not a list of scalars.
    """
    if not isinstance(operand, list):
        raise ConditionError(location, f"expected a list, got {type_label(operand)}")
    for index, item in enumerate(operand):
        if not is_scalar(item):
            raise ConditionError(
                location,
                f"expected a list of strings, numbers, booleans or nulls, "
                f"got {type_label(item)} at index {index}",
            )
    check = membership_check(operand, insensitive=op in ("$ini", "$nini"))
    if op in ("$in", "$ini"):
        return check
    return lambda value: not check(value)


def exists(op: str, operand: Any, location: Location) -> Check:
    """Build ``$exists``: true matches any value but a missing (or null) one, false the reverse.

    Args:
        op: ``"$exists"``.
        operand: A boolean.
        location: Where the operator is, for errors.

    Returns:
        The test.

    Raises:
        ConditionError: If the operand is not a boolean.
    """
    if not isinstance(operand, bool):
        raise ConditionError(location, f"expected true or false, got {type_label(operand)}")
    if operand:
        return lambda value: value is not None
    return lambda value: value is None


def json_type(op: str, operand: Any, location: Location) -> Check:
    """Build ``$type``: the value's JSON type is the one named.

    Args:
        op: ``"$type"``.
        operand: One of ``null``, ``boolean``, ``number``, ``string``, ``array``, ``object``.
        location: Where the operator is, for errors.

    Returns:
        The test.

    Raises:
        ConditionError: If the operand is not one of those names.
    """
    if not isinstance(operand, str) or operand not in TYPE_NAMES:
        names = ", ".join(sorted(TYPE_NAMES))
        raise ConditionError(location, f"expected one of {names}; got {operand!r}")
    return type_check(operand)


#: The operators built here, by name.
BUILDERS: dict[str, Builder] = {
    "$eq": equality,
    "$ne": equality,
    **dict.fromkeys(_ORDERINGS, ordering),
    **dict.fromkeys(_VERSION_ORDERINGS, version),
    "$regex": regex,
    "$regexi": regex,
    "$notRegex": regex,
    "$notRegexi": regex,
    "$in": membership,
    "$nin": membership,
    "$ini": membership,
    "$nini": membership,
    "$exists": exists,
    "$type": json_type,
}
