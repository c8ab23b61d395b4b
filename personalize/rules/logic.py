"""Combining compiled tests with and, or and not.

Small fixed arities get their own closures: most conditions combine one to three tests, and a
direct ``a(x) and b(x)`` is markedly cheaper than looping over a tuple.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .paths import Check


def always(value: Any) -> bool:
    """Pass anything (an empty condition, an empty ``$or``).

    Args:
        value: Ignored.

    Returns:
        True.
    """
    return True


def never(value: Any) -> bool:
    """Pass nothing (an empty ``$nor``).

    Args:
        value: Ignored.

    Returns:
        False.
    """
    return False


def all_of(checks: Sequence[Check]) -> Check:
    """Combine tests that must all pass.

    Args:
        checks: The tests, evaluated in order until one fails.

    Returns:
        The combined test; :func:`always` when there are none.
    """
    if not checks:
        return always
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        first, second = checks
        return lambda value: first(value) and second(value)
    if len(checks) == 3:
        first, second, third = checks
        return lambda value: first(value) and second(value) and third(value)
    return _all_of_many(tuple(checks))


def _all_of_many(checks: tuple[Check, ...]) -> Check:
    def check(value: Any) -> bool:
        # A plain loop: all() over a generator costs a generator object per call.
        for part in checks:  # noqa: SIM110
            if not part(value):
                return False
        return True

    return check


def any_of(checks: Sequence[Check]) -> Check:
    """Combine tests of which one must pass.

    Args:
        checks: The tests, evaluated in order until one passes.

    Returns:
        The combined test; :func:`never` when there are none.
    """
    if not checks:
        return never
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        first, second = checks
        return lambda value: first(value) or second(value)
    return _any_of_many(tuple(checks))


def _any_of_many(checks: tuple[Check, ...]) -> Check:
    def check(value: Any) -> bool:
        for part in checks:  # noqa: SIM110 (see _all_of_many)
            if part(value):
                return True
        return False

    return check


def negate(check: Check) -> Check:
    """Invert a test.

    Args:
        check: The test to invert.

    Returns:
        A test that passes exactly when ``check`` fails.
    """
    return lambda value: not check(value)
