"""Combining the compiled tests of operators: all of them, or the opposite of one.

Small fixed arities get their own closures: most conditions combine one to three tests, and a
direct ``a(x) and b(x)`` is markedly cheaper than looping over a tuple.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .paths import Check


def all_of(checks: Sequence[Check]) -> Check:
    """Combine tests that must all pass.

    Args:
        checks: The tests, evaluated in order until one fails.

    Returns:
        The combined test, which passes anything when there are none.
    """
    if not checks:
        return _always
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        first, second = checks
        return lambda value: first(value) and second(value)
    if len(checks) == 3:
        first, second, third = checks
        return lambda value: first(value) and second(value) and third(value)
    return _all_of_many(tuple(checks))


def _always(value: Any) -> bool:
    return True


def _all_of_many(checks: tuple[Check, ...]) -> Check:
    def check(value: Any) -> bool:
        # A plain loop: all() over a generator costs a generator object per call.
        for part in checks:  # noqa: SIM110
            if not part(value):
                return False
        return True

    return check


def negate(check: Check) -> Check:
    """Invert a test.

    Args:
        check: The test to invert.

    Returns:
        A test that passes exactly when ``check`` fails.
    """
    return lambda value: not check(value)
