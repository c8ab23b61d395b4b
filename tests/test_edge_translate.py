"""Conditions and patterns rewritten for GrowthBook's JavaScript SDK, and the attribute contract."""

from __future__ import annotations

import json
import re
import string
import warnings
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from personalize.edge.contract import check_path
from personalize.edge.regex import IGNORECASE_CLASSES, Unsupported, javascript_pattern
from personalize.edge.translate import OriginOnly, edge_condition
from tests.rules.strategies import valid_conditions


def _edge(condition: dict[str, Any]) -> dict[str, Any]:
    return edge_condition(condition, check_path)


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"geo.country": "DE"}, {"geo.country": {"$eq": "DE"}}),
        ({"time.hour": 0}, {"time.hour": {"$eq": 0}}),
        ({"gpc": True}, {"gpc": {"$eq": True}}),
        ({"geo.city": None}, {"geo.city": {"$eq": None}}),
        ({"consent": ["necessary"]}, {"consent": ["necessary"]}),
        ({"time.hour": {"$lt": 10}}, {"time.hour": {"$lt": 10, "$type": "number"}}),
        (
            {"time.date": {"$gte": "2026-01-01"}},
            {"time.date": {"$gte": "2026-01-01", "$type": "string"}},
        ),
        (
            {"page.path": {"$regex": "^/blog/"}},
            {"page.path": {"$regex": "^/blog/", "$type": "string"}},
        ),
        (
            {"page.path": {"$notRegex": "x$"}},
            {"page.path": {"$not": {"$type": "string", "$regex": "x(?=\\n?$)"}}},
        ),
        ({"query.v": {"$vgt": "1.2"}}, {"query.v": {"$vgt": "1.2", "$type": "string"}}),
        ({"query.v": {"$vne": "1.2"}}, {"query.v": {"$not": {"$type": "string", "$veq": "1.2"}}}),
        ({"time.month": {"$vlt": 6}}, {"time.month": {"$vlt": 6, "$type": "number"}}),
        (
            {"consent": {"$alli": ["Analytics"], "$all": ["necessary"]}},
            {
                "consent": {
                    "$all": [{"$type": "string", "$ini": ["Analytics"]}, {"$eq": "necessary"}]
                }
            },
        ),
        ({"geo.city": {}}, {"geo.city": {"$nin": []}}),
        ({"query.x": {"$gt": 5, "$regex": "a"}}, {"query.x": {"$in": []}}),
        ({"query.x": {"$type": "string", "$lt": 5}}, {"query.x": {"$in": []}}),
        ({"geo.country": {"$not": "DE"}}, {"geo.country": {"$not": {"$eq": "DE"}}}),
        ({"consent": {"$size": {"$gt": 1}}}, {"consent": {"$size": {"$gt": 1, "$type": "number"}}}),
        (
            {"consent": {"$elemMatch": {"length": 3}}},
            {"consent": {"$elemMatch": {"length": {"$eq": 3}}}},
        ),
        (
            {"$or": [{"query.ref": "a"}], "$not": {"gpc": False}},
            {"$or": [{"query.ref": {"$eq": "a"}}], "$not": {"gpc": {"$eq": False}}},
        ),
        (
            {"geo.country": {"$in": ["DE"], "$exists": True}},
            {"geo.country": {"$in": ["DE"], "$exists": True}},
        ),
    ],
)
def test_conditions_are_rewritten_to_compare_strictly(
    condition: dict[str, Any], expected: dict[str, Any]
) -> None:
    assert _edge(condition) == expected


@pytest.mark.parametrize(
    ("condition", "reason"),
    [
        ({"device.type": "mobile"}, 'the attribute "device.type" is known only at the origin'),
        ({"geo": {"country": "DE"}}, '"geo" is not an attribute the edge computes'),
        ({"geo.country.x": "DE"}, 'reads into geo.country (of type string)'),
        ({"consent": {"a": 1}}, "it compares a whole object"),
        ({"query.toString": "x"}, "names 'toString', which every object has in JS"),
        ({"consent": {"$elemMatch": {"$savedGroup": 1, "a": 1}}}, 'the path "$savedGroup"'),
        ({"consent": {"$elemMatch": {"map": 1}}}, "names 'map'"),
        ({"time.hour": 2**60}, "the integer 1152921504606846976 is beyond"),
        ({"time.hour": float("inf")}, "a number that is not finite"),
        ({"query.q": {"$regex": "a", "$regexi": "b"}}, "two $regex tests under one path"),
        ({"query.q": {"$not": "a", "$vne": "1"}}, "several negations under one path"),
        ({"query.q": {"$regex": "\\d"}}, "the regular expression '\\\\d': the escape \\d"),
        ({"query.v": {"$vgt": "1.\uff01"}}, "orders differently in JavaScript"),
        ({"query.v": {"$vlte": "v2.😀-rc"}}, "orders differently in JavaScript"),
        ({"query.q": {"$ini": ["ok", "\u0264"]}}, "holds 'ɤ' (U+0264), whose case mapping"),
        ({"query.q": {"$nini": ["\ua7cb"]}}, "(U+A7CB), whose case mapping differs"),
        ({"consent": {"$alli": ["x\u0138"]}}, "(U+0138), whose case mapping differs"),
    ],
)
def test_what_the_edge_cannot_evaluate_says_why(condition: dict[str, Any], reason: str) -> None:
    with pytest.raises(OriginOnly, match=re.escape(reason)):
        _edge(condition)


