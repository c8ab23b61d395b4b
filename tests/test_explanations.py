"""What visitors read under "Why am I seeing this?": their values in words, not codes."""

from __future__ import annotations

import pytest

from personalize.blocks.explanations import format_value, rule_values


@pytest.mark.parametrize(
    ("path", "value", "words"),
    [
        ("time.weekday", 1, "Monday"),
        ("time.weekday", "7", "Sunday"),
        ("time.month", 12, "December"),
        ("referral.channel", "organic_search", "organic search"),
        ("referral.channel", ["email", "referral"], "email, referral"),
        ("device.type", "mobile", "mobile phone"),
        ("device.os", "Mac OS X", "macOS"),
        ("geo.country", "AT", "Austria"),
        ("geo.continent", "EU", "Europe"),
        ("geo.country", "ZZ", "ZZ"),
        ("time.hour", 19, "19"),
        ("user.authenticated", True, "yes"),
        ("visitor.score", 12.5, "12.5"),
        ("geo.city", None, "unknown"),
    ],
)
def test_values_read_as_words(path: str, value: object, words: str) -> None:
    assert format_value(value, path) == words


def test_a_rules_values_are_labelled_and_worded() -> None:
    rule = {
        "summary": "on weekday evenings from a search engine",
        "attributes": {"time.weekday": 1, "referral.channel": "organic_search", "time.hour": 19},
    }
    assert rule_values(rule) == [
        ("your weekday", "Monday"),
        ("how you arrived", "organic search"),
        ("your local hour", "19"),
    ]
