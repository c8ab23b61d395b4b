"""The attribute contract: which visitor attributes the edge computes, their types and sources.

An edge (a Next.js middleware, a CDN worker) sees one request: its URL, headers, cookies and
the location the CDN derives from the address. From those it computes some attributes exactly
as the origin does (``docs/how-to/edge/attributes.mjs`` is the reference implementation).
Others need what only the origin has: the session (``user.*``), the stored profile
(``visitor.*``), the landing attribution kept for the visit in a signed cookie
(``referral.*``), the user agent parser's families (``device.*``), the active language
(``page.locale``). A segment that reads one of those is origin-only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["ATTRIBUTES", "Attribute", "check_path", "contract"]


@dataclass(frozen=True, slots=True)
class Attribute:
    """One attribute (or family of attributes, ``query.*``) in the contract.

    Attributes:
        path: The dotted path; ``query.*`` stands for every query parameter.
        type: The JSON type of a known value (unknown is null): ``string``, ``integer``,
            ``boolean`` or ``array`` (of strings).
        source: Where the edge computes it from, or why only the origin can.
        edge: Whether the edge computes it exactly.
    """

    path: str
    type: str
    source: str
    edge: bool = True


_TIME_SOURCE = (
    "the visitor's local time in the zone geo.timezone, else the {tz} cookie, else the "
    "manifest's time_zone"
)

#: Every attribute the origin computes, in the order of docs/reference/attributes.md.
ATTRIBUTES: tuple[Attribute, ...] = (
    Attribute(
        "geo.country",
        "string",
        "the CDN's country code, upper case; only codes in the manifest's continents",
    ),
    Attribute("geo.region", "string", 'the CDN\'s subdivision code, written "DE-BY"'),
    Attribute("geo.city", "string", "the CDN's city, decoded, whitespace collapsed"),
    Attribute("geo.continent", "string", "the CDN's continent code, else the country's"),
    Attribute("geo.timezone", "string", "the CDN's IANA time zone, if valid"),
    Attribute("time.hour", "integer", _TIME_SOURCE + " (0-23)"),
    Attribute("time.minute", "integer", _TIME_SOURCE + " (0-59)"),
    Attribute("time.weekday", "integer", _TIME_SOURCE + " (ISO: 1 = Monday)"),
    Attribute("time.month", "integer", _TIME_SOURCE + " (1-12)"),
    Attribute("time.date", "string", _TIME_SOURCE + ' ("YYYY-MM-DD")'),
    Attribute("time.time", "string", _TIME_SOURCE + ' ("HH:MM")'),
    Attribute("time.timezone", "string", "the zone the time.* attributes use"),
    Attribute(
        "query.*",
        "string",
        "the URL's query: the last value of each parameter, the first query_parameter_limit "
        "names, values cut to 200 characters",
    ),
    Attribute("page.path", "string", "the URL's path, percent-decoded"),
    Attribute(
        "consent",
        "array",
        "the {consent} cookie (v1:purposes:time), the Sec-GPC header and consent_mode",
    ),
    Attribute("gpc", "boolean", 'the Sec-GPC header is "1"'),
    Attribute("page.locale", "string", "the active language", edge=False),
    Attribute("device.*", "string", "ua-parser families and device rules", False),
    Attribute(
        "referral.*",
        "string",
        "the visit's landing attribution, kept in a signed cookie",
        edge=False,
    ),
    Attribute("user.*", "string", "the logged-in user", edge=False),
    Attribute("visitor.*", "string", "the stored profile", edge=False),
)

_EXACT = {a.path: a for a in ATTRIBUTES if not a.path.endswith(".*")}
_FAMILIES = {a.path[:-2]: a for a in ATTRIBUTES if a.path.endswith(".*")}
# What an array attribute's path may read below it.
_ARRAY_INDEX_DIGITS = 10


def _attribute(path: str) -> tuple[Attribute | None, str]:
    """The contract entry a path reads and what is left of the path below it."""
    names = path.split(".")
    for length in range(len(names), 0, -1):
        head, rest = ".".join(names[:length]), ".".join(names[length:])
        if head in _EXACT:
            return _EXACT[head], rest
        if length < len(names) and head in _FAMILIES:
            return _FAMILIES[head], ".".join(names[length + 1 :])
    return None, ""


def check_path(path: str) -> str | None:
    """Tell whether the edge computes an attribute path.

    Args:
        path: A dotted attribute path from a condition.

    Returns:
        None when the edge computes it exactly, else the reason the segment is origin-only.
    """
    attribute, rest = _attribute(path)
    if attribute is None:
        return f'"{path}" is not an attribute the edge computes'
    if not attribute.edge:
        return f'the attribute "{path}" is known only at the origin: {attribute.source}'
    if not rest:
        return None
    if attribute.type == "array" and "." not in rest and _is_array_step(rest):
        return None
    # Reading into a string (or a number): both engines read null, but say so plainly.
    return f'the path "{path}" reads into {attribute.path} (of type {attribute.type})'


def _is_array_step(name: str) -> bool:
    if name == "length":
        return True
    return (
        name.isascii()
        and name.isdigit()
        and len(name) <= _ARRAY_INDEX_DIGITS
        and (name == "0" or name[0] != "0")
    )


def contract(consent_cookie: str, timezone_cookie: str) -> dict[str, Any]:
    """The contract as sent in the manifest: path → type, edge and source.

    Args:
        consent_cookie: The name of the consent cookie.
        timezone_cookie: The name of the cookie the time zone script sets.

    Returns:
        ``{path: {"type": ..., "edge": bool, "source": ...}}``.
    """
    return {
        a.path: {
            "type": a.type,
            "edge": a.edge,
            "source": a.source.format(consent=consent_cookie, tz=timezone_cookie),
        }
        for a in ATTRIBUTES
    }

