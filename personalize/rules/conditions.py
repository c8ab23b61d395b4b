"""Compiling conditions into predicates over visitor attributes.

A condition is a JSON object in the style of MongoDB queries, with GrowthBook's semantics::

    {"geo.country": {"$in": ["DE", "AT", "CH"]}, "device.type": "mobile"}

Its keys are dotted attribute paths or the logical operators ``$and``, ``$or``, ``$nor`` and
``$not``, and all of them must pass. The value under a path is either a plain value, which the
attribute must equal, or an object of operators (``{"$gte": 6, "$lt": 11}``), which must all
pass. ``docs/reference/conditions.md`` describes every operator.

:func:`compile_condition` checks a condition completely and turns it into a tree of closures,
so that evaluating it reads the attributes and nothing else. Evaluating never raises: a value
of the wrong type simply fails the test that needed another type.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache, partial
from typing import Any, Self

from .checks import BUILDERS, is_scalar
from .errors import ROOT, ConditionError, Location, attribute_step, item_step, type_label
from .logic import all_of, always, any_of, negate, never
from .paths import Check, parse_path, read_then
from .values import ARRAY_TYPES, is_number, literal_check

#: How deeply conditions and the values in them may nest.
MAX_DEPTH = 32

#: Operators that combine conditions, used beside attribute paths.
LOGICAL_OPERATORS = frozenset({"$and", "$or", "$nor", "$not"})

#: Operators that test the value at an attribute path.
VALUE_OPERATORS = frozenset(
    {*BUILDERS, "$not", "$size", "$all", "$alli", "$elemMatch"},
)

#: Every operator of the condition language.
OPERATORS = LOGICAL_OPERATORS | VALUE_OPERATORS

# Inside $elemMatch, these make the operand a condition on each element's fields.
_CONDITION_KEYS = frozenset({"$and", "$or", "$nor"})


class CompiledCondition(partial[bool]):
    """A condition compiled into a predicate over attributes.

    Call it with an attributes mapping to evaluate the condition; it returns a boolean and
    never raises. It is a :class:`functools.partial` of the compiled predicate, so that calling
    it adds no Python frame of its own.

    Attributes:
        condition: The condition it was compiled from.
        paths: Every dotted attribute path the condition reads, e.g.
            ``frozenset({"geo.country", "user.groups"})``.
    """

    __slots__ = ("condition", "paths")

    #: The condition this was compiled from.
    condition: Mapping[str, Any]
    #: Every dotted attribute path the condition reads.
    paths: frozenset[str]

    def __new__(cls, condition: Mapping[str, Any], check: Check, paths: frozenset[str]) -> Self:
        """Wrap a compiled predicate; use :func:`compile_condition` to make one.

        Args:
            condition: The source condition.
            check: The predicate over attributes.
            paths: The attribute paths the predicate reads.

        Returns:
            The compiled condition.
        """
        self = super().__new__(cls, check)
        self.condition = condition
        self.paths = paths
        return self

    def __repr__(self) -> str:
        return f"CompiledCondition({self.condition!r})"


def compile_condition(condition: Mapping[str, Any]) -> CompiledCondition:
    """Check a condition and compile it for fast, repeated evaluation.

    Args:
        condition: A condition object, e.g. ``{"device.type": "mobile"}``.

    Returns:
        The compiled condition.

    Raises:
        ConditionError: If the condition is not valid; the message says where and why.
    """
    paths: set[str] = set()
    check = _condition(condition, ROOT, 0, paths)
    return CompiledCondition(condition, check, frozenset(paths))


def validate_condition(condition: Mapping[str, Any]) -> None:
    """Check that a condition is valid.

    Args:
        condition: A condition object.

    Raises:
        ConditionError: If the condition is not valid; the message says where and why.
    """
    compile_condition(condition)


def evaluate_condition(condition: Mapping[str, Any], attributes: Mapping[str, Any]) -> bool:
    """Compile (or reuse a recently compiled) condition and evaluate it once.

    Args:
        condition: A condition object.
        attributes: Nested, JSON-like visitor attributes.

    Returns:
        Whether the attributes satisfy the condition.

    Raises:
        ConditionError: If the condition is not valid.
    """
    return _compiled(condition)(attributes)


def _compiled(condition: Mapping[str, Any]) -> CompiledCondition:
    try:
        key = json.dumps(condition, separators=(",", ":"))
    except (TypeError, ValueError, RecursionError):
        return compile_condition(condition)
    compiled = _compile_json(key)
    # A JSON dump loses some distinctions (tuples, non-string keys); only reuse exact matches.
    if compiled.condition == condition:
        return compiled
    return compile_condition(condition)


@lru_cache(maxsize=256)
def _compile_json(key: str) -> CompiledCondition:
    return compile_condition(json.loads(key))


def _enter(location: Location, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise ConditionError(location, f"nested more than {MAX_DEPTH} levels deep")


def _condition(condition: Any, location: Location, depth: int, paths: set[str]) -> Check:
    _enter(location, depth)
    if not isinstance(condition, Mapping):
        raise ConditionError(location, f"expected a condition object, got {type_label(condition)}")
    return all_of([_entry(key, value, location, depth, paths) for key, value in condition.items()])


def _entry(key: Any, value: Any, location: Location, depth: int, paths: set[str]) -> Check:
    if not isinstance(key, str):
        raise ConditionError(location, f"keys must be strings, got {type_label(key)}")
    if key in ("$and", "$or", "$nor"):
        return _logical(key, value, location, depth, paths)
    if key == "$not":
        return negate(_condition(value, (*location, key), depth + 1, paths))
    if key in VALUE_OPERATORS:
        raise ConditionError(
            (*location, key),
            f'{key} tests a value; put it under an attribute path, e.g. {{"device.type": '
            f'{{"{key}": ...}}}}',
        )
    steps = parse_path(key)
    here = (*location, attribute_step(key))
    if steps is None:
        raise ConditionError(here, "an attribute path needs a name between every dot")
    paths.add(key)
    return read_then(steps, _value(value, here, depth + 1))


def _logical(op: str, value: Any, location: Location, depth: int, paths: set[str]) -> Check:
    if not isinstance(value, list):
        raise ConditionError(
            (*location, op), f"expected a list of conditions, got {type_label(value)}"
        )
    checks = [
        _condition(item, (*location, item_step(op, index)), depth + 1, paths)
        for index, item in enumerate(value)
    ]
    if op == "$and":
        return all_of(checks)
    if not checks:
        # An empty $or passes, like an empty $and; so an empty $nor fails.
        return always if op == "$or" else never
    return any_of(checks) if op == "$or" else negate(any_of(checks))


def _is_operator_object(value: Any) -> bool:
    return isinstance(value, Mapping) and all(
        isinstance(key, str) and key.startswith("$") for key in value
    )


def _value(value: Any, location: Location, depth: int, insensitive: bool = False) -> Check:
    """Compile what is under an attribute path: a plain value or an object of operators."""
    _enter(location, depth)
    if _is_operator_object(value):
        return all_of(
            [_operator(op, operand, (*location, op), depth) for op, operand in value.items()]
        )
    _check_literal(value, location, depth)
    return literal_check(value, insensitive)


def _check_literal(value: Any, location: Location, depth: int) -> None:
    _enter(location, depth)
    if is_scalar(value):
        return
    if isinstance(value, list):
        for item in value:
            _check_literal(item, location, depth + 1)
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ConditionError(location, f"keys must be strings, got {type_label(key)}")
            _check_literal(item, location, depth + 1)
        return
    raise ConditionError(location, f"expected a JSON value, got {type_label(value)}")


def _operator(op: str, operand: Any, location: Location, depth: int) -> Check:
    builder = BUILDERS.get(op)
    if builder is not None:
        return builder(op, operand, location)
    if op == "$not":
        return negate(_value(operand, location, depth + 1))
    if op == "$size":
        return _size(operand, location, depth)
    if op in ("$all", "$alli"):
        return _all(op, operand, location, depth)
    if op == "$elemMatch":
        return _elem_match(operand, location, depth)
    if op in LOGICAL_OPERATORS:
        raise ConditionError(
            location, f"{op} combines conditions; put it beside attribute paths, not under one"
        )
    raise ConditionError(location, "unknown operator")


def _size(operand: Any, location: Location, depth: int) -> Check:
    if not (is_number(operand) or _is_operator_object(operand)):
        raise ConditionError(
            location,
            f'expected a number or operators such as {{"$gt": 2}}, got {type_label(operand)}',
        )
    check = _value(operand, location, depth + 1)
    return lambda value: isinstance(value, ARRAY_TYPES) and check(len(value))


def _all(op: str, operand: Any, location: Location, depth: int) -> Check:
    if not isinstance(operand, list):
        raise ConditionError(location, f"expected a list, got {type_label(operand)}")
    parent = location[:-1]
    insensitive = op == "$alli"
    checks = tuple(
        _value(item, (*parent, item_step(op, index)), depth + 1, insensitive)
        for index, item in enumerate(operand)
    )

    def check(value: Any) -> bool:
        if not isinstance(value, ARRAY_TYPES):
            return False
        return all(any(wanted(element) for element in value) for wanted in checks)

    return check


def _elem_match(operand: Any, location: Location, depth: int) -> Check:
    if not isinstance(operand, Mapping):
        raise ConditionError(
            location, f"expected an object (operators or a condition), got {type_label(operand)}"
        )
    # Operators test each element itself; a condition tests each element's fields, so the
    # paths it reads are not attribute paths and are not reported.
    if _is_operator_object(operand) and _CONDITION_KEYS.isdisjoint(operand):
        inner = _value(operand, location, depth + 1)
    else:
        inner = _condition(operand, location, depth + 1, set())

    def check(value: Any) -> bool:
        if not isinstance(value, ARRAY_TYPES):
            return False
        return any(inner(element) for element in value if element is not None)

    return check
