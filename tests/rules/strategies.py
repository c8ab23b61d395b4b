"""Hypothesis strategies for attributes and conditions.

``valid_conditions`` only builds conditions that compile; ``json_conditions`` builds anything
JSON-shaped, operators included, so most of what it makes is invalid.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

# Few names, so that generated conditions and attributes often meet.
NAMES = ["a", "b", "tags"]
PATHS = ["a", "b", "tags", "a.b", "a.0", "a.1", "tags.length", "b.a.b"]
# Case variants and non-ASCII text exercise $ini/$alli and UTF-16 ordering.
TEXT = st.sampled_from(["", "a", "A", "b", "ab", "Ab", "é", "É", "\ue000", "\U0001f600", "1"])
NUMBERS = st.one_of(
    st.integers(min_value=-3, max_value=3),
    st.sampled_from([0.0, 1.0, 1.5, -2.5, 2**53, 1e21]),
)
SCALARS = st.one_of(st.none(), st.booleans(), NUMBERS, TEXT)
VERSIONS = st.text(alphabet="0129.-+vrcab", max_size=10)
REGEXES = st.sampled_from(["", "^a", "b$", "[aé]", "A", "^$", "\\d", "(a|b)+"])
TYPE_NAMES = st.sampled_from(["null", "boolean", "number", "string", "array", "object"])


def json_values(scalars: st.SearchStrategy[Any] = SCALARS) -> st.SearchStrategy[Any]:
    """Nested JSON values built from ``scalars``, with keys from :data:`NAMES`."""
    return st.recursive(
        scalars,
        lambda children: st.one_of(
            st.lists(children, max_size=4),
            st.dictionaries(st.sampled_from(NAMES), children, max_size=3),
        ),
        max_leaves=8,
    )


#: Visitor-like attributes: an object whose values are any JSON values.
ATTRIBUTES = st.dictionaries(st.sampled_from(NAMES), json_values(), max_size=3)


def _operator_objects(values: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Objects of one or two operators; ``values`` are nested value conditions."""
    single = st.one_of(
        st.tuples(st.sampled_from(["$eq", "$ne"]), SCALARS),
        st.tuples(st.sampled_from(["$lt", "$lte", "$gt", "$gte"]), st.one_of(NUMBERS, TEXT)),
        st.tuples(
            st.sampled_from(["$veq", "$vne", "$vgt", "$vgte", "$vlt", "$vlte"]),
            st.one_of(VERSIONS, NUMBERS),
        ),
        st.tuples(st.sampled_from(["$in", "$nin", "$ini", "$nini"]), st.lists(SCALARS, max_size=4)),
        st.tuples(st.sampled_from(["$all", "$alli"]), st.lists(values, max_size=3)),
        st.tuples(st.sampled_from(["$regex", "$regexi", "$notRegex", "$notRegexi"]), REGEXES),
        st.tuples(st.just("$exists"), st.booleans()),
        st.tuples(st.just("$type"), TYPE_NAMES),
        st.tuples(st.just("$not"), values),
        st.tuples(st.just("$size"), st.one_of(st.integers(0, 3), _size_operators())),
    )
    return st.lists(single, min_size=1, max_size=2).map(dict)


def _size_operators() -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(
        lambda op, n: {op: n}, st.sampled_from(["$eq", "$gt", "$lte", "$ne"]), st.integers(0, 3)
    )


def _value_conditions(conditions: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """What goes under an attribute path: a literal or operators (maybe $elemMatch)."""

    def extend(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        elem_match = st.one_of(_operator_objects(values), conditions.filter(_tests_fields))
        return st.one_of(
            _operator_objects(values),
            st.builds(lambda inner: {"$elemMatch": inner}, elem_match),
        )

    return st.recursive(json_values(), extend, max_leaves=4)


def _tests_fields(condition: dict[str, Any]) -> bool:
    """Whether $elemMatch reads this as a condition on fields rather than as operators."""
    return any(not key.startswith("$") or key in ("$and", "$or", "$nor") for key in condition)


def valid_conditions() -> st.SearchStrategy[dict[str, Any]]:
    """Conditions that compile: paths, $and, $or, $nor and $not, nested a little."""

    def extend(conditions: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        entries = st.one_of(
            st.tuples(st.sampled_from(PATHS), _value_conditions(conditions)),
            st.tuples(st.sampled_from(["$and", "$or", "$nor"]), st.lists(conditions, max_size=3)),
            st.tuples(st.just("$not"), conditions),
        )
        return st.lists(entries, max_size=3).map(dict)

    leaf = st.dictionaries(st.sampled_from(PATHS), json_values(), max_size=2)
    return st.recursive(leaf, extend, max_leaves=6)


#: Anything JSON-shaped, with operator and path keys, valid or not.
_KEYS = st.one_of(
    st.sampled_from(
        [
            "$and", "$or", "$nor", "$not", "$eq", "$in", "$lt", "$vgt", "$regex", "$size",
            "$all", "$elemMatch", "$exists", "$type", "$unknown", "a", "a.b", "", "a..b",
        ]
    ),
    st.text(max_size=4),
)  # fmt: skip
JSON_CONDITIONS = st.recursive(
    st.one_of(SCALARS, st.text(max_size=6), st.floats()),
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(_KEYS, children, max_size=3)
    ),
    max_leaves=12,
)


def value_conditions() -> st.SearchStrategy[Any]:
    """What goes under one attribute path, for testing operators against a single value."""
    return _value_conditions(valid_conditions())
