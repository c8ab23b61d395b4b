"""Version strings, as compared by ``$veq``, ``$vne``, ``$vgt``, ``$vgte``, ``$vlt``, ``$vlte``.

A version is compared through a padded form in which plain string comparison orders versions
the way people expect:

* a leading ``v`` and any ``+build`` suffix are dropped, so ``v1.2.3+7`` is ``1.2.3``;
* the version is split into parts on ``.`` and ``-``, so ``1.2.3-rc.1`` has the parts
  ``1 2 3 rc 1``;
* a version with exactly three parts (no pre-release) gets a final ``~`` part, which sorts after
  any pre-release tag: ``1.2.3-beta`` < ``1.2.3``;
* parts made of ASCII digits are left-padded with spaces to five characters, so ``9`` < ``10``.

A number used as a version is first written the way JavaScript writes it (``2`` is ``"2"``,
``1e21`` is ``"1e+21"``).
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from functools import lru_cache

# JavaScript's "." never matches a line terminator and its "$" only matches at the very end.
_PREFIX_OR_BUILD = re.compile(r"^v|\+[^\n\r\u2028\u2029]*\Z")
_PART_SEPARATOR = re.compile(r"[-.]")
_CORE_PARTS = 3
_PAD_WIDTH = 5
# Number::toString writes plain digits for decimal exponents up to 21, scientific beyond.
_MAX_PLAIN_EXPONENT = 21
_MIN_PLAIN_EXPONENT = -6


@lru_cache(maxsize=2048)
def padded_version(version: str) -> str:
    """Pad a version string so that string comparison orders versions.

    Args:
        version: A version such as ``"v1.2.3-rc.1+build5"``; empty means ``"0"``.

    Returns:
        The padded form, e.g. ``"    1-    2-    3-rc-    1"``.
    """
    parts = _PART_SEPARATOR.split(_PREFIX_OR_BUILD.sub("", version or "0"))
    if len(parts) == _CORE_PARTS:
        parts.append("~")
    return "-".join(_pad_part(part) for part in parts)


def _pad_part(part: str) -> str:
    if part.isascii() and part.isdigit():
        return part.rjust(_PAD_WIDTH, " ")
    return part


def padded_number_version(number: float) -> str:
    """Pad a number used as a version.

    Args:
        number: An ``int`` or ``float``.

    Returns:
        The padded form of the number written as JavaScript writes it.
    """
    return padded_version(js_number_string(number))


def js_number_string(number: float) -> str:
    """Write a number the way JavaScript's ``String(number)`` does.

    Args:
        number: An ``int`` or ``float``; integers are rounded to the nearest double first.

    Returns:
        For example ``"2"``, ``"0.5"``, ``"1e+21"``, ``"1.5e-7"``, ``"NaN"``, ``"-Infinity"``.
    """
    try:
        value = float(number)
    except OverflowError:
        value = math.inf if number > 0 else -math.inf
    if math.isnan(value):
        return "NaN"
    if value < 0:
        return "-" + js_number_string(-value)
    if math.isinf(value):
        return "Infinity"
    if value == 0:
        return "0"
    return _format_positive(value)


def _format_positive(value: float) -> str:
    # repr() gives the shortest digits that round-trip, as JavaScript does.
    decimal_digits, exponent = _shortest_digits(value)
    count = len(decimal_digits)
    # value == 0.<digits> * 10**point
    point = exponent + count
    if count <= point <= _MAX_PLAIN_EXPONENT:
        return decimal_digits + "0" * (point - count)
    if 0 < point <= _MAX_PLAIN_EXPONENT:
        return f"{decimal_digits[:point]}.{decimal_digits[point:]}"
    if _MIN_PLAIN_EXPONENT < point <= 0:
        return "0." + "0" * -point + decimal_digits
    mantissa = decimal_digits[0] + (f".{decimal_digits[1:]}" if count > 1 else "")
    sign = "+" if point > 0 else "-"
    return f"{mantissa}e{sign}{abs(point - 1)}"


def _shortest_digits(value: float) -> tuple[str, int]:
    """Return ``(digits, exponent)`` with ``value == int(digits) * 10**exponent``, no trailing 0."""
    parsed = Decimal(repr(value)).as_tuple()
    text = "".join(map(str, parsed.digits))
    trimmed = text.rstrip("0")
    exponent = int(parsed.exponent) + len(text) - len(trimmed)
    return trimmed, exponent
