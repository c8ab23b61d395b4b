"""Reading dotted attribute paths such as ``geo.country`` out of nested attributes.

Each segment of a path reads a key of a mapping. On an array (a list or a tuple) a segment can
also read ``length`` or a canonical index (``"0"``, ``"12"`` but not ``"01"``). Anything else,
including a missing key, reads as ``None``: the condition language does not tell a missing
attribute from one that is ``null``.

Paths are split once, when a condition is compiled. Compiled conditions read exact dicts
inline (see :mod:`personalize.rules.codegen`) and fall back on :func:`read_path` for the rest.
"""

from __future__ import annotations

import sys
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
    # Interned like the keys of most attribute dicts, so that looking them up is an identity
    # test, and shared by every condition that reads them.
    return tuple((sys.intern(segment), _array_index(segment)) for segment in segments)


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


def read_path(value: Any, steps: tuple[Step, ...]) -> Any:
    """Read a parsed path.

    Args:
        value: The attributes (or any value) to read from.
        steps: The parsed path, from :func:`parse_path`.

    Returns:
        The value at the path, or ``None`` if there is none.
    """
    for key, index in steps:
        value = step_into(value, key, index)
    return value
