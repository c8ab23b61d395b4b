"""Compiling conditions into predicates over visitor attributes.

A condition is a JSON object in the style of MongoDB queries, with GrowthBook's semantics::

    {"geo.country": {"$in": ["DE", "AT", "CH"]}, "device.type": "mobile"}

Its keys are dotted attribute paths or the logical operators ``$and``, ``$or``, ``$nor`` and
``$not``, and all of them must pass. The value under a path is either a plain value, which the
attribute must equal, or an object of operators (``{"$gte": 6, "$lt": 11}``), which must all
pass. ``docs/reference/conditions.md`` describes every operator.

:func:`compile_condition` checks a condition completely and compiles it (see
:mod:`personalize.rules.compiler`), so that evaluating it reads the attributes and nothing else.
Evaluating never raises: a value of the wrong type simply fails the test that needed another
type.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache, partial
from typing import Any, Self

from .compiler import LOGICAL_OPERATORS, MAX_DEPTH, VALUE_OPERATORS, condition_check
from .errors import ROOT
from .paths import Check

__all__ = [
    "MAX_DEPTH",
    "OPERATORS",
    "CompiledCondition",
    "compile_condition",
    "evaluate_condition",
    "validate_condition",
]

#: Every operator of the condition language.
OPERATORS = LOGICAL_OPERATORS | VALUE_OPERATORS


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
    check = condition_check(condition, ROOT, 0, paths)
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
