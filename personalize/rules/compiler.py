"""Checking a condition and compiling it.

The condition level (attribute paths and logical operators) is generated as Python source by
:mod:`personalize.rules.codegen`; what is under each path (a plain value, or operators) is
compiled into closures by the builders of :mod:`personalize.rules.checks` and the functions
here. Every check of the condition happens here, so compiling raises :class:`ConditionError` for
any invalid condition, and the compiled form has nothing left to check.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .checks import BUILDERS, is_scalar
from .codegen import Module, inline_test, inline_tests
from .errors import ConditionError, Location, attribute_step, item_step, type_label
from .logic import all_of, negate
from .paths import Check, parse_path
from .values import ARRAY_TYPES, is_number, literal_check, membership_sets

#: How deeply conditions and the values in them may nest.
MAX_DEPTH = 32

# The largest $or, $nor or $not inlined into the function of the condition around it, in
# entries and list items (see _weight).
_INLINE_LIMIT = 12

#: Operators that combine conditions, used beside attribute paths.
LOGICAL_OPERATORS = frozenset({"$and", "$or", "$nor", "$not"})

#: Operators that test the value at an attribute path.
VALUE_OPERATORS = frozenset({*BUILDERS, "$not", "$size", "$all", "$alli", "$elemMatch"})

# Inside $elemMatch, these make the operand a condition on each element's fields.
_CONDITION_KEYS = frozenset({"$and", "$or", "$nor"})

#: One test of a condition: the statements it needs first, and an expression that is true
#: when the test passes.
Test = tuple[list[str], str]


def condition_check(condition: Any, location: Location, depth: int, paths: set[str]) -> Check:
    """Check and compile a condition into a predicate.

    Args:
        condition: The condition.
        location: Where it is, for errors.
        depth: How deeply it is nested.
        paths: Collects the attribute paths the condition reads.

    Returns:
        A function of the attributes.

    Raises:
        ConditionError: If the condition is not valid.
    """
    module = Module()
    tests = _tests(module, condition, location, depth, paths)
    body: list[str] = []
    for prelude, passes in tests[:-1]:
        body += [*prelude, f"if not ({passes}): return False"]
    prelude, passes = tests[-1] if tests else ([], "True")
    return module.build([*body, *prelude, f"return {passes}"])


def _enter(location: Location, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise ConditionError(location, f"nested more than {MAX_DEPTH} levels deep")


def _tests(
    module: Module, condition: Any, location: Location, depth: int, paths: set[str]
) -> list[Test]:
    """The tests of a condition, which passes when all of them do."""
    _enter(location, depth)
    if not isinstance(condition, Mapping):
        raise ConditionError(location, f"expected a condition object, got {type_label(condition)}")
    tests: list[Test] = []
    for key, value in condition.items():
        tests += _entry(module, key, value, location, depth, paths)
    return tests


def _entry(
    module: Module, key: Any, value: Any, location: Location, depth: int, paths: set[str]
) -> list[Test]:
    if not isinstance(key, str):
        raise ConditionError(location, f"keys must be strings, got {type_label(key)}")
    if key in _CONDITION_KEYS:
        return _logical(module, key, value, location, depth, paths)
    if key == "$not":
        if _is_small(value):
            prelude, passes = _inline(module, value, (*location, key), depth + 1, paths)
            return [(prelude, f"not {passes}")]
        negated = condition_check(value, (*location, key), depth + 1, paths)
        return [([], f"not {module.bind(negated)}(a)")]
    if key in VALUE_OPERATORS:
        raise ConditionError(
            (*location, key),
            f'{key} tests a value; put it under an attribute path, e.g. {{"device.type": '
            f'{{"{key}": ...}}}}',
        )
    here = (*location, attribute_step(key))
    steps = parse_path(key)
    if steps is None:
        raise ConditionError(here, "an attribute path needs a name between every dot")
    paths.add(key)
    prelude, variable = module.read(key, steps)
    return [(prelude, _value_test(module, value, here, depth + 1, variable))]


def _logical(
    module: Module, op: str, value: Any, location: Location, depth: int, paths: set[str]
) -> list[Test]:
    if not isinstance(value, list):
        raise ConditionError(
            (*location, op), f"expected a list of conditions, got {type_label(value)}"
        )
    places = [(*location, item_step(op, index)) for index in range(len(value))]
    if op == "$and":
        return [
            test
            for item, place in zip(value, places, strict=True)
            for test in _tests(module, item, place, depth + 1, paths)
        ]
    prelude: list[str] = []
    if _is_small(value):
        # Small entries become one expression, reading all their paths first.
        alternatives = []
        for item, place in zip(value, places, strict=True):
            reads, alternative = _inline(module, item, place, depth + 1, paths)
            prelude += reads
            alternatives.append(alternative)
    else:
        # Each entry is a function of its own, which reads its paths only if it is reached.
        alternatives = [
            f"{module.bind(condition_check(item, place, depth + 1, paths))}(a)"
            for item, place in zip(value, places, strict=True)
        ]
    # An empty $or passes, like an empty $and; so an empty $nor fails.
    passes = f"({' or '.join(alternatives)})" if alternatives else "True"
    return [(prelude, passes if op == "$or" else f"not {passes}")]


def _inline(
    module: Module, condition: Any, location: Location, depth: int, paths: set[str]
) -> Test:
    """A condition as one test, which reads all of the paths in it before testing them."""
    tests = _tests(module, condition, location, depth, paths)
    prelude = [line for statements, _ in tests for line in statements]
    passes = " and ".join(test for _, test in tests)
    return prelude, f"({passes or 'True'})"


def _is_small(condition: Any) -> bool:
    """Whether a condition (or list of conditions) is small enough to inline.

    Reading the paths of a small condition eagerly costs less than calling a function; a
    large one is not inlined, so that it stays lazy and its expression stays shallow.
    """
    return _weight(condition, _INLINE_LIMIT) <= _INLINE_LIMIT


def _weight(condition: Any, limit: int) -> int:
    """Count the entries and list items of a condition, stopping once over ``limit``.

    Anything that is not a condition object or a list of them counts as over the limit, so
    that it is compiled (and reported if invalid) the general way.
    """
    if isinstance(condition, Mapping):
        # Whatever is under an attribute path counts as one test.
        nested = [value for key, value in condition.items() if key in LOGICAL_OPERATORS]
    elif isinstance(condition, list):
        nested = condition
    else:
        return limit + 1
    total = len(condition)
    for item in nested:
        if total > limit:
            break
        total += _weight(item, limit - total)
    return total


def _value_test(module: Module, value: Any, location: Location, depth: int, variable: str) -> str:
    """An expression testing the variable with what is under a path."""
    _enter(location, depth)
    if _is_operator_object(value):
        tests = [
            (op, operand, module.bind(check))
            for op, operand, check in _operators(value, location, depth)
        ]
        return inline_tests(module, tests, variable)
    _check_literal(value, location, depth)
    check = module.bind(literal_check(value))
    if is_scalar(value):
        return inline_test(module, "$eq", value, variable, check)
    return f"{check}({variable})"


def _operators(
    value: Mapping[str, Any], location: Location, depth: int
) -> list[tuple[str, Any, Check]]:
    return [
        (op, operand, _operator(op, operand, (*location, op), depth))
        for op, operand in value.items()
    ]


def _is_operator_object(value: Any) -> bool:
    return isinstance(value, Mapping) and all(
        isinstance(key, str) and key.startswith("$") for key in value
    )


def _value(value: Any, location: Location, depth: int, insensitive: bool = False) -> Check:
    """Compile what is under an attribute path into a closure."""
    _enter(location, depth)
    if _is_operator_object(value):
        return all_of([check for _, _, check in _operators(value, location, depth)])
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
        sets = _element_sets(operand)
        if sets is not None:
            return _scalar_elem_match(*sets, inner)
    else:
        inner = condition_check(operand, location, depth + 1, set())

    def check(value: Any) -> bool:
        if not isinstance(value, ARRAY_TYPES):
            return False
        for element in value:  # noqa: SIM110 (a loop is cheaper than any() over a generator)
            if element is not None and inner(element):
                return True
        return False

    return check


def _element_sets(operand: Mapping[str, Any]) -> tuple[frozenset[Any], frozenset[Any]] | None:
    """For ``{"$eq": scalar}`` or ``{"$in": [scalars]}`` (already validated), the strings and
    the numbers an element of exactly type ``str``, or ``int`` or ``float``, must be in."""
    if len(operand) != 1:
        return None
    ((op, expected),) = operand.items()
    if op == "$in":
        return membership_sets(expected, insensitive=False)
    if op == "$eq" and isinstance(expected, str):
        return frozenset({expected}), frozenset()
    # NaN equals nothing, while a set holding it would find the very same object.
    if op == "$eq" and is_number(expected) and expected == expected:
        return frozenset(), frozenset({expected})
    return None


def _scalar_elem_match(strings: frozenset[Any], numbers: frozenset[Any], inner: Check) -> Check:
    """``$elemMatch`` of a scalar test: set lookups for exact strings and numbers."""

    def check(value: Any) -> bool:
        if not isinstance(value, ARRAY_TYPES):
            return False
        for element in value:
            kind = type(element)
            if kind is str:
                if element in strings:
                    return True
            elif kind is int or kind is float:
                if element in numbers:
                    return True
            elif element is not None and inner(element):
                return True
        return False

    return check
