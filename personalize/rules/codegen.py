"""Generating the Python source of compiled conditions.

The condition level of a compiled condition (its attribute paths, ``$and``, ``$or``, ``$nor``
and ``$not``) becomes a plain Python function, so that evaluating it costs one call rather than
one per node. ``{"geo.country": {"$in": ["DE", "AT"]}, "$or": [{"geo.city": "Wien"},
{"time.hour": {"$gte": 6, "$lt": 11}}]}`` becomes (long lines wrapped here)::

    def _make(_k0, _k1, _k2, _k3, _k4, _k5, _k6, _k7, _k8, _k9, _k10, _k11, _k12, _k13, _k14,
              _k15):
        def _check(a):
            try:
                _v2 = _get(a, _k1)
                _v1 = _get(_v2, _k2)
            except TypeError:
                _v1 = _read(a, _k0)
                _v2 = None
            if not ((_v1 in _k4 if type(_v1) is str else _k3(_v1))): return False
            try:
                _v3 = _get(_v2, _k6)
            except TypeError:
                _v3 = _read(a, _k5)
            try:
                _v5 = _get(a, _k10)
                _v4 = _get(_v5, _k11)
            except TypeError:
                _v4 = _read(a, _k9)
                _v5 = None
            return (((_v3 == _k8 if type(_v3) is str else _k7(_v3)))
                    or (((_v4 >= _k14 and _v4 < _k15) if type(_v4) in _NUMBER
                         else (_k12(_v4) and _k13(_v4)))))
        return _check

and ``_make`` is called with the constants: the path segments, the set ``{"DE", "AT"}``, the
string ``"Wien"``, the numbers 6 and 11, the closures testing each operator, and the functions
of nested conditions too large to inline. The source is made only of fixed templates and
generated names: whatever a condition contains is passed in as an argument, never written into
the source. So conditions of the same shape (the same structure and operators, whatever their
paths and operands) give the same source, which is compiled once; their functions share code,
and only their constants differ.

Each path is read once per function, and paths that start the same way (``geo.country`` and
``geo.city``) share the lookups they have in common. The tests run in order and the function
returns at the first one that fails. A small ``$or``, ``$nor`` or ``$not`` becomes a single
expression, after reading all the paths in it; a larger one is a function of its own (so its
paths are read only if it is reached).

Operators are tested by the closures built in :mod:`personalize.rules.compiler`. The most
common ones (equality with a scalar, ordering against a number or an ASCII string, ``$in`` and
``$ini`` a list of strings or numbers, the regular expression operators, ``$exists``) also get
an inline test for the exact types they are about, and call their closure for anything else
(subclasses, arrays, other types). Several operators on one path share their type test.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from .checks import regex_search
from .paths import Check, Step, read_path
from .values import is_number, membership_sets

# Paths up to this long are read inline; longer ones call read_path().
_INLINE_SEGMENTS = 3

# Type tests of the generated code: the exact types an inline test is for.
_STR = "is str"
_NUMBER = "in _NUMBER"

# Inline tests for an exact str value; {value} and {constant} are generated names.
_STRING_TESTS = {
    "$eq": "{value} == {constant}",
    "$ne": "{value} != {constant}",
    "$in": "{value} in {constant}",
    "$nin": "{value} not in {constant}",
    "$ini": "{value}.lower() in {constant}",
    "$nini": "{value}.lower() not in {constant}",
    "$regex": "{constant}({value}) is not None",
    "$regexi": "{constant}({value}) is not None",
    "$notRegex": "{constant}({value}) is None",
    "$notRegexi": "{constant}({value}) is None",
}
# Inline tests for an exact int or float value against a number, and for an exact str value
# against an ASCII string.
_ORDER_TESTS = {
    "$lt": "{value} < {constant}",
    "$lte": "{value} <= {constant}",
    "$gt": "{value} > {constant}",
    "$gte": "{value} >= {constant}",
}
_NUMBER_TESTS = {
    "$eq": "{value} == {constant}",
    "$ne": "{value} != {constant}",
    **_ORDER_TESTS,
}
# Inline tests for an exact int or float value in (or not in) a set of numbers.
_MEMBER_TESTS = {
    "$in": "{value} in {constant}",
    "$nin": "{value} not in {constant}",
    "$ini": "{value} in {constant}",
    "$nini": "{value} not in {constant}",
}

#: A fast test for values of exact types: the type test (such as ``"is str"``) and the
#: expression, which is only evaluated for values that pass the type test.
Tier = tuple[str, str]

_REGEX_OPERATORS = frozenset({"$regex", "$regexi", "$notRegex", "$notRegexi"})


class Module:
    """The function generated for one condition, and the constants it uses.

    The function runs the tests of its condition in the order they are generated, each test's
    statements before its expression, and stops at the first test that fails. So a path read
    by the statements of one test can be reused by every test generated after it.
    """

    def __init__(self) -> None:
        """Start with no constants."""
        self._constants: list[Any] = []
        self._count = 0
        self._reads: dict[str, str] = {}
        self._prefixes: dict[tuple[Step, ...], str] = {}

    def bind(self, value: Any) -> str:
        """Make a value available to the generated code.

        Args:
            value: Any object: a constant from a condition, a closure, a nested condition...

        Returns:
            The generated name it is bound to.
        """
        self._constants.append(value)
        return f"_k{len(self._constants) - 1}"

    def fresh(self) -> str:
        """Make a new variable name.

        Returns:
            A name not used before in this module.
        """
        self._count += 1
        return f"_v{self._count}"

    def read(self, path: str, steps: tuple[Step, ...]) -> tuple[list[str], str]:
        """Read an attribute path into a variable, unless an earlier test already did.

        Dicts take the fast path, ``dict.get``, which raises ``TypeError`` on anything else
        (``None``, a list to index, another mapping...); the general reader then reads the
        whole path. What the fast path reads on the way (``geo`` for ``geo.country``) is kept,
        for later paths that start the same way; it is ``None`` if the fast path failed.

        Args:
            path: The dotted path.
            steps: The parsed path.

        Returns:
            The statements to run before testing the variable (none if the path was read
            already), and the variable.
        """
        variable = self._reads.get(path)
        if variable is not None:
            return [], variable
        variable = self.fresh()
        self._reads[path] = variable
        whole = self.bind(steps)
        if len(steps) > _INLINE_SEGMENTS:
            return [f"{variable} = _read(a, {whole})"], variable
        statements = ["try:"]
        started: list[str] = []
        source = "a"
        for length in range(1, len(steps)):
            prefix = self._prefixes.get(steps[:length])
            if prefix is None:
                prefix = self._prefixes[steps[:length]] = self.fresh()
                started.append(prefix)
                statements.append(
                    f"    {prefix} = _get({source}, {self.bind(steps[length - 1][0])})"
                )
            source = prefix
        statements += [
            f"    {variable} = _get({source}, {self.bind(steps[-1][0])})",
            "except TypeError:",
            f"    {variable} = _read(a, {whole})",
        ]
        if started:
            statements.append(f"    {' = '.join(started)} = None")
        return statements, variable

    def build(self, body: list[str]) -> Check:
        """Compile the function (or reuse its compiled shape) and bind it to the constants.

        Args:
            body: The statements of the function of the attributes ``a``, unindented.

        Returns:
            The function.
        """
        parameters = ", ".join(f"_k{index}" for index in range(len(self._constants)))
        lines = [f"def _make({parameters}):", "    def _check(a):"]
        lines += [f"        {line}" for line in body]
        factory = _factory("\n".join([*lines, "    return _check"]))
        return factory(*self._constants)


# What generated code may use besides its constants.
_HELPERS: dict[str, Any] = {"_get": dict.get, "_read": read_path, "_NUMBER": (int, float)}


@lru_cache(maxsize=512)
def _factory(source: str) -> Callable[..., Check]:
    namespace = dict(_HELPERS)
    # Safe: the source holds only templates and generated names (see the module docstring).
    exec(compile(source, "<condition>", "exec"), namespace)  # noqa: S102
    factory: Callable[..., Check] = namespace["_make"]
    return factory


def inline_test(module: Module, op: str, operand: Any, value: str, check: str) -> str:
    """An expression testing ``value`` with an operator, fast for the most common cases.

    Args:
        module: The module being generated.
        op: The operator (``"$eq"`` for a plain value).
        operand: Its operand, already validated.
        value: The variable holding the attribute value.
        check: The name bound to the operator's closure, which is always correct.

    Returns:
        The expression.
    """
    return inline_tests(module, [(op, operand, check)], value)


def inline_tests(module: Module, tests: list[tuple[str, Any, str]], value: str) -> str:
    """An expression that passes when all of the tests of one value do.

    Operators that all have a fast test for the same exact type (``{"$gte": 6, "$lt": 11}``)
    share one type test.

    Args:
        module: The module being generated.
        tests: ``(operator, operand, closure name)`` for each operator, operands validated.
        value: The variable holding the attribute value.

    Returns:
        The expression, ``True`` if there are no tests.
    """
    parts: list[tuple[str | None, list[Tier], str]] = []
    for op, operand, check in tests:
        exact = _exact_test(module, op, operand, value)
        tiers = [] if exact else _tiers(module, op, operand, value)
        parts.append((exact, tiers, f"{check}({value})"))
    guards = {tiers[0][0] if len(tiers) == 1 else None for _, tiers, _ in parts}
    if len(parts) > 1 and len(guards) == 1 and None not in guards:
        fast = " and ".join(tiers[0][1] for _, tiers, _ in parts)
        slow = " and ".join(call for _, _, call in parts)
        return f"(({fast}) if type({value}) {guards.pop()} else ({slow}))"
    return (
        " and ".join(exact or _typed(value, tiers, call) for exact, tiers, call in parts) or "True"
    )


def _exact_test(module: Module, op: str, operand: Any, value: str) -> str | None:
    """A test that is right for any value, when there is a cheap one."""
    if op == "$exists":
        return f"{value} is not None" if operand else f"{value} is None"
    if op in ("$eq", "$ne") and (operand is None or isinstance(operand, bool)):
        return f"{value} {'is' if op == '$eq' else 'is not'} {module.bind(operand)}"
    return None


def _tiers(module: Module, op: str, operand: Any, value: str) -> list[Tier]:
    """Fast tests for values of exact types; others are left to the operator's closure."""
    if op in _MEMBER_TESTS:
        return _membership_tiers(module, op, operand, value)
    if op in _REGEX_OPERATORS:
        return [_tier(value, _STR, _STRING_TESTS[op], module.bind(regex_search(op, operand)))]
    if op in ("$eq", "$ne") and isinstance(operand, str):
        return [_tier(value, _STR, _STRING_TESTS[op], module.bind(operand))]
    if op in _NUMBER_TESTS and is_number(operand):
        return [_tier(value, _NUMBER, _NUMBER_TESTS[op], module.bind(operand))]
    # Code point order is UTF-16 code unit order when one of the strings is ASCII.
    if op in _ORDER_TESTS and isinstance(operand, str) and operand.isascii():
        return [_tier(value, _STR, _ORDER_TESTS[op], module.bind(operand))]
    return []


def _membership_tiers(module: Module, op: str, operand: list[Any], value: str) -> list[Tier]:
    strings, numbers = membership_sets(operand, insensitive=op in ("$ini", "$nini"))
    tiers: list[Tier] = []
    if strings or not numbers:
        tiers.append(_tier(value, _STR, _STRING_TESTS[op], module.bind(strings)))
    if numbers:
        tiers.append(_tier(value, _NUMBER, _MEMBER_TESTS[op], module.bind(numbers)))
    return tiers


def _tier(value: str, type_test: str, template: str, constant: str) -> Tier:
    return type_test, template.format(value=value, constant=constant)


def _typed(value: str, tiers: list[Tier], fallback: str) -> str:
    if not tiers:
        return fallback
    branches = [f"{test} if type({value}) {type_test} else " for type_test, test in tiers]
    return f"({''.join(branches)}{fallback})"
