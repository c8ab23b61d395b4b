"""Padded version strings and JavaScript number formatting."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from personalize.rules.versions import js_number_string, padded_number_version, padded_version


@pytest.mark.parametrize(
    ("version", "padded"),
    [
        ("1.2.3", "    1-    2-    3-~"),
        ("v1.2.3", "    1-    2-    3-~"),
        ("1.2.3+build.7", "    1-    2-    3-~"),
        ("1.2.3-rc.1", "    1-    2-    3-rc-    1"),
        ("1-2-3", "    1-    2-    3-~"),
        ("1.2", "    1-    2"),
        ("1.2.3.4", "    1-    2-    3-    4"),
        ("123456.0.0", "123456-    0-    0-~"),
        ("", "    0"),
        ("vv1", "v1"),
        ("1.²", "    1-²"),
        ("1.0.0+b\r1", "    1-    0-0+b\r1-~"),
    ],
)
def test_padded_version(version: str, padded: str) -> None:
    assert padded_version(version) == padded


@pytest.mark.parametrize(
    ("lower", "higher"),
    [
        ("1.0.0-alpha", "1.0.0-alpha.1"),
        ("1.0.0-alpha.1", "1.0.0-alpha.beta"),
        ("1.0.0-alpha.beta", "1.0.0-beta"),
        ("1.0.0-beta.2", "1.0.0-beta.11"),
        ("1.0.0-rc.1", "1.0.0"),
        ("0.9.99", "1.0.0"),
        ("9.0.0", "10.0.0"),
        ("2.7.2+asdf", "3.0.0"),
    ],
)
def test_padded_versions_order_as_versions(lower: str, higher: str) -> None:
    assert padded_version(lower) < padded_version(higher)


@pytest.mark.parametrize(
    ("number", "text"),
    [
        (0, "0"),
        (-0.0, "0"),
        (2, "2"),
        (2.0, "2"),
        (-2.5, "-2.5"),
        (0.1, "0.1"),
        (1e-6, "0.000001"),
        (1.5e-7, "1.5e-7"),
        (123456789012345680000, "123456789012345680000"),
        (1e21, "1e+21"),
        (10**21, "1e+21"),
        (2**53 + 1, "9007199254740992"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
        (10**400, "Infinity"),
        (-(10**400), "-Infinity"),
        (float("inf"), "Infinity"),
        (float("nan"), "NaN"),
    ],
)
def test_numbers_are_written_as_javascript_writes_them(number: float, text: str) -> None:
    assert js_number_string(number) == text


@settings(max_examples=300, database=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_written_numbers_read_back_as_the_same_number(number: float) -> None:
    assert float(js_number_string(number)) == number


def test_numbers_as_versions() -> None:
    assert padded_number_version(17) == "   17"
    assert padded_number_version(1.5) == "    1-    5"
    assert padded_number_version(-1.5) == "-    1-    5-~"