def test_the_contract_allows_array_steps_and_query_names() -> None:
    assert check_path("consent.length") is None
    assert check_path("consent.0") is None
    assert check_path("query.utm_source") is None
    assert check_path("consent.01") == 'the path "consent.01" reads into consent (of type array)'
    assert check_path("visitor.score") == (
        'the attribute "visitor.score" is known only at the origin: the stored profile'
    )


@pytest.mark.parametrize(
    ("pattern", "insensitive", "expected"),
    [
        ("^/blog/", False, "^/blog/"),
        ("\\.html$", False, "\\.html(?=\\n?$)"),
        ("a.*b", False, "a[^\\n]*b"),
        ("^/p/[0-9]+$", False, "^/p/[0-9]+(?=\\n?$)"),
        ("sale", True, "[Ssſ][Aa][Ll][Ee]"),
        ("(?:x|y){2,3}?", False, "(?:x|y){2,3}?"),
        ("(?<=a)b(?!c)", False, "(?<=a)b(?!c)"),
        ("[^/]+/.*", False, "[^/]+/[^\\n]*"),
        ("a}]", False, "a\\}\\]"),
        ("é", False, "é"),
        ("[0-9-]+", True, "[0-9-]+"),
    ],
)
def test_patterns_are_rewritten(pattern: str, insensitive: bool, expected: str) -> None:
    assert javascript_pattern(pattern, insensitive) == expected


@pytest.mark.parametrize(
    ("pattern", "insensitive", "reason"),
    [
        ("\\d+", False, "the escape \\d"),
        ("\\bword", False, "the escape \\b"),
        ("(a)\\1", False, "the escape \\1"),
        ("a.", False, '"." and negated classes only before * or +'),
        ("[^a]?", False, '"." and negated classes only before * or +'),
        (".+x.+", False, 'more than one "." or negated class repeated with +'),
        ("(.+){2}", False, "a counted repeat {m,n} of a group"),
        ("(?=a)?", False, "a quantifier that repeats nothing or a lookaround"),
        ("(?P<n>a)", False, "a group of the form (?...)"),
        ("(?i)a", False, "a group of the form (?...)"),
        ("a{,3}", False, 'a "{" that is not a quantifier'),
        ("a++", False, "a possessive quantifier"),
        ("[]a]", False, 'a "]" first in a class'),
        ("[a--b]", False, "'--' inside a class"),
        ("😀", False, "outside the Basic Multilingual Plane"),
        ("a\ud83d", False, "or surrogates"),
        ("é", True, "the letter 'é' with $regexi"),
        ("[a-z]", True, "letters inside a class with $regexi"),
        ("[!-~]", True, "a range other than digits inside a class with $regexi"),
    ],
)
def test_patterns_read_differently_are_refused(
    pattern: str, insensitive: bool, reason: str
) -> None:
    with pytest.raises(Unsupported, match=re.escape(reason)):
        javascript_pattern(pattern, insensitive)


def test_ignorecase_classes_are_what_python_accepts() -> None:
    characters = [chr(code) for code in range(0x10000) if not 0xD800 <= code <= 0xDFFF]
    for letter in string.ascii_lowercase:
        matches = re.compile(letter, re.IGNORECASE).fullmatch
        accepted = "".join(char for char in characters if matches(char))
        assert accepted == "".join(sorted(IGNORECASE_CLASSES[letter])), letter


@settings(max_examples=300, deadline=None)
@given(valid_conditions())
def test_any_valid_condition_is_rewritten_or_refused(condition: dict[str, Any]) -> None:
    try:
        rewritten = edge_condition(condition, lambda path: None)
    except OriginOnly as exc:
        assert str(exc)
        return
    # What the manifest sends is plain JSON that JavaScript reads back unchanged.
    assert json.loads(json.dumps(rewritten, allow_nan=False)) == rewritten


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab.^$*+?{}[]()|\\-dé,0123:=!<P", max_size=8), st.booleans())
def test_any_python_pattern_is_rewritten_or_refused(pattern: str, insensitive: bool) -> None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # "possible nested set": still valid
            re.compile(pattern)
    except (re.error, OverflowError, RecursionError):
        return
    try:
        rewritten = javascript_pattern(pattern, insensitive)
    except Unsupported as exc:
        assert str(exc)
        return
    assert isinstance(rewritten, str)


def test_safe_unicode_is_still_evaluated_at_the_edge() -> None:
    # Equality of versions, orders below U+D800 and letters with both cases stay at the edge.
    assert _edge({"query.v": {"$veq": "1.😀"}}) == {"query.v": {"$veq": "1.😀", "$type": "string"}}
    assert _edge({"query.v": {"$vgt": "1.é+\uffff"}}) == {
        "query.v": {"$vgt": "1.é+\uffff", "$type": "string"}
    }
    assert _edge({"query.q": {"$ini": ["München", "ǅ", "ας"]}}) == {
        "query.q": {"$ini": ["München", "ǅ", "ας"]}
    }
    assert _edge({"consent": {"$alli": ["ß", 1]}}) == {
        "consent": {"$all": [{"$type": "string", "$ini": ["ß"]}, {"$eq": 1}]}
    }
