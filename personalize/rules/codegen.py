"""Generating the Python source of compiled conditions.

The condition level of a compiled condition (its attribute paths, ``$and``, ``$or``, ``$nor``
and ``$not``) becomes a plain Python function, so that evaluating it costs one call rather than
one per node. ``{"geo.country": {"$in": ["DE", "AT"]}, "device.type": "mobile"}`` becomes::

    def _make(_k0, _k1, _k2, _k3, _k4, _k5, _k6, _k7, _k8, _k9):
        def _check(a):
            try:
                _v1 = _get(_get(a, _k3), _k4)
            except TypeError:
                _v1 = _read(a, _k2)
            if not ((_v1 in _k1 if type(_v1) is str else _k0(_v1))): return False
            try:
                _v2 = _get(_get(a, _k8), _k9)
            except TypeError:
                _v2 = _read(a, _k7)
            return (_v2 == _k6 if type(_v2) is str else _k5(_v2))
        return _check

and ``_make`` is called with the constants: the path segments, the set ``{"DE", "AT"}``, the
string ``"mobile"``, the closures testing each operator, and the functions of nested conditions
(for ``$or``, ``$nor`` and ``$not``). The source is made only of fixed templates and generated
names: whatever a condition contains is passed in as an argument, never written into the
source. So conditions of the same shape (the same structure and operators, whatever their paths
and operands) give the same source, which is compiled once; their functions share code, and
only their constants differ.

Operators are tested by the closures built in :mod:`personalize.rules.compiler`. The most
common ones (equality with a scalar, ``$in`` a list of strings, ordering against a number,
``$exists``) also get an inline test for the exact types they are about, and call their closure
for anything else (subclasses, arrays, other types).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from .paths import Check, Step, read_path
from .values import is_number

# Paths up to this long are read inline; longer ones call read_path().
_INLINE_SEGMENTS = 3

# Inline tests for an exact str value; {value} and {constant} are generated names.
_STRING_TESTS = {
    "$eq": "{value} == {constant}",
    "$ne": "{value} != {constant}",
    "$in": "{value} in {constant}",
    "$nin": "{value} not in {constant}",
}
# Inline tests for an exact int or float value against a number.
_NUMBER_TESTS = {
    "$eq": "{value} == {constant}",
    "$ne": "{value} != {constant}",
    "$lt": "{value} < {constant}",
    "$lte": "{value} <= {constant}",
    "$gt": "{value} > {constant}",
    "$gte": "{value} >= {constant}",
}


class Module:
    """The function generated for one condition, and the constants it uses."""

    def __init__(self) -> None:
        """Start with no constants."""
        self._constants: list[Any] = []
        self._count = 0

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


def read_statements(module: Module, steps: tuple[Step, ...], target: str) -> list[str]:
    """Statements that read a path of the attributes ``a`` into a variable.

    Exact dicts take the fast path; ``dict.get`` raises ``TypeError`` on anything else
    (``None``, a list to index, another mapping...), which the general reader then handles.

    Args:
        module: The module being generated.
        steps: The parsed path.
        target: The variable to assign.

    Returns:
        The statements.
    """
    path = module.bind(steps)
    if len(steps) > _INLINE_SEGMENTS:
        return [f"{target} = _read(a, {path})"]
    lookup = "a"
    for key, _ in steps:
        lookup = f"_get({lookup}, {module.bind(key)})"
    fallback = f"_read(a, {path})"
    return ["try:", f"    {target} = {lookup}", "except TypeError:", f"    {target} = {fallback}"]


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
    call = f"{check}({value})"
    if op == "$exists":
        return f"{value} is not None" if operand else f"{value} is None"
    if op in ("$in", "$nin") and all(isinstance(item, str) for item in operand):
        return _typed(value, "is str", _STRING_TESTS[op], module.bind(frozenset(operand)), call)
    if op in ("$eq", "$ne") and (operand is None or isinstance(operand, bool)):
        return f"{value} {'is' if op == '$eq' else 'is not'} {module.bind(operand)}"
    if op in ("$eq", "$ne") and isinstance(operand, str):
        return _typed(value, "is str", _STRING_TESTS[op], module.bind(operand), call)
    if op in _NUMBER_TESTS and is_number(operand):
        return _typed(value, "in _NUMBER", _NUMBER_TESTS[op], module.bind(operand), call)
    return call


def _typed(value: str, type_test: str, template: str, constant: str, fallback: str) -> str:
    test = template.format(value=value, constant=constant)
    return f"({test} if type({value}) {type_test} else {fallback})"
