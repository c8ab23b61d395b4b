"""Reading dotted attribute paths such as ``geo.country`` out of nested attributes.

Each segment of a path reads a key of a mapping. On an array (a list or a tuple) a segment can
also read ``length`` or a canonical index (``"0"``, ``"12"`` but not ``"01"``). Anything else,
including a missing key, reads as ``None``: the condition language does not tell a missing
attribute from one that is ``null``.

Paths are split once, when a condition is compiled, and the readers built here specialise the
common one- and two-segment paths so that evaluating a condition does not loop over segments.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

#: A test of one value (or of a whole attributes mapping) compiled from a condition.
Check = Callable[[Any], bool]

#: A path segment with the array index it denotes, or -1 if it is not an index.
Step = tuple[str, int]

# Longer digit strings cannot be an index of any array that fits in memory.
_MAX_INDEX_DIGITS = 10


def parse_path(path: str) -> tuple[Step, ...] | None:
    """Split a dotted path into steps.

    Args:
        path: A dotted attribute path such as ``"user.groups.length"``.

    Returns:
        One ``(segment, index)`` pair per segment, or ``None`` if the path is empty or has an
        empty segment (``"geo..country"``).
    """
    segments = path.split(".")
    if not all(segments):
        return None
    return tuple((segment, _array_index(segment)) for segment in segments)


def _array_index(segment: str) -> int:
    is_canonical = (
        len(segment) <= _MAX_INDEX_DIGITS
        and segment.isascii()
        and segment.isdigit()
        and (segment == "0" or segment[0] != "0")
    )
    return int(segment) if is_canonical else -1


def step_into(value: Any, segment: str, index: int) -> Any:
    """Read one path segment from a value.

    Args:
        value: The value reached so far.
        segment: The key to read.
        index: The array index the segment denotes, or -1.

    Returns:
        The value at the segment, or ``None`` if there is none.
    """
    if value is None:
        return None
    if isinstance(value, Mapping):
        return value.get(segment)
    if isinstance(value, (list, tuple)):
        if segment == "length":
            return len(value)
        if 0 <= index < len(value):
            return value[index]
    return None


def read_then(steps: tuple[Step, ...], check: Check) -> Check:
    """Build a predicate over attributes that reads a path and tests the value found.

    Args:
        steps: The parsed path, from :func:`parse_path`.
        check: The test applied to the value at the path (``None`` when missing).

    Returns:
        A function of the attributes mapping.
    """
    if len(steps) == 1:
        return _read_one(steps[0], check)
    if len(steps) == 2:
        return _read_two(steps[0], steps[1], check)
    return _read_many(steps, check)


def _read_one(step: Step, check: Check) -> Check:
    key, index = step

    def read(attributes: Any) -> bool:
        if type(attributes) is dict:
            return check(attributes.get(key))
        return check(step_into(attributes, key, index))

    return read


def _read_two(first: Step, second: Step, check: Check) -> Check:
    key1, index1 = first
    key2, index2 = second

    def read(attributes: Any) -> bool:
        if type(attributes) is dict:
            value = attributes.get(key1)
        else:
            value = step_into(attributes, key1, index1)
        if type(value) is dict:
            return check(value.get(key2))
        return check(step_into(value, key2, index2))

    return read


def _read_many(steps: tuple[Step, ...], check: Check) -> Check:
    def read(attributes: Any) -> bool:
        value = attributes
        for key, index in steps:
            value = value.get(key) if type(value) is dict else step_into(value, key, index)
        return check(value)

    return read
