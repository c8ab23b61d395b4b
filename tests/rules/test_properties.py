"""Properties over arbitrary input: evaluating never raises; compiling raises ConditionError."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from personalize.rules import ConditionError, compile_condition

from .strategies import JSON_CONDITIONS, NAMES, valid_conditions

PROPERTY = settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

# Beyond JSON: NaN and infinities, huge integers, bytes, tuples, sets, non-string keys and
# read-only mappings, as careless attribute code might produce.
_WILD_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=6),
    st.binary(max_size=3),
)
_WILD_KEYS = st.one_of(st.sampled_from([*NAMES, "0", "1", "length"]), st.text(max_size=3))
WILD_VALUES = st.recursive(
    _WILD_SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.tuples(children, children),
        st.frozensets(_WILD_SCALARS.filter(lambda value: value == value), max_size=2),
        st.dictionaries(st.one_of(_WILD_KEYS, st.integers()), children, max_size=3),
        st.dictionaries(_WILD_KEYS, children, max_size=2).map(MappingProxyType),
    ),
    max_leaves=10,
)
WILD_ATTRIBUTES = st.dictionaries(_WILD_KEYS, WILD_VALUES, max_size=4)


def as_json(value: Any) -> Any:
    """Tuples as lists and any mapping as a dict, which is how conditions see them."""
    if isinstance(value, (list, tuple)):
        return [as_json(item) for item in value]
    if isinstance(value, Mapping):
        return {key: as_json(item) for key, item in value.items()}
    return value


@PROPERTY
@given(valid_conditions(), WILD_ATTRIBUTES)
def test_any_attributes_evaluate_to_a_bool_seeing_tuples_as_arrays_and_mappings_as_objects(
    condition: dict[str, Any], attributes: dict[str, Any]
) -> None:
    compiled = compile_condition(condition)

    result = compiled(attributes)

    assert result is True or result is False
    assert result is compiled(as_json(attributes))


@PROPERTY
@given(valid_conditions(), _WILD_SCALARS)
def test_attributes_that_are_not_a_mapping_read_as_empty(
    condition: dict[str, Any], attributes: Any
) -> None:
    compiled = compile_condition(condition)

    assert compiled(attributes) is compiled({})


@PROPERTY
@given(JSON_CONDITIONS)
def test_any_json_either_compiles_or_raises_condition_error(condition: Any) -> None:
    try:
        compiled = compile_condition(condition)
    except ConditionError as error:
        assert str(error).startswith("at ")
        assert error.reason in str(error)
    else:
        assert isinstance(condition, dict)
        assert compiled.condition is condition
        assert compiled({}) in (True, False)


@PROPERTY
@given(valid_conditions(), WILD_ATTRIBUTES)
def test_compiled_conditions_are_deterministic(
    condition: dict[str, Any], attributes: dict[str, Any]
) -> None:
    compiled = compile_condition(condition)

    assert compiled(attributes) is compiled(attributes)
    assert compile_condition(condition)(attributes) is compiled(attributes)


@PROPERTY
@given(valid_conditions(), WILD_ATTRIBUTES)
def test_logical_identities(condition: dict[str, Any], attributes: dict[str, Any]) -> None:
    result = compile_condition(condition)(attributes)

    assert compile_condition({"$not": condition})(attributes) is not result
    assert compile_condition({"$nor": [condition]})(attributes) is not result
    assert compile_condition({"$and": [condition, condition]})(attributes) is result
    assert compile_condition({"$or": [{"$nor": []}, condition]})(attributes) is result
    assert compile_condition({"$or": [{"$not": condition}, condition]})(attributes) is True
