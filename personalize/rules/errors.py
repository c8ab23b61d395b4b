"""The error raised for an invalid condition, and how it names where the problem is.

A condition is checked completely when it is compiled, so a :class:`ConditionError` can only
come from :func:`~personalize.rules.compile_condition` (or the helpers built on it), never from
evaluating a compiled condition.

Locations are rendered as the steps taken from the top of the condition, joined by ``→``:
attribute paths in double quotes, operators as written, list positions in brackets. For example
``$or[1] → "geo.country" → $in`` is the ``$in`` operator applied to ``geo.country`` inside the
second entry of a top-level ``$or``.
"""

from __future__ import annotations

from typing import Any

#: A location inside a condition: the rendered steps from its top.
Location = tuple[str, ...]

ROOT: Location = ()


def attribute_step(path: str) -> str:
    """Render an attribute path as a location step.

    Args:
        path: The dotted attribute path, e.g. ``"geo.country"``.

    Returns:
        The path in double quotes.
    """
    return f'"{path}"'


def item_step(operator: str, index: int) -> str:
    """Render one entry of an operator's list operand as a location step.

    Args:
        operator: The operator holding the list, e.g. ``"$or"``.
        index: The entry's position in the list.

    Returns:
        For example ``"$or[1]"``.
    """
    return f"{operator}[{index}]"


def type_label(value: Any) -> str:
    """Name the Python type of a value for an error message.

    Args:
        value: Any value found in a condition.

    Returns:
        ``"None"`` for ``None``, otherwise the type's name (``"str"``, ``"list"``...).
    """
    return "None" if value is None else type(value).__name__


class ConditionError(ValueError):
    """A condition is not valid and cannot be compiled.

    The message names where the problem is, for example
    ``at "geo.country" → $in: expected a list, got str``.

    Attributes:
        path: The rendered location of the problem (empty for the condition itself),
            e.g. ``'"geo.country" → $in'``.
        reason: What is wrong there, e.g. ``"expected a list, got str"``.
    """

    def __init__(self, location: Location, reason: str) -> None:
        """Build the error for a location and a reason.

        Args:
            location: The steps from the top of the condition to the problem.
            reason: What is wrong there.
        """
        self.path: str = " → ".join(location)
        self.reason: str = reason
        where = self.path if location else "the top level"
        super().__init__(f"at {where}: {reason}")
