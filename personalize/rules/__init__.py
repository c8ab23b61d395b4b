"""The pure rule engine: conditions over visitor attributes, with no Django dependency.

Typical use::

    from personalize.rules import compile_condition

    is_dach_mobile = compile_condition(
        {"geo.country": {"$in": ["DE", "AT", "CH"]}, "device.type": "mobile"}
    )
    is_dach_mobile({"geo": {"country": "AT"}, "device": {"type": "mobile"}})  # True
    is_dach_mobile.paths  # frozenset({"geo.country", "device.type"})
"""

from .conditions import (
    OPERATORS,
    CompiledCondition,
    compile_condition,
    evaluate_condition,
    validate_condition,
)
from .errors import ConditionError

__all__ = [
    "OPERATORS",
    "CompiledCondition",
    "ConditionError",
    "compile_condition",
    "evaluate_condition",
    "validate_condition",
]
