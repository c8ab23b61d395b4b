"""Helpers shared by the rule engine's tests."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from personalize.rules import codegen, compile_condition

#: Hypothesis settings of the differential tests against growthbook's evaluator.
DIFFERENTIAL = settings(
    max_examples=400,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def source_of(condition: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> str:
    """The source generated for a condition (and any function nested in it)."""
    sources: list[str] = []
    factory = codegen._factory

    def record(source: str) -> Any:
        sources.append(source)
        return factory(source)

    monkeypatch.setattr(codegen, "_factory", record)
    compile_condition(condition)
    monkeypatch.undo()
    return "\n".join(sources)
